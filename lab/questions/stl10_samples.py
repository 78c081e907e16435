"""The STL-10 subset: sample pictures of every chosen class, at full size and as the network sees them.

    make stl10-samples   # or: python -m lab.questions.stl10_samples [--per-class 8]

Writes results/stl10_samples/<run>/: samples_96px.png, samples_32px.png and counts.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.data import STL10SubsetDataModule
from lab.questions.common import new_run_dir, publish, run_main, write_json
from lab.viz.samples import sample_grid


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--data-dir", default=None, help="STL-10 location (default: the usual search order)")
    parser.add_argument("--classes", nargs="+", default=None, help="class names (default: the five of the text)")
    parser.add_argument("--val-size", type=int, default=500)
    args = parser.parse_args(argv)
    if args.per_class < 1:
        parser.error("--per-class must be >= 1")
    extra = {"classes": args.classes} if args.classes else {}
    out = new_run_dir("stl10_samples")
    counts = {}
    for size in (96, 32):
        dm = STL10SubsetDataModule(data_dir=args.data_dir, image_size=size, val_size=args.val_size, **extra)
        dm.setup()
        title = f"STL-10 subset, training images by class, at {size} px"
        sample_grid(
            dm.train_set.images, dm.train_set.labels, dm.classes, out / f"samples_{size}px.png", title, args.per_class
        )
        counts = {
            split: {c: int((ds.labels == i).sum()) for i, c in enumerate(dm.classes)}
            for split, ds in (("train", dm.train_set), ("validation", dm.val_set), ("test", dm.test_set))
        }
    write_json(out / "counts.json", {"classes": list(dm.classes), "counts": counts})
    print(f"{counts}\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
