"""Callbacks that only tests use, given to the CLI by class path (--trainer.callbacks+=...)."""

import math
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class StallOnce(Callback):
    """At (epoch, batch) (``at="batch"``) or at the end of the epoch (``at="epoch_end"``: after validation
    and the best checkpoint, before last.ckpt), write ``flag`` and sleep, so that the test can SIGKILL the
    process there; does nothing once ``flag`` exists (the resumed run, same command, goes on)."""

    def __init__(self, flag: str, epoch: int = 1, batch: int = 2, at: str = "batch") -> None:
        self.flag, self.epoch, self.batch, self.at = Path(flag), epoch, batch, at

    def _stall(self, trainer) -> None:
        if trainer.current_epoch == self.epoch and not self.flag.exists():
            self.flag.write_text(str(trainer.global_step))
            time.sleep(600)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.at == "batch" and batch_idx == self.batch:
            self._stall(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.at == "epoch_end":
            self._stall(trainer)


class InterruptOnce(Callback):
    """Ctrl-C at (epoch, batch): raises KeyboardInterrupt there, as the SIGINT handler does."""

    def __init__(self, epoch: int = 1, batch: int = 1) -> None:
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            raise KeyboardInterrupt


class PoisonWeights(Callback):
    """At the start of ``epoch``, set the output layer's weights to NaN (the loss becomes NaN)."""

    def __init__(self, epoch: int = 1) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            pl_module.net.classifier.weight.data.fill_(math.nan)


class CrashAtEpoch(Callback):
    """At the end of ``epoch``'s training, raise: a run that stops before it finishes."""

    def __init__(self, epoch: int = 0) -> None:
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("injected crash")
