"""Run folders and loggers: CSV always, Weights & Biases offline unless the user is logged in."""

from __future__ import annotations

import functools
import netrc
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch.loggers import CSVLogger, Logger, WandbLogger

from lab.utils.errors import LabError

WandbMode = Literal["auto", "online", "offline", "disabled"]


@dataclass
class RunConfig:
    """Where a run is written and how it is reported.

    Args:
        name: folder under root; default: the first config file's name (the experiment), else "default".
        root: every run lands in root/name/version_N, never overwriting another.
        wandb: auto = WANDB_MODE if set, online when logged in (wandb login), else offline.
        project: W&B project; default: WANDB_PROJECT, else "lab".
        entity: W&B entity (user or team); default: WANDB_ENTITY, else your default entity.
        group: W&B group; default: the run name (questions set it to the question).
        tags: extra W&B tags (network, dataset and seed are added).
        test_after_fit: after `fit`, test the best checkpoint (by val/acc) and print the summary.
    """

    name: str | None = None
    root: str = "runs"
    wandb: WandbMode = "auto"
    project: str | None = None
    entity: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    test_after_fit: bool = False


def _logged_in() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def resolve_wandb_mode(requested: WandbMode) -> Literal["online", "offline", "disabled"]:
    """auto -> WANDB_MODE when set (dryrun counts as offline), online if logged in, else offline."""
    if requested != "auto":
        return requested
    env = os.environ.get("WANDB_MODE", "").lower()
    if env in ("online", "offline", "disabled"):
        return env
    if env == "dryrun":
        return "offline"
    return "online" if _logged_in() else "offline"


def wandb_project(project: str | None = None) -> str:
    """--run.project, else WANDB_PROJECT, else "lab": training runs and figures land in one project."""
    return project or os.environ.get("WANDB_PROJECT") or "lab"


def wandb_entity(entity: str | None = None) -> str | None:
    return entity or os.environ.get("WANDB_ENTITY") or None


@functools.cache
def _quiet_settings(mode: str):
    """W&B without banners or per-run summaries (the run summary line names the W&B folder); set up
    before the first run, so that W&B's own start-up warnings follow it too."""
    import wandb

    settings = wandb.Settings(silent=True, mode=mode)
    wandb.setup(settings)
    return settings


def claim_version(root: str | Path, name: str) -> int:
    """The next free root/name/version_N, created here and now: runs started at the same moment (seeds in
    worker processes, two terminals) never share a folder."""
    folder = Path(root) / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # a folder that exists but cannot be written fails here
            pass
    except OSError as exc:
        raise LabError(
            f"cannot write run folders under {root} ({exc.strerror or exc}); give --run.root a writable folder"
        ) from exc
    taken = [p.name.removeprefix("version_") for p in folder.glob("version_*")]
    version = max((int(t) for t in taken if t.isdigit()), default=-1) + 1
    while True:
        try:
            (folder / f"version_{version}").mkdir()
            return version
        except FileExistsError:
            version += 1


def build_loggers(
    run: RunConfig, name: str, tags: list[str] | None = None, version: int | None = None, wandb_id: str | None = None
) -> list[Logger]:
    """CSVLogger first (its folder is the run folder), then a WandbLogger writing inside it.
    ``version``/``wandb_id``: reopen an existing run folder and W&B run (resuming)."""
    mode = resolve_wandb_mode(run.wandb)
    if mode == "online" and not _logged_in():
        raise LabError(
            "W&B online logging needs a login: run `wandb login` (or set WANDB_API_KEY), "
            "or use --run.wandb offline (upload later with make wandb-sync)"
        )
    version = claim_version(run.root, name) if version is None else version
    csv = CSVLogger(save_dir=run.root, name=name, version=version)
    run_dir = Path(csv.log_dir)  # both loggers share this folder
    loggers: list[Logger] = [csv]
    if mode != "disabled":
        loggers.append(
            WandbLogger(
                project=wandb_project(run.project),
                entity=wandb_entity(run.entity),
                name=f"{name}/{run_dir.name}",
                save_dir=str(run_dir),
                offline=mode == "offline",
                group=run.group or name,
                tags=sorted(set(run.tags) | set(tags or [])),
                log_model=mode == "online",
                settings=_quiet_settings(mode),
                **({"id": wandb_id, "resume": "allow"} if wandb_id else {}),
            )
        )
    return loggers


def wandb_logger(loggers: list[Logger]) -> WandbLogger | None:
    return next((logger for logger in loggers if isinstance(logger, WandbLogger)), None)


def finish_wandb(loggers: list[Logger]) -> str | None:
    """End this run's W&B run, so that the next fit in the same process starts its own and the offline
    files are complete; returns its local folder (what `make wandb-sync` uploads)."""
    logger = wandb_logger(loggers)
    if logger is None:
        return None
    local = str(Path(logger.experiment.dir).parent)
    logger.experiment.finish()
    return local


def log_confusion(loggers: list[Logger], matrix: torch.Tensor, classes: list[str]) -> None:
    """The test confusion matrix: confusion_matrix.csv in the run folder, a table in W&B."""
    rows = [[true, *map(int, matrix[i])] for i, true in enumerate(classes)]
    for logger in loggers:
        if isinstance(logger, CSVLogger) and logger.log_dir:
            lines = [",".join(["true \\ predicted", *classes])] + [",".join(map(str, r)) for r in rows]
            Path(logger.log_dir, "confusion_matrix.csv").write_text("\n".join(lines) + "\n")
        elif isinstance(logger, WandbLogger):
            logger.log_table("test/confusion_matrix", columns=["true \\ predicted", *classes], data=rows)


def log_figures(question: str, folder: Path, project: str | None = None) -> str | None:
    """Log every PNG of a question's results folder as a W&B image, in a run of the question's group
    (job type "figures"); offline unless logged in. Returns the local W&B run folder, if any."""
    figures = sorted(folder.glob("*.png"))
    mode = resolve_wandb_mode("auto")
    if not figures or mode == "disabled":
        return None
    import wandb

    run = wandb.init(
        project=wandb_project(project),
        entity=wandb_entity(),
        group=question,
        job_type="figures",
        name=f"{question}/{folder.name}",
        tags=[f"question:{question}"],
        dir=str(folder),
        mode=mode,
        reinit="create_new",
        settings=_quiet_settings(mode),
    )
    run.log({f"figures/{path.stem}": wandb.Image(str(path), caption=path.name) for path in figures})
    local = str(Path(run.dir).parent)
    run.finish()
    return local
