"""A2 task 2d: position and colour augmentation, shown on Lenna, then its effect on overfitting.

    make augment        # or: python -m lab.questions augment [--image PATH] [--seeds 3] [--epochs 6]

Draws the text's Figure 3 (Lenna without augmentation, with position and with colour augmentation, made
by lab/data/augment.py on whole batches) and trains the course CNN without and with flip + translate
over --seeds seeds. The train - validation gap uses training accuracy measured on 5,000 un-augmented
training images in eval mode at the end of the last epoch, so augmentation cannot shrink it by making
the training batches harder.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torchvision.io import decode_image, read_file, write_png

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.data.augment import AugmentConfig, BatchAugment
from lab.questions import A2, Question, register
from lab.questions.context import RunContext
from lab.questions.stats import Difference, Spread, spread_words
from lab.questions.training import Variant, over_seeds
from lab.utils.errors import CorruptDataError, DataNotFoundError
from lab.utils.paths import find_dataset
from lab.viz.curves import plot_curves
from lab.viz.style import figure, save

COLOUR = AugmentConfig(brightness=0.4, contrast=0.4, saturation=0.6, hue=0.1)  # shown on Lenna; never trained
LENNA_FILES = ("Lenna.png", "Lenna_aug1.png", "Lenna_aug2.png")  # the text's results: original, position, colour
# the trained variants' labels: other questions find them in this one's result by these constants
PLAIN, TRAINED = "none", "flip + translate 4 px"
TRAINING = {
    PLAIN: {"data": {"init_args": {"augment": None}}},
    TRAINED: {"data": {"init_args": {"augment": {"flip": True, "translate": 4}}}},
}
TRAINED_SIDE = 32  # CIFAR-10's image side, in pixels: the trained shift is relative to it


def trained_position(side: int) -> tuple[AugmentConfig, AugmentConfig]:
    """The position augmentation the trained runs used (read from TRAINING) and the same at an image of ``side``
    pixels: the shift scaled by side / 32, so that it moves the image by the same fraction of its side."""
    trained = AugmentConfig(**TRAINING[TRAINED]["data"]["init_args"]["augment"])
    return trained, replace(trained, translate=max(1, round(trained.translate * side / TRAINED_SIDE)))


def position_label(trained: AugmentConfig, shown: AugmentConfig) -> str:
    flip = "flip (p 0.5), " if trained.flip else ""
    return (
        f"position, as trained:\n{flip}shift ±{trained.translate} px at {TRAINED_SIDE} px\n"
        f"(±{shown.translate} px here, {trained.translate / TRAINED_SIDE:.3g} of the side)"
    )


@dataclass
class AugmentResult:
    image: str
    variants: list[Variant]
    figures: list[Figure] = field(default_factory=list)

    def gaps(self, label: str) -> Spread:
        return Spread.of(
            [r.last.get("train_eval/acc", float("nan")) - r.last["val/acc"] for r in self.variant(label).runs]
        )

    def variant(self, label: str) -> Variant:
        return next(v for v in self.variants if v.label == label)


def load_image(path: Path | None) -> tuple[torch.Tensor, Path]:
    """Lenna.png from the data folders (or the image at ``path``) as float (3, H, W) in [0, 1]."""
    if path is None:
        file = find_dataset("lenna", "Lenna.png", option="--image PATH") / "Lenna.png"
    else:
        file = Path(path)
        if not file.is_file():
            raise DataNotFoundError(f"--image {path}: no such file; give the path of a PNG or JPEG image.")
    try:
        image = decode_image(read_file(str(file)))
    except RuntimeError as exc:
        raise CorruptDataError(f"{file}: cannot be decoded as an image ({exc}); use a PNG or JPEG file.") from exc
    return (image.repeat(3, 1, 1) if image.shape[0] == 1 else image[:3]).float() / 255, file


def augmentation_figure(image: torch.Tensor, out: Path, samples: int = 5, seed: int = 0) -> Figure:
    """The panel figure, plus the text's three files: Lenna.png, Lenna_aug1.png (position), Lenna_aug2.png (colour)."""
    batch, generator = image.unsqueeze(0).repeat(samples, 1, 1, 1), torch.Generator().manual_seed(seed)
    trained, position = trained_position(min(image.shape[1:]))
    rows = {
        position_label(trained, position): BatchAugment(position).position(batch, generator),
        f"colour only (not trained):\nbrightness ±{COLOUR.brightness:.0%}, contrast ±{COLOUR.contrast:.0%},\n"
        f"saturation ±{COLOUR.saturation:.0%}, hue ±{COLOUR.hue:g} turn": BatchAugment(COLOUR).colour(batch, generator),
    }
    for name, picture in zip(LENNA_FILES, (image, *(x[0] for x in rows.values()))):
        write_png((picture.clamp(0, 1) * 255).round().to(torch.uint8), str(out / name))
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
    caption = (
        f"Top: the position augmentation the trained runs used ({TRAINED}, experiments/course_cnn.yaml + this "
        f"question's change), its shift scaled from {TRAINED_SIDE} px to this image's side. Bottom: colour only "
        "(brightness, contrast, saturation, hue; no training run uses it). Both by lab/data/augment.py. Lenna.png, "
        "Lenna_aug1.png (position: the first top sample) and Lenna_aug2.png (colour only: the first bottom sample)."
    )
    title = f"Augmentations on the {h} x {w} px image: position as trained (top), colour only (bottom)"
    return save(fig, out / "lenna_augmentations.png", title, caption, label="A2 Figure 3")


def run(ctx: RunContext, out: Path, opts: Options) -> AugmentResult:
    image, file = load_image(opts.image)
    lenna = augmentation_figure(image, out)
    specs = {label: (["course_cnn"], change, f"augment/{label.split()[0]}") for label, change in TRAINING.items()}
    variants = [Variant(label, runs) for label, runs in over_seeds(ctx, specs).items()]
    curves = plot_curves(
        {v.label: v.runs[0].history for v in variants},
        out / "curves.png",
        "Course CNN without and with augmentation (Adam, lr 1e-3; seed 0)",
    )
    return AugmentResult(str(file), variants, [lenna, curves])


def explain(r: AugmentResult) -> str:
    without, with_ = r.gaps(PLAIN), r.gaps(TRAINED)
    change = Difference.between(without, with_)
    val = Difference.between(r.variant(PLAIN).val, r.variant(TRAINED).val)
    text = (
        f"Train - validation accuracy gap at the last epoch (training accuracy on un-augmented images, eval mode): "
        f"{without.pct(1)} points without augmentation, {with_.pct(1)} points with flip + translate "
        f"({spread_words(without.n)}). Augmentation changes the gap by {change.points()}: "
    )
    if change.measurable:
        text += "the gap " + ("shrinks: augmentation reduces overfitting." if change.delta < 0 else "widens.")
    else:
        text += "no measurable effect on the gap."
    return text + f" Best validation accuracy: {val.verdict()} with augmentation."


def render(r: AugmentResult, folder: Path) -> list:
    def last(v: Variant, key: str) -> str:
        return Spread.of([x.last.get(key, float("nan")) for x in v.runs]).pct(1)

    rows = [
        [
            v.label,
            last(v, "train_eval/acc"),
            last(v, "val/acc"),
            r.gaps(v.label).pct(1),
            v.test.pct(1),
            v.runs[0].epochs,
            len(v.runs),
        ]
        for v in r.variants
    ]
    header = [
        "training data",
        "train acc (%)",
        "val acc (%)",
        "train - val gap (pts)",
        "test acc (%)",
        "epochs",
        "seeds",
    ]
    return [
        *placed(r.figures[:1], folder),
        Text(explain(r)),
        Table(
            "Course CNN without and with augmentation",
            markdown_table(header, rows),
            f"Last epoch, {spread_words(len(r.variants[0].runs))}; training accuracy on 5,000 un-augmented "
            "training images "
            "in eval mode.",
        ),
        *placed(r.figures[1:], folder),
    ]


def headline(r: AugmentResult) -> str:
    return f"train - val gap {r.gaps(PLAIN).pct(1)} -> {r.gaps(TRAINED).pct(1)} points"


@dataclass(frozen=True)
class Options:
    """augment's own option.

    Attributes:
        image: image to augment (default: Lenna.png, data folders)
    """

    image: Path | None = None


QUESTION = register(
    Question(
        __name__,
        "Data augmentation",
        A2,
        "task 2d",
        order=130,
        result_type=AugmentResult,
        asks="At least two augmentations shown on Lenna.png; does the train-validation gap shrink with augmentation?",
        configs="experiments/course_cnn.yaml",
        exports=tuple((f, f) for f in LENNA_FILES),
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
