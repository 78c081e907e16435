"""Learning-rate schedules that are told the run's length: each takes (optimizer, total_steps) first,
so a config names the schedule and its shape while the module supplies the trainer's step count.

    lr_scheduler:
      class_path: lab.schedules.OneCycle
      init_args: {warmup_fraction: 0.2}

``interval`` says whether the schedule steps per optimizer step or per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler, OneCycleLR, StepLR

ScheduleCallable = Callable[[Optimizer, int], LRScheduler]


class OneCycle(OneCycleLR):
    """Warm-up from lr/25 to the optimizer's lr for ``warmup_fraction`` of the steps, then cosine to ~0.
    Momentum cycles inversely when the optimizer has momentum (SGD)."""

    interval = "step"

    def __init__(self, optimizer: Optimizer, total_steps: int, warmup_fraction: float = 0.2):
        if not 0 < warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in (0, 1), got {warmup_fraction}")
        # OneCycleLR needs >= 2 warm-up steps: tiny runs (tests) get a slightly longer schedule
        total = max(total_steps, math.ceil(2 / warmup_fraction) + 1)
        momentum = all(g.get("momentum", 0) > 0 for g in optimizer.param_groups) and "betas" not in optimizer.defaults
        super().__init__(
            optimizer,
            max_lr=[g["lr"] for g in optimizer.param_groups],
            total_steps=total,
            pct_start=warmup_fraction,
            cycle_momentum=momentum,
        )


class Cosine(CosineAnnealingLR):
    """Cosine annealing from the optimizer's lr to ``min_lr`` over the whole run."""

    interval = "step"

    def __init__(self, optimizer: Optimizer, total_steps: int, min_lr: float = 0.0):
        super().__init__(optimizer, T_max=max(1, total_steps), eta_min=min_lr)


class StepDecay(StepLR):
    """lr x ``gamma`` every ``step_size`` epochs (the run's length is not needed)."""

    interval = "epoch"

    def __init__(self, optimizer: Optimizer, total_steps: int, step_size: int = 10, gamma: float = 0.1):
        super().__init__(optimizer, step_size=step_size, gamma=gamma)


class Triangle(LambdaLR):
    """airbench's schedule: linear from ``start`` x lr up to lr at ``peak`` of the run, then linear down to
    ``end`` x lr at its last step (per step)."""

    interval = "step"

    def __init__(
        self, optimizer: Optimizer, total_steps: int, start: float = 0.2, peak: float = 0.23, end: float = 0.07
    ):
        top = max(1, round(peak * total_steps))

        def factor(step: int) -> float:
            if step <= top:
                return start + (1 - start) * step / top
            return 1 + (end - 1) * min(1.0, (step - top) / max(1, total_steps - top))

        super().__init__(optimizer, factor)
