"""FiniteLossGuard: stop a run whose training loss became NaN or infinite, naming where, before a
checkpoint of the broken weights is written.

The check costs no host-device sync per step: the first bad step is recorded on the loss's device and
read back every ``check_every`` steps (every step on a CPU, where reading is free) and before each
validation, which is when checkpoints are written.
"""

from __future__ import annotations

import math

import lightning as L
import torch

from lab.utils.errors import NonFiniteLossError


class FiniteLossGuard(L.Callback):
    def __init__(self, check_every: int = 50, deferred: bool | None = None):
        """``deferred``: record on the device and read back every ``check_every`` steps; None = on any device
        but the CPU."""
        if check_every < 1:
            raise ValueError(f"check_every must be >= 1, got {check_every}")
        self.check_every, self.deferred = check_every, deferred
        self._first_bad = self._steps = None

    def on_train_start(self, trainer, pl_module) -> None:
        device = pl_module.device
        self._first_bad = torch.full((), -1, dtype=torch.long, device=device)
        self._steps = torch.full((), trainer.global_step, dtype=torch.long, device=device)
        deferred = device.type != "cpu" if self.deferred is None else self.deferred
        self._every = self.check_every if deferred else 1

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None or self._first_bad is None:
            return
        if self._every == 1:  # on a CPU reading the value costs nothing: one check, no bookkeeping ops
            if not math.isfinite(loss.item()):
                self._first_bad.fill_(trainer.global_step - 1)  # the step that produced this loss
                self.check(trainer)
            return
        bad = ~torch.isfinite(loss.detach())
        self._first_bad = torch.where(bad & (self._first_bad < 0), self._steps, self._first_bad)
        self._steps += 1
        if (batch_idx + 1) % self._every == 0:
            self.check(trainer)

    def on_validation_start(self, trainer, pl_module) -> None:
        if trainer.training:
            self.check(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.check(trainer)

    def check(self, trainer) -> None:
        if self._first_bad is None or int(self._first_bad) < 0:
            return
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else float("nan")
        raise NonFiniteLossError(
            f"training loss became nan or inf at epoch {trainer.current_epoch}, global step {int(self._first_bad)}; "
            f"lower the learning rate (now {lr:.3g}) or check the data. The last checkpoint written before it is kept."
        )
