"""CV1 part 2, §3.1: the STL-10 subset, at full size and as the network sees it.

    make stl10-samples   # or: python -m lab.questions stl10_samples [--per-class 8] [--classes cat dog]

Writes samples_96px.png, samples_32px.png and the counts per class and split.
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

SIZES = (96, 32)


@dataclass
class STL10Samples:
    classes: list[str]
    counts: dict[str, dict[str, int]]  # split -> class -> images
    figures: list[Figure] = field(default_factory=list)


def run(ctx: RunContext, out: Path, opts: Options) -> STL10Samples:
    if opts.per_class < 1:
        raise ValueError(f"--per-class must be >= 1, got {opts.per_class}")
    classes = {"data": {"init_args": {"classes": list(opts.classes)}}} if opts.classes else {}
    figures = []
    for size, seen in ((96, "at its native size"), (32, "resized as the CIFAR-10 ConvNet sees them (antialiased)")):
        dm = build_datamodule(["stl10", classes, *user_layers(ctx), {"data": {"init_args": {"image_size": size}}}])
        grid = sample_grid(
            dm.train_set.images,
            dm.train_set.labels,
            dm.classes,
            out / f"samples_{size}px.png",
            f"STL-10 subset, training images by class, {seen}",
            opts.per_class,
        )
        figures.append(grid)
    splits = {"train": dm.train_set, "validation": dm.val_set, "test": dm.test_set}
    counts = {s: {c: int((ds.labels == i).sum()) for i, c in enumerate(dm.classes)} for s, ds in splits.items()}
    return STL10Samples(list(dm.classes), counts, figures)


OFFICIAL_TRAIN, OFFICIAL_TEST = 500, 800  # STL-10's labelled images per class (Coates, Lee & Ng, 2011)


def describe(r: STL10Samples) -> str:
    """STL-10, the subset used here and what its overlap with CIFAR-10 does to transfer, from the counts."""
    from lab.data.cifar10 import CLASSES as CIFAR10

    shared = [c for c in r.classes if c in CIFAR10]
    test = sum(r.counts["test"].values())
    official = OFFICIAL_TEST * len(r.classes)
    text = (
        "STL-10 (Coates, Lee & Ng, 2011; https://cs.stanford.edu/~acoates/stl10/) holds 96 x 96 px colour images "
        f"from ImageNet in 10 classes, {OFFICIAL_TRAIN} labelled training and {OFFICIAL_TEST} test images per class "
        f"(plus 100,000 unlabelled ones). Fine-tuning uses {len(r.classes)} of its classes ({', '.join(r.classes)}). "
    )
    if len(shared) == len(r.classes):
        text += (
            'The text speaks of "different object classes", but all of these are CIFAR-10 classes too: the '
            "transfer measured here is to new images of known classes (another source, 3x the resolution, "
            "downsized to 32 px), an easier task than transfer to unseen classes, so its gain over training from "
            "scratch is an upper estimate for that case. "
        )
    elif shared:
        text += f"{len(shared)} of them ({', '.join(shared)}) are CIFAR-10 classes too; the others are new. "
    else:
        text += "None of them is a CIFAR-10 class: the transfer is to unseen classes. "
    if "cat" in r.classes:
        text += "STL-10's 'cat' images, drawn from ImageNet, include wild cats as well as house cats (see the grid). "
    se, full = binomial_se(0.7, test), binomial_se(0.7, official)
    return text + (
        f"The data provided holds {test:,} of the {official:,} official test images of these classes, so a test "
        f"accuracy near 70% carries a binomial standard error of about {100 * se:.1f} points ({100 * full:.1f} on "
        f"all {official:,})."
    )


def render(r: STL10Samples, folder: Path) -> list:
    rows = [[c, *(r.counts[s][c] for s in ("train", "validation", "test"))] for c in r.classes]
    caption = (
        f"The {len(r.classes)} classes of the data provided (these five of STL-10's ten), "
        "relabelled 0-4 in this order; seeded train/validation split of the training images."
    )
    table = markdown_table(["class", "train", "validation", "test"], rows)
    return [
        Text(describe(r)),
        Table("STL-10 subset: images per class and split", table, caption),
        *placed(r.figures, folder),
    ]


def headline(r: STL10Samples) -> str:
    totals = {s: sum(c.values()) for s, c in r.counts.items()}
    splits = f"{totals['train']:,} train / {totals['validation']:,} validation / {totals['test']:,} test"
    return f"{', '.join(r.classes)}: {splits}"


@dataclass(frozen=True)
class Options:
    """stl10_samples' own options.

    Attributes:
        per_class: sample pictures per class
        classes: STL-10 class names (default: experiments/stl10.yaml's)
    """

    per_class: int = 8
    classes: tuple[str, ...] | None = None


QUESTION = register(
    Question(
        __name__,
        "The STL-10 subset",
        CV1,
        "§3.1",
        order=60,
        result_type=STL10Samples,
        asks="The five STL-10 classes fine-tuning uses: what they look like, at 96 px and at the network's 32 px.",
        configs="the data section of experiments/stl10.yaml",
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
