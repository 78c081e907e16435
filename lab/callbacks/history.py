"""EpochHistory: every epoch's metrics kept in memory, so that code that trains a model reads its
curves from the run itself (``lab.train.run`` returns them) instead of from metrics.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L

EPOCH_KEYS = ("train/loss", "train/acc", "val/loss", "val/acc", "train_eval/loss", "train_eval/acc")


class EpochHistory(L.Callback):
    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

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


def read_epoch_metrics(run_dir: str | Path) -> list[dict[str, float]]:
    """The same rows from a finished run folder's metrics.csv, preceded by the metrics.part-K.csv files
    that an interrupted and resumed run left (later rows win)."""
    per_epoch: dict[int, dict[str, float]] = {}
    run_dir = Path(run_dir)
    parts = sorted(run_dir.glob("metrics.part-*.csv"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for path in [*parts, run_dir / "metrics.csv"]:
        with open(path) as f:
            for row in csv.DictReader(f):
                if row.get("epoch"):
                    entry = per_epoch.setdefault(int(float(row["epoch"])), {"epoch": int(float(row["epoch"]))})
                    entry.update({k: float(row[k]) for k in EPOCH_KEYS if row.get(k)})
    return [e for _, e in sorted(per_epoch.items()) if "train/loss" in e or "val/acc" in e]
