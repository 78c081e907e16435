"""TimeToAccuracy: training seconds until validation accuracy first reaches each threshold.

Training time excludes the validation loops (as speed-run benchmarks count it); the wall time
including them is recorded too. Results go to the loggers (``time_to/acc_0.80`` ...) and to
``time_to_accuracy.json`` in the run folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import lightning as L


class TimeToAccuracy(L.Callback):
    def __init__(self, thresholds: Sequence[float] = (0.80, 0.85, 0.90), monitor: str = "val/acc"):
        self.thresholds = sorted(thresholds)
        self.monitor = monitor
        self.reached: dict[str, dict] = {}
        self.history: list[dict] = []

    def on_train_start(self, trainer, pl_module):
        self.start = time.perf_counter()
        self.eval_seconds = 0.0
        self.reached, self.history = {}, []

    def on_validation_start(self, trainer, pl_module):
        self.val_start = time.perf_counter()

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking or not hasattr(self, "start"):
            return
        now = time.perf_counter()
        self.eval_seconds += now - self.val_start
        acc = trainer.callback_metrics.get(self.monitor)
        if acc is None:
            return
        point = {
            "epoch": trainer.current_epoch,
            "step": trainer.global_step,
            "train_seconds": round(now - self.start - self.eval_seconds, 2),
            "wall_seconds": round(now - self.start, 2),
            self.monitor: float(acc),
        }
        self.history.append(point)
        for threshold in self.thresholds:
            key = f"{threshold:.2f}"
            if key not in self.reached and float(acc) >= threshold:
                self.reached[key] = point
                for logger in trainer.loggers:  # self.log is not allowed in on_validation_end
                    logger.log_metrics({f"time_to/acc_{key}": point["train_seconds"]}, step=trainer.global_step)

    def on_train_end(self, trainer, pl_module):
        log_dir = trainer.log_dir  # on every rank: a collective under DDP
        if trainer.is_global_zero and log_dir:
            summary = {"monitor": self.monitor, "reached": self.reached, "history": self.history}
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            (Path(log_dir) / "time_to_accuracy.json").write_text(json.dumps(summary, indent=2) + "\n")
