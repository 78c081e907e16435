"""Resuming an interrupted fit, in one place: ``fit --ckpt_path last`` (``make train RESUME=1``)
continues the newest run folder of the same run name that has a ``checkpoints/last.ckpt``, in that
folder, keeping what it logged. The CLI asks ``Resume.find`` once and hands each piece to its user."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.errors import LabError


@dataclass
class Resume:
    run_dir: Path  # runs/<name>/version_N
    index: int  # 1 for the first resume of this folder, 2 for the second, ...
    wandb_id: str | None  # the W&B run to continue, if the folder has one

    @classmethod
    def find(cls, root: str | Path, name: str) -> Resume:
        """The newest root/name/version_N with a last.ckpt; a LabError naming the fix when there is none.
        Folders without one (a `test` or `predict` run, a fit killed in its first epoch) are passed over."""
        folder = Path(root) / name
        versions = sorted(
            (int(p.name.removeprefix("version_")), p)
            for p in folder.glob("version_*")
            if p.name.removeprefix("version_").isdigit()
        )
        if not versions:
            raise LabError(f"--ckpt_path last: no earlier run under {folder}/ to resume; run without --ckpt_path last")
        resumable = [p for _, p in versions if (p / "checkpoints" / "last.ckpt").is_file()]
        if not resumable:
            raise LabError(
                f"--ckpt_path last: no run folder under {folder}/ has checkpoints/last.ckpt (none finished an epoch); "
                "run without --ckpt_path last to start again"
            )
        run_dir = resumable[-1]
        wandb_runs = sorted(run_dir.glob("wandb/*run-*"))
        wandb_id = wandb_runs[-1].name.rsplit("-", 1)[-1] if wandb_runs else None
        return cls(run_dir, 1 + len(list(run_dir.glob("metrics.part-*.csv"))), wandb_id)

    @property
    def version(self) -> int:
        return int(self.run_dir.name.removeprefix("version_"))

    @property
    def checkpoint(self) -> Path:
        return self.run_dir / "checkpoints" / "last.ckpt"

    @property
    def config_filename(self) -> str:
        """The resumed run's config beside the first one: config.resume-K.yaml (never overwritten)."""
        return f"config.resume-{self.index}.yaml"

    def keep_earlier_metrics(self) -> None:
        """CSVLogger empties metrics.csv of a folder it reopens: keep the interrupted part beside it."""
        metrics = self.run_dir / "metrics.csv"
        if metrics.is_file():
            metrics.rename(self.run_dir / f"metrics.part-{self.index}.csv")
