"""Resuming an interrupted fit: ``--ckpt_path last`` (``make train RESUME=1``) continues the newest
run folder of the same run name from its last.ckpt, in that same folder, keeping what it logged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.errors import LabError


@dataclass
class Resume:
    version: int  # the run folder's version_N
    checkpoint: Path  # its checkpoints/last.ckpt
    index: int  # 1 for the first resume of this folder, 2 for the second, ...
    wandb_id: str | None  # the W&B run to continue, if the folder has one

    @property
    def run_dir(self) -> Path:
        return self.checkpoint.parent.parent


def find_resume(root: str | Path, name: str) -> Resume:
    """The newest root/name/version_N and its last.ckpt; a LabError naming the fix when there is none."""
    folder = Path(root) / name
    versions = sorted(
        (int(p.name.removeprefix("version_")), p)
        for p in folder.glob("version_*")
        if p.name.removeprefix("version_").isdigit()
    )
    if not versions:
        raise LabError(f"--ckpt_path last: no earlier run under {folder}/ to resume; run without --ckpt_path last")
    version, run_dir = versions[-1]
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise LabError(
            f"--ckpt_path last: {run_dir} has no checkpoints/last.ckpt (it stopped before its first epoch ended); "
            "run without --ckpt_path last to start again"
        )
    index = 1 + len(list(run_dir.glob("metrics.part-*.csv")))
    wandb_runs = sorted(run_dir.glob("wandb/*run-*"))
    wandb_id = wandb_runs[-1].name.rsplit("-", 1)[-1] if wandb_runs else None
    return Resume(version, last, index, wandb_id)


def keep_earlier_metrics(resume: Resume) -> None:
    """CSVLogger empties metrics.csv of a folder it reopens: keep the interrupted part beside it."""
    metrics = resume.run_dir / "metrics.csv"
    if metrics.is_file():
        metrics.rename(resume.run_dir / f"metrics.part-{resume.index}.csv")
