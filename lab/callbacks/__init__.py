"""Lightning callbacks of this project."""

from lab.callbacks.airbench import Lookahead, WhiteningInit
from lab.callbacks.epoch_seed import SeedEachEpoch
from lab.callbacks.finetune import FreezeUnfreeze, LoadPretrained
from lab.callbacks.finite_loss import FiniteLossGuard
from lab.callbacks.history import EpochHistory
from lab.callbacks.progress import EpochLines
from lab.callbacks.time_to_accuracy import TimeToAccuracy

__all__ = [
    "EpochHistory",
    "EpochLines",
    "FiniteLossGuard",
    "FreezeUnfreeze",
    "LoadPretrained",
    "Lookahead",
    "SeedEachEpoch",
    "TimeToAccuracy",
    "WhiteningInit",
]
