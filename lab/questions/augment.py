"""Assignment 2, task 2d: position and colour augmentation, shown on Lenna, then its effect on overfitting.

    make augment        # or: python -m lab.questions.augment [--image PATH] [--epochs 10]

Writes results/augment/<run>/: lenna_augmentations.png (original, position- and colour-augmented
samples made by lab/data/augment.py on whole batches), curves.png and gap.md / augment.json (the
course CNN trained without and with augmentation: the train-validation accuracy gap of each).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torchvision.io import decode_image, read_file

from lab.data.augment import AugmentConfig, BatchAugment
from lab.errors import CorruptDataError, DataNotFoundError
from lab.paths import find_dataset
from lab.questions.common import base_parser, fit, new_run_dir, publish, run_main, write_json
from lab.viz.curves import plot_curves
from lab.viz.metrics import read_epoch_metrics
from lab.viz.style import figure, save

POSITION = AugmentConfig(flip=True, rotate=25)  # translate: 1/8 of the image side, set per image
COLOUR = AugmentConfig(brightness=0.4, contrast=0.4, saturation=0.6, hue=0.1)
TRAINING_AUGMENT = '{"flip": true, "translate": 4}'


def load_image(path: str | None) -> torch.Tensor:
    """Lenna.png from the data folders (or the image at ``path``) as float (3, H, W) in [0, 1]."""
    if path is None:
        file = find_dataset("lenna", "Lenna.png", download=None) / "Lenna.png"
    else:
        file = Path(path)
        if not file.is_file():
            raise DataNotFoundError(f"--image {path}: no such file; give the path of a PNG or JPEG image.")
    try:
        image = decode_image(read_file(str(file)))
    except RuntimeError as exc:
        raise CorruptDataError(f"{file}: cannot be decoded as an image ({exc}); use a PNG or JPEG file.") from exc
    if image.shape[0] == 1:
        image = image.repeat(3, 1, 1)
    return image[:3].float() / 255


def augmentation_figure(image: torch.Tensor, path: Path, samples: int = 5, seed: int = 0) -> Path:
    batch = image.unsqueeze(0).repeat(samples, 1, 1, 1)
    generator = torch.Generator().manual_seed(seed)
    position = replace(POSITION, translate=max(1, min(image.shape[1:]) // 8))
    rows = {
        f"position\nflip, shift ±{position.translate} px,\nrotate ±{position.rotate:g}°":
            BatchAugment(position).position(batch, generator),
        f"colour\nbrightness ±{COLOUR.brightness:.0%}, contrast ±{COLOUR.contrast:.0%},\n"
        f"saturation ±{COLOUR.saturation:.0%}, hue ±{COLOUR.hue:g} turn":
            BatchAugment(COLOUR).colour(batch, generator),
    }  # fmt: skip
    fig, axes = figure(len(rows), samples + 1, size=(2.3 * (samples + 1) + 1.5, 2.6 * len(rows)))
    for r, (label, augmented) in enumerate(rows.items()):
        axes[r, 0].imshow(image.permute(1, 2, 0).numpy())
        axes[r, 0].set_title("original", fontsize=9)
        axes[r, 0].set_ylabel(label, fontsize=9)
        for c in range(samples):
            axes[r, c + 1].imshow(augmented[c].permute(1, 2, 0).clamp(0, 1).numpy())
            axes[r, c + 1].set_title(f"sample {c + 1}", fontsize=9)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    h, w = image.shape[1:]
    return save(fig, path, f"Augmentations on the {h} x {w} px image: position (top) and colour (bottom)")


def gap_table(rows: list[dict]) -> str:
    lines = [
        "| training data | train acc (%) | val acc (%) | train - val gap (pts) | test acc (%) | epochs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['augmentation']} | {100 * r['train/acc']:.1f} | {100 * r['val/acc']:.1f} | "
            f"{100 * (r['train/acc'] - r['val/acc']):.1f} | {100 * r['test/acc']:.1f} | {r['epochs']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--image", default=None, help="image to augment (default: Lenna.png from the data folders)")
    args, cli_args = parser.parse_known_args(argv)
    image = load_image(args.image)
    out = new_run_dir("augment")
    augmentation_figure(image, out / "lenna_augmentations.png")
    epochs = ["--trainer.max_epochs", str(args.epochs)] if args.epochs else []
    curves, rows = {}, []
    for label, augment in (("no augmentation", "null"), ("flip + translate 4 px", TRAINING_AUGMENT)):
        name = "augment/" + ("none" if augment == "null" else "flip_translate")
        cli = fit("course_cnn", name, ["--data.init_args.augment", augment, *epochs], cli_args)
        metrics = read_epoch_metrics(cli.trainer.log_dir)
        curves[label] = metrics
        last = {k: v for e in metrics for k, v in e.items() if k in ("train/acc", "val/acc")}
        rows.append({"augmentation": label, **last, "test/acc": float(cli.trainer.callback_metrics["test/acc"]),
                     "epochs": len(metrics), "run_dir": cli.trainer.log_dir})  # fmt: skip
    plot_curves(curves, out / "curves.png", "Course CNN without and with augmentation (Adam, lr 1e-3)")
    (out / "gap.md").write_text(gap_table(rows))
    write_json(out / "augment.json", {"rows": rows, "curves": curves})
    print(gap_table(rows) + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
