"""CV1 part 2, §2.3: the preparation of training: dataset, data loader, transforms and optimizer.

    make preparation    # or: python -m lab.questions preparation

The text asks for a dataset class of one's own with a DataLoader, a transform for augmentation and an
optimizer. This describes the implementation and measures it on this machine: the time to decode the
official files, and the images per second the loader and the batched augmentation deliver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lab.blocks import Table, Text, markdown_table
from lab.engine.config import compose
from lab.engine.train import build_datamodule
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.training import user_layers


@dataclass
class PreparationResult:
    train_images: int
    val_images: int
    test_images: int
    batch_size: int
    steps_per_epoch: int
    augment: dict
    decode_seconds: float  # the official python batches -> one uint8 tensor, validated
    loader_images_per_second: float  # one epoch: index a batch, uint8 -> float, augment, normalise
    optimizer: dict
    lr_scheduler: dict


def run(ctx: RunContext, out: Path) -> PreparationResult:
    from lab.data.cifar10 import load_split

    load_split.cache_clear()
    start = time.perf_counter()
    dm = build_datamodule(["lenet", *user_layers(ctx)])
    decode = time.perf_counter() - start
    loader, start, seen = dm.train_dataloader(), time.perf_counter(), 0
    for images, _ in loader:
        seen += len(dm.prepare_batch(images, training=True))
    rate = seen / (time.perf_counter() - start)
    model = compose(["lenet", *user_layers(ctx)])["model"]
    return PreparationResult(
        len(dm.train_set),
        len(dm.val_set),
        len(dm.test_set),
        dm.batch_size,
        len(loader),
        {k: v for k, v in vars(dm.augment.config).items() if v},
        decode,
        rate,
        model["optimizer"],
        model.get("lr_scheduler") or {},
    )


def render(r: PreparationResult, folder: Path) -> list:
    optimizer = (
        f"{r.optimizer['class_path']} ({', '.join(f'{k} {v}' for k, v in r.optimizer.get('init_args', {}).items())})"
    )
    rows = [
        ["decode the official files (50,000 + test images)", f"{r.decode_seconds:.2f} s"],
        ["loader + batched augmentation, one epoch", f"{r.loader_images_per_second:,.0f} images/s"],
        ["training / validation / test images", f"{r.train_images:,} / {r.val_images:,} / {r.test_images:,}"],
        ["batch size, steps per epoch", f"{r.batch_size}, {r.steps_per_epoch}"],
    ]
    return [
        Text(
            "*Dataset.* `lab/data/cifar10.py` reads the official python batches itself (no torchvision "
            "dataset), checks every file's arrays, shapes and labels, and keeps each split as one uint8 tensor "
            "(N x 3 x 32 x 32) decoded once per process. `InMemoryImageDataModule` (a LightningDataModule) "
            "splits the training files into training and validation images with a fixed seed, and computes the "
            "normalisation statistics from the training split only."
        ),
        Text(
            "*DataLoader.* A PyTorch DataLoader over a small Dataset whose `__getitems__` returns a whole batch "
            "with one tensor index, and a sampler whose order depends on (seed, epoch) only, so that an "
            "interrupted run resumes exactly."
        ),
        Text(
            f"*Transforms.* Augmentation works on whole batches on the batch's device (`lab/data/augment.py`): "
            f"here {augment_words(r.augment)}, then normalisation; "
            "colour jitter and rotation are options of the same config."
        ),
        Text(
            f"*Optimizer.* Injected from the config: {optimizer}"
            + (f", with the schedule {r.lr_scheduler['class_path']}" if r.lr_scheduler else "")
            + "; the hand-written cross-entropy (`lab/models/losses.py`) is the loss."
        ),
        Table(
            "The data path measured on this machine",
            markdown_table(["step", "measured"], rows, "lr"),
            "One process, after imports; the rate includes the augmentation.",
            appendix=True,
        ),
    ]


def augment_words(augment: dict) -> str:
    """The config's augmentation in words with units: {"flip": True, "translate": 2} -> "random horizontal
    flips, random translations by up to 2 px"."""
    words = {"flip": "random horizontal flips", "alternate_flip": "flips alternating by epoch"}
    parts = []
    for key, value in augment.items():
        if key == "translate" and value:
            parts.append(f"random translations by up to {value} px")
        elif value is True:
            parts.append(words.get(key, key.replace("_", " ")))
        elif value:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts) or "none"


def headline(r: PreparationResult) -> str:
    return f"{r.loader_images_per_second:,.0f} images/s through loader + augmentation; decode {r.decode_seconds:.1f} s"


QUESTION = register(
    Question(
        __name__,
        "Preparation of training",
        CV1,
        "§2.3",
        order=25,
        result_type=PreparationResult,
        asks="Prepare the dataset with a Dataset class and a DataLoader, a transform for augmentation and an "
        "optimizer.",
        configs="experiments/lenet.yaml",
        run=run,
        render=render,
        headline=headline,
    )
)
