"""CV1 part 2, §3.1: the STL-10 subset, at full size and as the network sees it.

    make stl10-samples   # or: python -m lab.questions stl10_samples [--per-class 8] [--classes cat dog]

Writes samples_96px.png, samples_32px.png and the counts per class and split.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path

from lab.questions import CV1, Question, register
from lab.questions.training import user_layers
from lab.report.blocks import Figure, Table, markdown_table, placed
from lab.train import build_datamodule
from lab.viz.samples import sample_grid

SIZES = (96, 32)


@dataclass
class STL10Samples:
    classes: list[str]
    counts: dict[str, dict[str, int]]  # split -> class -> images
    figures: list[Figure] = field(default_factory=list)


QUESTION = register(Question(
    __name__, "The STL-10 subset", CV1, "§3.1", order=60, result_type=STL10Samples,
    asks="The five STL-10 classes fine-tuning uses: what they look like, at 96 px and at the network's 32 px.",
    configs="the data section of experiments/stl10.yaml"))  # fmt: skip


def run(args: Namespace, out: Path) -> STL10Samples:
    if args.per_class < 1:
        raise ValueError(f"--per-class must be >= 1, got {args.per_class}")
    classes = {"data": {"init_args": {"classes": args.classes}}} if args.classes else {}
    figures = []
    for size, seen in ((96, "at its native size"), (32, "resized as the CIFAR-10 ConvNet sees them (antialiased)")):
        dm = build_datamodule(["stl10", classes, *user_layers(args), {"data": {"init_args": {"image_size": size}}}])
        grid = sample_grid(dm.train_set.images, dm.train_set.labels, dm.classes, out / f"samples_{size}px.png",
                           f"STL-10 subset, training images by class, {seen}", args.per_class)  # fmt: skip
        figures.append(grid)
    splits = {"train": dm.train_set, "validation": dm.val_set, "test": dm.test_set}
    counts = {s: {c: int((ds.labels == i).sum()) for i, c in enumerate(dm.classes)} for s, ds in splits.items()}
    return STL10Samples(list(dm.classes), counts, figures)


def render(r: STL10Samples, folder: Path) -> list:
    rows = [[c, *(r.counts[s][c] for s in ("train", "validation", "test"))] for c in r.classes]
    caption = (f"The {len(r.classes)} classes of the data provided (../shared/data holds these five of STL-10's ten), "
               "relabelled 0-4 in this order; seeded train/validation split of the training images.")  # fmt: skip
    table = markdown_table(["class", "train", "validation", "test"], rows)
    return [Table("STL-10 subset: images per class and split", table, caption), *placed(r.figures, folder)]


def headline(r: STL10Samples) -> str:
    totals = {s: sum(c.values()) for s, c in r.counts.items()}
    splits = f"{totals['train']:,} train / {totals['validation']:,} validation / {totals['test']:,} test"
    return f"{', '.join(r.classes)}: {splits}"


def add_arguments(parser) -> None:
    parser.add_argument("--per-class", type=int, default=8, help="sample pictures per class")
    parser.add_argument(
        "--classes", nargs="+", default=None, help="STL-10 class names (default: experiments/stl10.yaml's)"
    )
