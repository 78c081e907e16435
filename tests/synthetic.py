"""Small datasets written in the official on-disk formats, for tests and load benchmarks.

Images carry a learnable signal (each class has its own mean colour) so that tiny training runs
can show learning, and every byte is seeded.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from lab.data.cifar10 import CLASSES, FOLDER, TEST_FILE, TRAIN_FILES


def class_images(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 (N, 3, size, size): noise around a per-class colour."""
    palette = np.linspace(40, 215, 10)[:, None] * np.array([1.0, 0.6, 0.3]) + np.array([0, 60, 120])
    palette = np.roll(palette % 255, 1, axis=1)
    base = palette[labels % 10][:, :, None, None]
    noise = rng.normal(0, 30, size=(len(labels), 3, size, size))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def write_cifar10(root: str | Path, per_batch: int = 20, test_count: int = 20, seed: int = 0) -> Path:
    """Write root/cifar10/cifar-10-batches-py in the official python-pickle layout; return root."""
    root = Path(root)
    folder = root / "cifar10" / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = [(name, per_batch) for name in TRAIN_FILES] + [(TEST_FILE, test_count)]
    for name, count in files:
        labels = np.arange(count) % 10
        rng.shuffle(labels)
        data = class_images(labels, 32, rng).reshape(count, -1)
        _dump(
            folder / name,
            {
                b"batch_label": name.encode(),
                b"labels": labels.tolist(),
                b"data": data,
                b"filenames": [f"synthetic_{name}_{i:05d}.png".encode() for i in range(count)],
            },
        )
    _dump(
        folder / "batches.meta",
        {b"label_names": [c.encode() for c in CLASSES], b"num_cases_per_batch": per_batch, b"num_vis": 3072},
    )
    return root


def write_stl10(
    root: str | Path, per_class_train: int = 10, per_class_test: int = 4, class_ids=range(1, 11), seed: int = 0
) -> Path:
    """Write root/stl10/stl10_binary in the official binary layout (planes column-major); return root."""
    from lab.data.stl10 import OFFICIAL_CLASSES

    root = Path(root)
    folder = root / "stl10" / "stl10_binary"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, per_class in (("train", per_class_train), ("test", per_class_test)):
        labels = np.repeat(np.asarray(list(class_ids), dtype=np.uint8), per_class)
        rng.shuffle(labels)
        images = class_images(labels.astype(np.int64), 96, rng)  # (N, 3, H, W) upright
        images.transpose(0, 1, 3, 2).tofile(folder / f"{split}_X.bin")  # column-major planes
        labels.tofile(folder / f"{split}_y.bin")
    (folder / "class_names.txt").write_text("\n".join(OFFICIAL_CLASSES) + "\n")
    return root
