"""Data modules: datasets decoded once into memory, batches augmented on the device."""

from lab.data.augment import AugmentConfig, BatchAugment
from lab.data.base import InMemoryImageDataModule
from lab.data.cifar10 import CIFAR10, CIFAR10DataModule
from lab.data.stl10 import STL10SubsetDataModule

__all__ = [
    "AugmentConfig",
    "BatchAugment",
    "CIFAR10",
    "CIFAR10DataModule",
    "InMemoryImageDataModule",
    "STL10SubsetDataModule",
]
