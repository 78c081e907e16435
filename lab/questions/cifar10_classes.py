"""CV1 part 2, §2.1: show and describe the classes and images of CIFAR-10.

    make cifar10-classes   # or: python -m lab.questions cifar10_classes [--per-class 8]

Writes classes.png (samples of every class, names as row titles) and result.json (counts per split,
pixel statistics and a description generated from those facts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.engine.train import build_datamodule
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.stats import binomial_se
from lab.questions.training import user_layers
from lab.viz.samples import sample_grid

VEHICLES = {"airplane", "automobile", "ship", "truck"}
OFFICIAL_TRAIN_IMAGES = 50_000  # CIFAR-10's official training set


@dataclass
class ClassesResult:
    classes: list[str]
    image_shape: list[int]
    split_sizes: dict[str, int]
    per_class: dict[str, dict[str, int]]  # class -> split -> images
    train_mean_rgb: list[float]
    train_std_rgb: list[float]
    class_mean_rgb: dict[str, list[float]]
    figures: list[Figure] = field(default_factory=list)


def facts(dm) -> ClassesResult:
    splits = {"train": dm.train_set, "validation": dm.val_set, "test": dm.test_set}
    images, labels = dm.train_set.images, dm.train_set.labels
    return ClassesResult(
        classes=list(dm.classes),
        image_shape=list(images.shape[1:]),
        split_sizes={split: len(ds) for split, ds in splits.items()},
        per_class={
            name: {s: int((ds.labels == c).sum()) for s, ds in splits.items()} for c, name in enumerate(dm.classes)
        },
        train_mean_rgb=dm.mean.tolist(),
        train_std_rgb=dm.std.tolist(),
        class_mean_rgb={
            n: (images[labels == c].float().mean(dim=(0, 2, 3)) / 255).tolist() for c, n in enumerate(dm.classes)
        },
    )


def split_sentence(sizes: dict[str, int]) -> str:
    """How many of CIFAR-10's training images were used and how they were split (a reduced budget uses fewer)."""
    used = sizes["train"] + sizes["validation"]
    split = f"split into {sizes['train']:,} for training and {sizes['validation']:,} for validation (seeded), and"
    if used < OFFICIAL_TRAIN_IMAGES:
        return f"Here {used:,} of CIFAR-10's {OFFICIAL_TRAIN_IMAGES:,} training images are used, {split}"
    return f"Here the {used:,} training images are {split}"


def describe(f: ClassesResult) -> str:
    vehicles = [c for c in f.classes if c in VEHICLES]
    animals = [c for c in f.classes if c not in VEHICLES]
    c, h, w = f.image_shape
    sizes = f.split_sizes
    test_counts = [f.per_class[k]["test"] for k in f.classes]
    mean = ", ".join(f"{v:.3f}" for v in f.train_mean_rgb)
    std = ", ".join(f"{v:.3f}" for v in f.train_std_rgb)
    blue = max(f.classes, key=lambda k: f.class_mean_rgb[k][2] - f.class_mean_rgb[k][0])
    return (
        f"CIFAR-10 holds small colour photographs of {len(f.classes)} mutually exclusive classes: "
        f"{len(vehicles)} vehicles ({', '.join(vehicles)}) and {len(animals)} animals ({', '.join(animals)}). "
        f"Each image is {h} x {w} pixels with {c} colour channels (uint8, 0-255), one object roughly centred, "
        f"seen from varied viewpoints, scales and backgrounds. {split_sentence(sizes)} "
        f"{sizes['test']:,} exact test images are available ({min(test_counts)}-{max(test_counts)} per "
        f"class). The training pixels have mean ({mean}) and standard deviation ({std}) per RGB channel in [0, 1] "
        f"units, the values used for normalization. The class whose images are the most blue relative to red is "
        f"'{blue}', a hint that colour statistics alone carry some class information. {test_set_note(sizes['test'])}"
    )


OFFICIAL_TEST = 10_000  # CIFAR-10's official test set


def test_set_note(n: int) -> str:
    """What a reduced test set costs in precision (binomial standard error at 70% accuracy)."""
    if n >= OFFICIAL_TEST:
        return f"The test set is CIFAR-10's official {OFFICIAL_TEST:,} images."
    se, full = binomial_se(0.7, n), binomial_se(0.7, OFFICIAL_TEST)
    return (
        f"The data provided holds {n:,} of CIFAR-10's {OFFICIAL_TEST:,} test images, so every test accuracy here "
        f"carries a binomial standard error of about {100 * se:.1f} points near 70% ({100 * full:.2f} on all "
        f"{OFFICIAL_TEST:,})."
    )


def run(ctx: RunContext, out: Path, opts: Options) -> ClassesResult:
    if opts.per_class < 1:
        raise ValueError(f"--per-class must be >= 1, got {opts.per_class}")
    dm = build_datamodule(["lenet", *user_layers(ctx)])
    grid = sample_grid(
        dm.train_set.images,
        dm.train_set.labels,
        dm.classes,
        out / "classes.png",
        "CIFAR-10 training images by class",
        per_class=opts.per_class,
        classes_per_row=2,
    )
    result = facts(dm)
    result.figures.append(grid)
    return result


def render(f: ClassesResult, folder: Path) -> list:
    rows = [
        [
            n,
            f"{f.per_class[n]['train']:,}",
            f"{f.per_class[n]['validation']:,}",
            f"{f.per_class[n]['test']:,}",
            ", ".join(f"{v:.3f}" for v in f.class_mean_rgb[n]),
        ]
        for n in f.classes
    ]
    s = f.split_sizes
    rows.append(["**all**", f"**{s['train']:,}**", f"**{s['validation']:,}**", f"**{s['test']:,}**", ""])
    return [
        *placed(f.figures, folder),
        Table(
            "CIFAR-10: images per class and split",
            markdown_table(["class", "train", "validation", "test", "mean R, G, B (0-1)"], rows, "lrrrl"),
            f"Seeded train/validation split of the {s['train'] + s['validation']:,} training images used; the test "
            "images of the data folder.",
        ),
        Text(describe(f)),
    ]


def headline(f: ClassesResult) -> str:
    s = f.split_sizes
    return (
        f"{len(f.classes)} classes; {s['train']:,} train / {s['validation']:,} validation / {s['test']:,} test images"
    )


@dataclass(frozen=True)
class Options:
    """cifar10_classes' own option.

    Attributes:
        per_class: sample pictures per class
    """

    per_class: int = 6


QUESTION = register(
    Question(
        __name__,
        "CIFAR-10 classes",
        CV1,
        "§2.1",
        order=10,
        result_type=ClassesResult,
        asks="Show example images of every class; describe the classes and images.",
        configs="the data section of experiments/lenet.yaml",
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
