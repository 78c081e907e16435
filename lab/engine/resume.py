"""Resuming an interrupted fit, in one place: ``fit --ckpt_path last`` (``make train RESUME=1``)
continues the newest run folder of the same run name that has a ``checkpoints/last.ckpt``, in that
folder, keeping what it logged. The CLI asks ``Resume.find`` once, ``Resume.check`` before anything is
changed (a failed resume leaves the folder as it was), and hands each piece to its user."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from lab.engine.checkpoints import LastCheckpoint
from lab.models.pretrained import read_checkpoint
from lab.utils.errors import CheckpointMismatchError, LabError, RunInterrupted

TRAINING_STATE = ("state_dict", "epoch", "global_step", "loops", "optimizer_states")


@dataclass
class Resume:
    run_dir: Path  # runs/<name>/version_N
    index: int  # 1 for the first resume of this folder, 2 for the second, ...
    wandb_id: str | None  # the W&B run to continue, if the folder has one

    @classmethod
    def find(cls, root: str | Path, name: str, purpose: str = "resume") -> Resume:
        """The newest root/name/version_N with a last.ckpt; a LabError naming the fix when there is none.
        Folders without one (a `test` or `predict` run, a fit killed in its first epoch) are passed over.
        ``purpose``: what the checkpoint is for ("resume", "test", ...), named in the error."""
        folder = Path(root) / name
        versions = sorted(
            (int(p.name.removeprefix("version_")), p)
            for p in folder.glob("version_*")
            if p.name.removeprefix("version_").isdigit()
        )
        fix = "run without --ckpt_path last" if purpose == "resume" else "train one first (`fit`) or give a .ckpt path"
        if not versions:
            raise LabError(f"--ckpt_path last: no earlier run under {folder}/ to {purpose}; {fix}")
        resumable = [p for _, p in versions if (p / "checkpoints" / "last.ckpt").is_file()]
        if not resumable:
            raise LabError(
                f"--ckpt_path last: no run folder under {folder}/ has checkpoints/last.ckpt (none finished an epoch); "
                + ("run without --ckpt_path last to start again" if purpose == "resume" else fix)
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

    def check(self, net: nn.Module, max_epochs: int | None) -> None:
        """Everything a resume needs, checked before the folder is touched: a complete, readable last.ckpt
        that fits ``net``, epochs left to train, a schedule long enough for them, a writable folder."""
        from lab.models.head import check_checkpoint_fits

        checkpoint = read_checkpoint(self.checkpoint)
        missing = [k for k in TRAINING_STATE if k not in checkpoint]
        if missing:
            raise CheckpointMismatchError(
                f"{self.checkpoint} lacks the training state ({', '.join(missing)}): it cannot be resumed; "
                "run without --ckpt_path last to start again"
            )
        check_checkpoint_fits(net, self.checkpoint)
        done = checkpoint["epoch"] + 1  # last.ckpt is written at the end of an epoch
        if max_epochs is not None and max_epochs >= 0:
            if done >= max_epochs:
                raise LabError(
                    f"--ckpt_path last: {self.run_dir} has already trained {done} epochs (--trainer.max_epochs "
                    f"{max_epochs}): nothing to resume; to train it longer give a larger --trainer.max_epochs"
                )
            _check_schedule_length(checkpoint, done, max_epochs, self.run_dir)
        _check_writable(self.checkpoint.parent)

    def keep_earlier_metrics(self) -> None:
        """CSVLogger empties metrics.csv of a folder it reopens: keep the interrupted part beside it."""
        metrics = self.run_dir / "metrics.csv"
        if metrics.is_file():
            metrics.rename(self.run_dir / f"metrics.part-{self.index}.csv")


def _check_schedule_length(checkpoint: dict[str, Any], done: int, max_epochs: int, run_dir: Path) -> None:
    """A schedule sized by the run's length (OneCycle: ``total_steps``) cannot run past its last step."""
    steps_per_epoch = checkpoint["global_step"] / done
    for schedule in checkpoint.get("lr_schedulers") or []:
        total = schedule.get("total_steps") if isinstance(schedule, dict) else None
        if total and max_epochs * steps_per_epoch > total:
            planned = int(total // steps_per_epoch) if steps_per_epoch else 0
            raise LabError(
                f"--ckpt_path last: {run_dir} was trained with a learning-rate schedule planned for {planned} epochs "
                f"({total} steps), which cannot be stretched to --trainer.max_epochs {max_epochs}; resume with "
                f"--trainer.max_epochs {planned} or lower, or start a new run (without --ckpt_path last)"
            )


def _check_writable(folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise LabError(
            f"--ckpt_path last: cannot write in {folder} ({exc.strerror or exc}); make it writable to resume there"
        ) from exc


@contextmanager
def interrupted(trainer):
    """Around trainer.fit: Lightning answers Ctrl-C by saving what it can and exiting with status 1; this
    turns that exit into RunInterrupted, whose line says the epoch reached and how to continue."""
    try:
        yield
    except SystemExit as exc:
        if exc.code != 1 or not trainer.interrupted:
            raise
        raise RunInterrupted(_where_stopped(trainer)) from None


def _where_stopped(trainer) -> str:
    epochs = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
    stopped = f"stopped by Ctrl-C in epoch {trainer.current_epoch + 1}{epochs}"
    last = next((c for c in trainer.callbacks if isinstance(c, LastCheckpoint)), None)
    if last is None or not last.best_model_path or trainer.current_epoch == 0:
        return f"{stopped}, before any epoch finished: nothing to resume, run the command again"
    return (
        f"{stopped}; {last.best_model_path} holds the {trainer.current_epoch} finished epoch(s): continue with "
        "`make train RESUME=1` (or the same command plus --ckpt_path last)"
    )
