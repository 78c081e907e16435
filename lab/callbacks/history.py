"""EpochHistory: every epoch's metrics kept in memory, so that code that trains a model reads its
curves from the run itself (``lab.train.run`` returns them) instead of from metrics.csv. Its rows travel
in the checkpoint, so a resumed run's history holds every epoch once, as an uninterrupted run's does."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L

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


def read_epoch_metrics(run_dir: str | Path) -> list[dict[str, float]]:
    """The same rows from a run folder's metrics.csv, preceded by the metrics.part-K.csv files that an
    interrupted and resumed run left: each epoch is taken from the newest file that logged it (a resumed
    run repeats the epoch it was interrupted in), so every epoch appears once."""
    run_dir = Path(run_dir)
    parts = sorted(run_dir.glob("metrics.part-*.csv"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    files = [p for p in [*parts, run_dir / "metrics.csv"] if p.is_file()]
    if not files:
        raise FileNotFoundError(f"{run_dir} has no metrics.csv: it is not a run folder written by `fit`")
    per_epoch: dict[int, dict[str, float]] = {}
    for path in files:
        per_epoch.update(_epoch_rows(path))
    return [e for _, e in sorted(per_epoch.items()) if "train/loss" in e or "val/acc" in e]


def _epoch_rows(path: Path) -> dict[int, dict[str, float]]:
    """{epoch: its metrics} of one metrics CSV, the rows of each epoch merged."""
    rows: dict[int, dict[str, float]] = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get("epoch"):
                epoch = int(float(row["epoch"]))
                rows.setdefault(epoch, {"epoch": epoch}).update({k: float(row[k]) for k in EPOCH_KEYS if row.get(k)})
    return {epoch: entry for epoch, entry in rows.items() if "train/loss" in entry or "val/acc" in entry}
