"""Coursework part 2, section 2.1: show and describe the classes and images of CIFAR-10.

    make cifar10-classes   # or: python -m lab.questions.cifar10_classes [--per-class 8]

Writes results/cifar10_classes/<run>/: classes.png (samples of every class, names as titles),
classes.md (a table of counts per split and pixel statistics, and a description generated from
those facts) and classes.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.data import CIFAR10DataModule
from lab.questions.common import new_run_dir, publish, run_main, write_json
from lab.viz.samples import sample_grid

VEHICLES = {"airplane", "automobile", "ship", "truck"}


def facts(dm: CIFAR10DataModule) -> dict:
    splits = {"train": dm.train_set, "validation": dm.val_set, "test": dm.test_set}
    per_class = {
        name: {split: int((ds.labels == c).sum()) for split, ds in splits.items()} for c, name in enumerate(dm.classes)
    }
    images = dm.train_set.images
    class_means = {
        name: (images[dm.train_set.labels == c].float().mean(dim=(0, 2, 3)) / 255).tolist()
        for c, name in enumerate(dm.classes)
    }
    return {
        "classes": list(dm.classes),
        "image_shape": list(images.shape[1:]),
        "dtype": str(images.dtype).replace("torch.", ""),
        "split_sizes": {split: len(ds) for split, ds in splits.items()},
        "per_class": per_class,
        "train_mean_rgb": dm.mean.tolist(),
        "train_std_rgb": dm.std.tolist(),
        "class_mean_rgb": class_means,
        "data_folder": str(dm.data_folder) if hasattr(dm, "data_folder") else None,
    }


def describe(f: dict) -> str:
    classes = f["classes"]
    vehicles = [c for c in classes if c in VEHICLES]
    animals = [c for c in classes if c not in VEHICLES]
    c, h, w = f["image_shape"]
    sizes = f["split_sizes"]
    test_counts = [f["per_class"][k]["test"] for k in classes]
    mean = ", ".join(f"{v:.3f}" for v in f["train_mean_rgb"])
    std = ", ".join(f"{v:.3f}" for v in f["train_std_rgb"])
    blue = max(classes, key=lambda k: f["class_mean_rgb"][k][2] - f["class_mean_rgb"][k][0])
    return (
        f"CIFAR-10 holds small colour photographs of {len(classes)} mutually exclusive classes: "
        f"{len(vehicles)} vehicles ({', '.join(vehicles)}) and {len(animals)} animals ({', '.join(animals)}). "
        f"Each image is {h} x {w} pixels with {c} colour channels ({f['dtype']}, 0-255), one object roughly centred, "
        f"seen from varied viewpoints, scales and backgrounds. Here the {sizes['train'] + sizes['validation']:,} "
        f"training images are split into {sizes['train']:,} for training and {sizes['validation']:,} for validation "
        f"(seeded), and {sizes['test']:,} exact test images are available ({min(test_counts)}-{max(test_counts)} per "
        f"class). The training pixels have mean ({mean}) and standard deviation ({std}) per RGB channel in [0, 1] "
        f"units, the values used for normalization. The class whose images are the most blue relative to red is "
        f"'{blue}' (sea and sky backgrounds), a hint that colour statistics alone carry some class information."
    )


def table(f: dict) -> str:
    lines = ["| class | train | validation | test | mean R, G, B (0-1) |", "| --- | ---: | ---: | ---: | --- |"]
    for name in f["classes"]:
        counts = f["per_class"][name]
        rgb = ", ".join(f"{v:.3f}" for v in f["class_mean_rgb"][name])
        lines.append(f"| {name} | {counts['train']:,} | {counts['validation']:,} | {counts['test']:,} | {rgb} |")
    s = f["split_sizes"]
    lines.append(f"| **all** | **{s['train']:,}** | **{s['validation']:,}** | **{s['test']:,}** | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=8, help="sample pictures per class (>= 1)")
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 location (default: the usual search order)")
    parser.add_argument("--val-size", type=int, default=5000, help="validation split, as in training (seeded)")
    args = parser.parse_args(argv)
    if args.per_class < 1:
        parser.error("--per-class must be >= 1")
    dm = CIFAR10DataModule(data_dir=args.data_dir, val_size=args.val_size)
    dm.setup()
    out = new_run_dir("cifar10_classes")
    f = facts(dm)
    sample_grid(dm.train_set.images, dm.train_set.labels, dm.classes, out / "classes.png",
                "CIFAR-10 training images by class", per_class=args.per_class)  # fmt: skip
    text = f"# CIFAR-10 classes\n\n{table(f)}\n{describe(f)}\n"
    (out / "classes.md").write_text(text)
    write_json(out / "classes.json", {**f, "description": describe(f)})
    print(text + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
