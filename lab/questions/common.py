"""What every question shares: a fresh results folder per run, JSON written once, SMOKE mode."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from lab.paths import REPO_ROOT

RESULTS_ROOT = Path(os.environ.get("LAB_RESULTS_DIR", REPO_ROOT / "results"))


def smoke() -> bool:
    """SMOKE=1: tiny settings so a question's whole code path runs in seconds (tests, CI)."""
    return os.environ.get("SMOKE", "0") not in ("", "0", "false", "False")


def new_run_dir(question: str, root: Path | None = None) -> Path:
    """results/<question>/<timestamp>[-k]/, never an existing folder. ``publish`` points `latest` at it
    once the question has finished, so `latest` never names a half-written run."""
    base = (root or RESULTS_ROOT) / question
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S") + ("-smoke" if smoke() else "")
    run_dir, k = base / stamp, 1
    while True:
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            k += 1
            run_dir = base / f"{stamp}-{k}"
    return run_dir


def publish(run_dir: Path) -> Path:
    """Point results/<question>/latest at a finished run folder (atomically)."""
    latest = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)  # atomic: readers never see a missing link
    _log_figures(run_dir)
    return run_dir


def _log_figures(run_dir: Path) -> None:
    """The question's figures to W&B (group = question); a W&B failure never loses the results."""
    from lab.loggers import log_figures

    try:
        local = log_figures(run_dir.parent.name, run_dir)
    except Exception as exc:  # noqa: BLE001 - W&B problems must not fail a finished question
        print(f"[lab] warning: figures not logged to W&B ({type(exc).__name__}: {exc}); results are in {run_dir}")
        return
    if local:
        print(f"[lab] figures logged to W&B run {local}   (upload: make wandb-sync)")


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


EXPERIMENTS = REPO_ROOT / "experiments"


def smoke_overrides() -> list[str]:
    """CLI overrides that make any fit tiny: 1 epoch of 2 batches, 1 validation batch."""
    if not smoke():
        return []
    return [
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2",
        "--trainer.limit_val_batches", "1",
        "--data.init_args.batch_size", "16",
        "--trainer.precision", "32-true",
    ]  # fmt: skip


def fit(
    config: str | list[str],
    run_name: str,
    overrides: list[str],
    cli_args: list[str],
    test: bool = True,
    exit_on_error: bool = True,
):
    """Train experiments/<config>.yaml (several: later ones override) through the same CLI as
    `python -m lab fit`; return the LabCLI.

    ``cli_args`` are the user's pass-through arguments (e.g. --trainer.accelerator gpu), applied last.
    ``exit_on_error=False`` lets a LabError reach the caller instead of ending the process.
    """
    from lab.cli import build_cli
    from lab.cli import main as cli_main

    configs = [config] if isinstance(config, str) else config
    args = [
        "fit", *(a for c in configs for a in ("--config", str(EXPERIMENTS / f"{c}.yaml"))),
        "--run.name", run_name, "--run.group", run_name.split("/")[0], "--run.test_after_fit", str(test).lower(),
        *smoke_overrides(), *overrides, *cli_args,
    ]  # fmt: skip
    return cli_main(args) if exit_on_error else build_cli(args)


def base_parser(description: str):
    """argparse with the switches every training question shares; unknown args go to the CLI."""
    import argparse

    parser = argparse.ArgumentParser(
        description=description,
        epilog="Any other argument (e.g. --trainer.accelerator gpu, --data.init_args.data_dir PATH) "
        "is passed to every training run of the question.",
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs per training run (default: the config's)")
    return parser


def run_main(main) -> None:
    """``python -m lab.questions.X``: a LabError or ValueError becomes one line and exit status 2."""
    import sys

    from lab.errors import LabError

    debug = "--debug" in sys.argv
    argv = [a for a in sys.argv[1:] if a != "--debug"]
    try:
        main(argv)
    except (LabError, ValueError) as exc:
        if debug:
            raise
        print(f"error: {exc}\n(run again with --debug for the traceback)", file=sys.stderr)
        sys.exit(2)
