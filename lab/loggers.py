"""Run folders and loggers: CSV always, Weights & Biases offline unless the user is logged in."""

from __future__ import annotations

import netrc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lightning.pytorch.loggers import CSVLogger, Logger, WandbLogger

WandbMode = Literal["auto", "online", "offline", "disabled"]


@dataclass
class RunConfig:
    """Where a run is written and how it is reported."""

    name: str | None = None  # folder under root (default: the config file's name, else "default")
    root: str = "runs"  # every run lands in root/name/version_N, never overwriting another
    wandb: WandbMode = "auto"  # auto = WANDB_MODE if set, online when logged in, else offline
    project: str = "lab"  # W&B project
    group: str | None = None  # W&B group (default: the run name)
    tags: list[str] = field(default_factory=list)  # W&B tags
    test_after_fit: bool = False  # after `fit`, test the best checkpoint and print the summary


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


def build_loggers(
    run: RunConfig, name: str, tags: list[str] | None = None, version: int | None = None, wandb_id: str | None = None
) -> list[Logger]:
    """CSVLogger first (its folder is the run folder), then a WandbLogger writing inside it.
    ``version``/``wandb_id``: reopen an existing run folder and W&B run (resuming)."""
    csv = CSVLogger(save_dir=run.root, name=name, version=version)
    run_dir = Path(csv.log_dir)  # fixes version_N now, so both loggers share one folder
    run_dir.mkdir(parents=True, exist_ok=True)
    loggers: list[Logger] = [csv]
    mode = resolve_wandb_mode(run.wandb)
    if mode != "disabled":
        loggers.append(
            WandbLogger(
                project=run.project,
                name=f"{name}/{run_dir.name}",
                save_dir=str(run_dir),
                offline=mode == "offline",
                group=run.group or name,
                tags=sorted(set(run.tags) | set(tags or [])),
                log_model=mode == "online",
                **({"id": wandb_id, "resume": "allow"} if wandb_id else {}),
            )
        )
    return loggers


def wandb_run_dir(loggers: list[Logger]) -> str | None:
    """The local folder of the W&B run (what `wandb sync` uploads), if one was started."""
    for logger in loggers:
        if isinstance(logger, WandbLogger) and logger._experiment is not None:
            return str(Path(logger.experiment.dir).parent)
    return None


def finish_wandb(loggers: list[Logger]) -> None:
    """End this run's W&B run, so that the next fit in the same process starts its own (the
    WandbLogger would otherwise reuse the active run) and the offline files are complete."""
    for logger in loggers:
        if isinstance(logger, WandbLogger) and logger._experiment is not None:
            logger.experiment.finish()


def log_figures(question: str, folder: Path, project: str | None = None) -> str | None:
    """Log every PNG of a question's results folder as a W&B image, in a run of the question's group
    (job type "figures"); offline unless logged in. Returns the local W&B run folder, if any."""
    figures = sorted(folder.glob("*.png"))
    mode = resolve_wandb_mode("auto")
    if not figures or mode == "disabled":
        return None
    import wandb

    run = wandb.init(
        project=project or os.environ.get("WANDB_PROJECT", "lab"),
        group=question,
        job_type="figures",
        name=f"{question}/{folder.name}",
        tags=[f"question:{question}"],
        dir=str(folder),
        mode=mode,
        reinit="create_new",
    )
    run.log({f"figures/{path.stem}": wandb.Image(str(path), caption=path.name) for path in figures})
    local = str(Path(run.dir).parent)
    run.finish()
    return local
