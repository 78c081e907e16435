"""Training randomness as a function of (seed, epoch), so that a resumed run repeats an
uninterrupted one exactly: the shuffle order, augmentations and dropout of epoch k never depend on
how the process got to epoch k."""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one training epoch of a run seeded with ``seed``."""
    return (seed * 100_003 + epoch) % 2**32


class SeedEachEpoch(Callback):
    """Reseeds torch, numpy and random at the start of every training epoch with
    ``epoch_seed(seed, epoch)`` (augmentation, dropout). The shuffle order has its own per-epoch seed
    (lab.data.base.EpochShuffle). PL_GLOBAL_SEED is left at the run's seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        seed = epoch_seed(self.seed, trainer.current_epoch)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
