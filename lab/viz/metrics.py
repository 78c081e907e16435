"""Reading what CSVLogger wrote: one row per epoch, the last value logged in that epoch per column."""

from __future__ import annotations

import csv
from pathlib import Path

EPOCH_COLUMNS = ("train/loss_epoch", "train/acc", "val/loss", "val/acc", "test/loss", "test/acc")


def read_epoch_metrics(run_dir: str | Path) -> list[dict[str, float]]:
    """[{epoch: 0, train/loss: ..., train/acc: ..., val/loss: ..., val/acc: ...}, ...] from metrics.csv,
    preceded by the metrics.part-K.csv an interrupted and resumed run left (later rows win)."""
    per_epoch: dict[int, dict[str, float]] = {}
    run_dir = Path(run_dir)
    parts = sorted(run_dir.glob("metrics.part-*.csv"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for path in [*parts, run_dir / "metrics.csv"]:
        _read_rows(path, per_epoch)
    return [per_epoch[e] for e in sorted(per_epoch) if "train/loss" in per_epoch[e] or "val/acc" in per_epoch[e]]


def _read_rows(path: Path, per_epoch: dict[int, dict[str, float]]) -> None:
    with open(path) as f:
        for row in csv.DictReader(f):
            if not row.get("epoch"):
                continue
            epoch = int(float(row["epoch"]))
            entry = per_epoch.setdefault(epoch, {"epoch": epoch})
            for column in EPOCH_COLUMNS:
                if row.get(column):
                    entry[column.replace("_epoch", "")] = float(row[column])
