"""CIFAR-10 from the official python batches (``cifar-10-batches-py/``).

Parsed and validated once per process into uint8 tensors; no MD5 check, because local copies
(such as ../shared/data) need not be byte-identical to the official archive.
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path

import numpy as np
import torch

from lab.data.base import InMemoryImageDataModule
from lab.utils.errors import CorruptDataError
from lab.utils.paths import find_dataset

CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
IMAGE_SHAPE = (3, 32, 32)


def _get(d: dict, key: str):
    """Batches pickled by Python 2 have bytes keys; re-pickled ones may have str keys."""
    if key in d:
        return d[key]
    return d.get(key.encode())


def _load_pickle(path: Path) -> dict:
    fix = "replace it with a fresh copy of the official cifar-10-python.tar.gz"
    if not path.is_file():
        raise CorruptDataError(f"{path}: missing from {path.parent}; {fix}.")
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")
    except Exception as exc:  # truncated, not a pickle, wrong protocol...
        raise CorruptDataError(
            f"{path}: cannot be read as a CIFAR-10 python batch "
            f"({type(exc).__name__}: {exc}); the file is truncated or corrupt, {fix}."
        ) from exc
    if not isinstance(d, dict):
        raise CorruptDataError(f"{path}: holds a {type(d).__name__}, not a CIFAR-10 batch dict; {fix}.")
    return d


def read_batch(path: Path, expected_count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> images uint8 (N, 3, 32, 32) and labels int64 (N,), validated."""
    d = _load_pickle(path)
    data, labels = _get(d, "data"), _get(d, "labels")
    problem = None
    if data is None or labels is None:
        problem = "has no 'data' or 'labels' entry"
    elif not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        problem = f"'data' is {getattr(data, 'dtype', type(data).__name__)}, expected a uint8 array"
    elif data.ndim != 2 or data.shape[1] != int(np.prod(IMAGE_SHAPE)):
        problem = f"'data' has shape {data.shape}, expected (N, 3072)"
    elif len(labels) != data.shape[0]:
        problem = f"{data.shape[0]} images but {len(labels)} labels"
    elif expected_count is not None and data.shape[0] != expected_count:
        problem = f"{data.shape[0]} images, batches.meta promises {expected_count}"
    if problem is None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
            problem = f"labels range {labels.min()}..{labels.max()}, expected 0..9"
    if problem:
        raise CorruptDataError(f"{path}: {problem}; replace it with a fresh copy of the official batch.")
    return data.reshape(-1, *IMAGE_SHAPE), labels


@functools.lru_cache(maxsize=4)
def load_split(folder: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """All images of one split as (uint8 N×3×32×32, int64 N); decoded once per process."""
    per_batch = None
    meta_path = folder / "batches.meta"
    if meta_path.is_file():
        per_batch = _get(_load_pickle(meta_path), "num_cases_per_batch")
    names = TRAIN_FILES if train else (TEST_FILE,)
    parts = [read_batch(folder / n, per_batch if train else None) for n in names]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    return images, labels


def download_cifar10(target: Path) -> None:
    """The path a user with internet takes: torchvision's verified download."""
    from torchvision.datasets import CIFAR10 as TorchvisionCIFAR10

    TorchvisionCIFAR10(root=str(target), download=True)


class CIFAR10:
    """One CIFAR-10 split, found by the data search order, as in-memory tensors ``images``, ``labels``."""

    classes = CLASSES

    def __init__(self, root: str | Path | None = None, train: bool = True, download: bool = True):
        folder = find_dataset("cifar10", FOLDER, root, download_cifar10 if download else None)
        self.folder = folder / FOLDER
        self.images, self.labels = load_split(self.folder, train)


class CIFAR10DataModule(InMemoryImageDataModule):
    """CIFAR-10: 45,000/5,000 seeded train/validation split of the training batches; test_batch as test."""

    classes = CLASSES

    def __init__(self, *args, val_size: int = 5000, **kwargs):
        super().__init__(*args, val_size=val_size, **kwargs)

    def source_folder(self) -> Path:
        return find_dataset("cifar10", FOLDER, self.data_dir) / FOLDER

    def load_arrays(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        dataset = CIFAR10(self.data_dir, train=train, download=self.download)
        return dataset.images, dataset.labels
