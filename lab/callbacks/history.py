"""EpochHistory: every epoch's metrics kept in memory, so that code that trains a model reads its
curves from the run itself (``lab.train.run`` returns them) instead of from metrics.csv. Its rows travel
in the checkpoint, so a resumed run's history holds every epoch once, as an uninterrupted run's does, and
a finished run folder gives them back from checkpoints/last.ckpt (``saved_history``): the one source of a
run's epoch rows."""

from __future__ import annotations

from pathlib import Path

import lightning as L

from lab.models.pretrained import read_checkpoint
from lab.utils.errors import LabError

EPOCH_KEYS = ("train/loss", "train/acc", "val/loss", "val/acc", "train_eval/loss", "train_eval/acc")


class EpochHistory(L.Callback):
    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []
        self._restored: list[dict[str, float]] | None = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        row = {"epoch": trainer.current_epoch}
        row.update({k: float(metrics[k]) for k in EPOCH_KEYS if k in metrics})
        lrs = [g["lr"] for g in trainer.optimizers[0].param_groups] if trainer.optimizers else []
        if lrs:
            row["lr"] = lrs[0]
        self.epochs.append(row)

    def state_dict(self) -> dict:
        return {"epochs": [dict(row) for row in self.epochs]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Kept aside until training starts: testing a checkpoint also loads callback states, and must not
        replace the history of the run that just trained with the checkpoint's."""
        self._restored = [dict(row) for row in state_dict.get("epochs", [])]

    def on_train_start(self, trainer, pl_module) -> None:
        restored, self._restored = self._restored, None
        if restored is not None:  # a resumed fit: the epochs before the checkpoint
            self.epochs = restored


def saved_history(checkpoint: str | Path) -> list[dict[str, float]]:
    """The epoch rows EpochHistory saved in ``checkpoint``: the epochs up to the one it was written after. A
    run's checkpoints/last.ckpt is rewritten after every epoch (lab.checkpoints.LastCheckpoint), so its rows
    are every epoch of the run once, also of a resumed run: the same rows, as the same floats, that
    ``lab.train.run`` returned when the run trained. LabError when the file cannot be read or holds none."""
    state = read_checkpoint(checkpoint).get("callbacks", {}).get(EpochHistory().state_key)
    if state is None:
        raise LabError(f"checkpoint {checkpoint} holds no epoch history (EpochHistory): it was not written by `fit`.")
    return [dict(row) for row in state["epochs"]]
