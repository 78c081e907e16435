"""STL-10 (official binary layout ``stl10_binary/``), a subset of classes chosen by name.

Images are 3x96x96 uint8, each colour plane stored column-major; labels are 1..10 in the files.
The chosen classes are relabelled 0..K-1 in the order given, and the images are resized once, in
memory, to the network's input size (antialiased), so training sees the same 32x32 pipeline as CIFAR-10.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lab.data.base import InMemoryImageDataModule
from lab.utils.errors import CorruptDataError, LabError
from lab.utils.paths import find_dataset

FOLDER = "stl10_binary"
OFFICIAL_CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
IMAGE_BYTES = 3 * 96 * 96
DEFAULT_CLASSES = ("airplane", "bird", "ship", "cat", "dog")


class UnknownClassError(LabError, ValueError):
    """A requested class name is not one of the dataset's classes."""


def read_images(path: Path) -> np.ndarray:
    """``*_X.bin`` -> uint8 (N, 3, 96, 96), upright."""
    if not path.is_file():
        raise CorruptDataError(f"{path}: missing; STL-10's binary folder needs train_X/train_y/test_X/test_y.bin.")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % IMAGE_BYTES:
        raise CorruptDataError(
            f"{path}: {raw.size} bytes is not a whole number of 3x96x96 images ({IMAGE_BYTES} bytes each); "
            "the file is truncated or corrupt, replace it with a fresh copy."
        )
    return raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2)  # planes are stored column-major


def read_labels(path: Path, count: int) -> np.ndarray:
    if not path.is_file():
        raise CorruptDataError(f"{path}: missing; STL-10's binary folder needs train_X/train_y/test_X/test_y.bin.")
    labels = np.fromfile(path, dtype=np.uint8).astype(np.int64)
    if labels.size != count:
        raise CorruptDataError(f"{path}: {labels.size} labels for {count} images; replace it with a fresh copy.")
    if labels.size and (labels.min() < 1 or labels.max() > 10):
        raise CorruptDataError(f"{path}: labels range {labels.min()}..{labels.max()}, expected 1..10.")
    return labels


def class_names(folder: Path) -> tuple[str, ...]:
    path = folder / "class_names.txt"
    if not path.is_file():
        return OFFICIAL_CLASSES
    names = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    if len(names) != 10:
        raise CorruptDataError(f"{path}: {len(names)} class names, expected the 10 of STL-10.")
    return names


def resolve_classes(requested: Sequence[str], available: Sequence[str]) -> list[int]:
    """Class names -> official 1-based ids, with one clear error for any unknown or repeated name."""
    unknown = [c for c in requested if c not in available]
    if unknown:
        raise UnknownClassError(f"unknown STL-10 class name(s) {unknown}; valid names: {', '.join(available)}")
    if len(set(requested)) != len(requested) or not requested:
        raise UnknownClassError(f"classes must be distinct and non-empty, got {list(requested)}")
    return [available.index(c) + 1 for c in requested]


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> uint8 (N, 3, size, size), antialiased bilinear, in chunks."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = torch.empty(len(images), 3, size, size, dtype=torch.uint8)
    for start in range(0, len(images), 1000):
        chunk = images[start : start + 1000].float()
        out[start : start + 1000] = (
            F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True)
            .round()
            .clamp(0, 255)
            .to(torch.uint8)
        )
    return out


@functools.lru_cache(maxsize=8)
def load_split(folder: Path, train: bool, class_ids: tuple[int, ...], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The chosen classes of one split, relabelled 0..K-1 and resized; decoded once per process."""
    prefix = "train" if train else "test"
    images = read_images(folder / f"{prefix}_X.bin")
    labels = read_labels(folder / f"{prefix}_y.bin", len(images))
    keep = np.isin(labels, class_ids)
    if not keep.any():
        raise CorruptDataError(f"{folder / f'{prefix}_y.bin'}: none of the requested classes (ids {class_ids}) occur.")
    relabel = np.full(11, -1, dtype=np.int64)
    relabel[list(class_ids)] = np.arange(len(class_ids))
    return resize(torch.from_numpy(np.ascontiguousarray(images[keep])), size), torch.from_numpy(relabel[labels[keep]])


def download_stl10(target: Path) -> None:
    """The path a user with internet takes: torchvision's verified download (2.6 GB)."""
    from torchvision.datasets import STL10

    STL10(root=str(target), split="train", download=True)


class STL10SubsetDataModule(InMemoryImageDataModule):
    """STL-10 classes chosen by name (default airplane, bird, ship, cat, dog), relabelled 0..K-1."""

    def __init__(
        self,
        *args,
        classes: Sequence[str] = DEFAULT_CLASSES,
        image_size: int = 32,
        val_size: int = 500,
        **kwargs,
    ):
        """
        Args:
            classes: STL-10 class names, in the order of the output units.
            image_size: side of the square images the network sees (resized once, antialiased).
            val_size: training images held out for validation (seeded split).
        """
        if image_size < 8:
            raise ValueError(f"image_size must be >= 8, got {image_size}")
        super().__init__(*args, val_size=val_size, **kwargs)
        self.classes = tuple(classes)
        self.image_size = image_size
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise UnknownClassError(f"classes must be distinct and non-empty, got {list(classes)}")

    def source_folder(self) -> Path:
        return find_dataset("stl10", FOLDER, self.data_dir) / FOLDER

    def load_arrays(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        folder = find_dataset("stl10", FOLDER, self.data_dir, download_stl10 if self.download else None) / FOLDER
        ids = tuple(resolve_classes(self.classes, class_names(folder)))
        return load_split(folder, train, ids, self.image_size)
