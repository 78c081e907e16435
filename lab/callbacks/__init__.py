"""Lightning callbacks of this project."""

from lab.callbacks.epoch_seed import SeedEachEpoch
from lab.callbacks.finetune import FreezeUnfreeze
from lab.callbacks.time_to_accuracy import TimeToAccuracy

__all__ = ["FreezeUnfreeze", "SeedEachEpoch", "TimeToAccuracy"]
