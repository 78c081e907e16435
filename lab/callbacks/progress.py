"""EpochLines: when output goes to a file or pipe, one line per epoch instead of progress-bar redraws."""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import ProgressBar

from lab.utils import console

SHOWN = ("train/loss", "train/acc", "val/loss", "val/acc", "train_eval/acc")


class EpochLines(ProgressBar):
    """``epoch 3/15  train/loss 1.234  train/acc 0.561  val/loss 1.102  val/acc 0.612  (41.7 s)``."""

    def __init__(self, prefix: str = "") -> None:
        """``prefix``: printed before every line, e.g. the run's name when several runs share one log."""
        super().__init__()
        self.prefix = prefix
        self._enabled = True
        self._start = 0.0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not self._enabled:
            return
        metrics = trainer.callback_metrics
        values = "  ".join(f"{k} {float(metrics[k]):.4f}" for k in SHOWN if k in metrics)
        epochs = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        seconds = time.perf_counter() - self._start
        console.info(f"{self.prefix}epoch {trainer.current_epoch + 1}{epochs}  {values}  ({seconds:.1f} s)")
