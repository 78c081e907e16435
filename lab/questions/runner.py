"""Running a question: its command line, a fresh results folder, the typed result saved as
result.json, the answer printed, ``latest`` moved and the figures logged to W&B.

    python -m lab.questions <name> [--seeds 3] [--epochs N] [--accelerator gpu] [--config extra.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from lab import console, run_cache
from lab.blocks import to_markdown
from lab.config import EXPERIMENTS
from lab.errors import LabError
from lab.precision import uses_gpu
from lab.questions import REGISTRY, Question, discover
from lab.questions.results import (
    RESULT_FILE,
    default_root,
    finished,
    latest,
    load,
    new_run_dir,
    point_latest,
    save,
)
from lab.run_record import git_commit


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        type=Path,
        metavar="YAML",
        help="run config layered onto every training run of the question, last "
        "(e.g. experiments/smoke.yaml for tiny runs); repeatable",
    )
    parser.add_argument("--accelerator", default="auto", choices=["auto", "cpu", "gpu"], help="where to train")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per compared setting (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per training run (default: the config's)")
    parser.add_argument("--results", type=Path, default=default_root(), help="results folder (default: results/)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="training runs side by side, in their own processes (default: 2 on a CPU with 2 or "
        "more cores, 1 on a GPU)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced budgets: one seed, experiments/quick.yaml on every run (QUICK=1)"
    )
    parser.add_argument(
        "--retrain", action="store_true", help="train runs again even when an identical run finished (RETRAIN=1)"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")


def parse(question: Question, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m lab.questions {question.name}",
        description=f"{question.source}: {question.title}. {question.asks}",
    )
    common_arguments(parser)
    if question.add_arguments:
        question.add_arguments(parser)
    return resolve(parser, parser.parse_args(argv))


def resolve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """Checks the common switches and fills in the defaults that depend on the machine."""
    if args.seeds < 1 or (args.epochs is not None and args.epochs < 1) or (args.workers or 1) < 1:
        parser.error("--seeds, --epochs and --workers must be >= 1")
    if args.workers is None:
        args.workers = 1 if uses_gpu(args.accelerator) or (os.cpu_count() or 1) < 2 else 2
    if args.quick:
        args.seeds, args.config = 1, [EXPERIMENTS / "quick.yaml", *args.config]
    return args


def execute(question: Question, args: argparse.Namespace) -> Path:
    """Run ``question`` into a new results folder; returns the folder once ``latest`` points at it. A
    question that fails or is interrupted (Ctrl-C, SIGTERM) removes its folder; a killed one leaves it
    marked INCOMPLETE (lab.questions.results): no half answer is ever read as one."""
    upstream = inputs(question, args.results)  # before the folder: a missing input leaves nothing behind
    out = new_run_dir(question.name, args.results, "-quick" if args.quick else "")
    try:
        start = time.perf_counter()
        run_cache.LEDGER.reset()
        result = question.run(args, out, **upstream)
        save(result, out)
        record(out, args, time.perf_counter() - start)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    finished(out)
    if run_cache.LEDGER.trained or run_cache.LEDGER.reused:
        console.info(f"[lab] {question.name}: {cache_summary(run_cache.LEDGER)}")
    console.info(f"\n# {question.source}: {question.title}\n\n" + to_markdown(question.render(result, out)))
    point_latest(out)
    log_figures(question.name, out)
    console.info(f"[lab] {question.name}: results in {out}")
    return out


def record(out: Path, args: argparse.Namespace, seconds: float) -> None:
    """run.json: how the answer was made (switches, layered configs, time, commit), for the report."""
    info = {
        "quick": args.quick,
        "seeds": args.seeds,
        "epochs": args.epochs,
        "configs": [str(c) for c in args.config],
        "workers": args.workers,
        "accelerator": args.accelerator,
        "seconds": round(seconds, 1),
        "argv": sys.argv,
        "git_commit": git_commit(),
    }
    ledger = run_cache.LEDGER
    info |= {
        "runs_trained": len(ledger.trained),
        "runs_reused": len(ledger.reused),
        "reused_from": sorted(set(ledger.reused)),
    }
    (out / "run.json").write_text(json.dumps(info, indent=1) + "\n")


def cache_summary(ledger: run_cache.Ledger) -> str:
    """One line: how many training runs the question trained and how many it reused from the run cache."""
    total = len(ledger.trained) + len(ledger.reused)
    if not ledger.reused:
        return f"{total} training run(s), all trained"
    return (
        f"{total} training run(s): {len(ledger.trained)} trained, {len(ledger.reused)} reused from earlier "
        "identical runs (RETRAIN=1 trains them again)"
    )


def log_figures(name: str, folder: Path) -> None:
    """The question's figures to W&B (group = question); a W&B failure never loses the results."""
    from lab.loggers import log_figures as log

    try:
        local = log(name, folder)
    except Exception as exc:  # noqa: BLE001 - W&B problems must not fail a finished question
        console.warn(f"[lab] figures not logged to W&B ({type(exc).__name__}: {exc}); results are in {folder}")
        return
    if local:
        console.info(f"[lab] figures logged to W&B run {local}   (upload: make wandb-sync)")


def latest_result(name: str, root: Path) -> Any:
    """Question ``name``'s latest finished typed result under ``root``; None if it has none."""
    folder = latest(name, root)
    if folder is None or not (folder / RESULT_FILE).is_file():
        return None
    discover()  # the reader may run before the module of ``name`` was imported
    return load(REGISTRY[name].result_type, folder)


def missing_input(name: str, root: Path, reader: str) -> LabError:
    """The one line a reader stops with when a question it reads has no results yet."""
    return LabError(
        f"no {name} results under {root}/: run `make {name.replace('_', '-')}` first ({reader} reads them)."
    )


def read_results(root: Path, reads: tuple[str, ...] = (), may_read: tuple[str, ...] = (), reader: str = "") -> dict:
    """name -> latest typed result of each question read (None for a ``may_read`` one not run yet); a
    missing ``reads`` one stops with the command that makes it. Questions get theirs through ``inputs``;
    lab.questions.pretrain, not a question, calls it itself."""
    found = {name: latest_result(name, root) for name in (*reads, *may_read)}
    for name in reads:
        if found[name] is None:
            raise missing_input(name, root, reader)
    return found


def inputs(question: Question, root: Path) -> dict:
    """The keyword arguments ``question.run`` takes besides (args, out): the results it declares it reads."""
    return read_results(root, question.reads, question.may_read, question.name)


def main(question: Question, argv: list[str] | None = None) -> Path:
    """``python -m lab.questions <name>``: a LabError or ValueError becomes one line and exit status 2."""
    console.setup()
    args = parse(question, sys.argv[1:] if argv is None else argv)
    with console.user_errors(args.debug):
        return execute(question, args)
