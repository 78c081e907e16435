"""Data modules: datasets decoded once into memory, batches augmented on the device."""

from lab.data.augment import AugmentConfig, BatchAugment
from lab.data.base import InMemoryImageDataModule
from lab.data.cifar10 import CIFAR10, CIFAR10DataModule

__all__ = ["AugmentConfig", "BatchAugment", "CIFAR10", "CIFAR10DataModule", "InMemoryImageDataModule"]
