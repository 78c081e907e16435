"""A2 task 1: batch normalization in NumPy inside the course's toy MLP (the network of its Assignment 1).

    make bn            # or: python -m lab.questions bn [--images mnist_subset/] [--iterations 50] [--lr 0.1]

784 -> 16 -> BN -> sigmoid -> 1 -> sigmoid, weights from seed 14, summed binary cross-entropy, plain
gradient descent (lr 0.1, 50 iterations) on 9 training images (the first labelled 1, the rest 0) and 1
validation image (label 0), 28 x 28 grayscale in [0, 1]. The images come from a course ``mnist_subset/``
folder (0.png ... 9.png) given with --images; without one, from the handwritten digits that ship with
scikit-learn (load_digits: the first image of each digit 0-9, 8 x 8 resized to 28 x 28), and the
output says so. Prints `iteration: k, loss: x` and `validation loss: x` as the text's Figure 1 and
writes bn_loss.txt (the 50 training losses and the validation loss, one per line).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lab.blocks import Figure, Text, placed
from lab.numpy_bn import BatchNormState, ToyMLP
from lab.questions import A2, Question, register
from lab.questions.context import RunContext
from lab.utils import console
from lab.utils.errors import CorruptDataError, DataNotFoundError
from lab.viz.style import figure, save

SIDE, COUNT = 28, 10
LABELS = np.array([1] + [0] * (COUNT - 1), dtype=np.float64).reshape(-1, 1)  # image 0 is the positive one


@dataclass
class BNResult:
    images: str  # where the 10 images came from
    iterations: int
    lr: float
    momentum: float
    train_loss: list[float]
    validation_loss: float  # inference mode: the running statistics
    validation_loss_initial_stats: float  # the same network with the initial running statistics (mean 0, var 1)
    figures: list[Figure] = field(default_factory=list)
    train_images: int = COUNT - 1
    validation_images: int = 1
    validation_loss_batch_stats: float = float("nan")  # with the final training batch's statistics instead
    mean_gap: float = float("nan")  # median over units: |running mean - final batch mean| / final batch std
    var_ratio: float = float("nan")  # median over units: running variance / final batch variance (unbiased)


def read_folder(folder: Path) -> np.ndarray:
    """0.png ... 9.png of a course mnist_subset/ folder -> (10, 784) floats in [0, 1]; one clear error otherwise."""
    from torchvision.io import ImageReadMode, decode_image, read_file

    if not folder.is_dir():
        raise DataNotFoundError(
            f"--images {folder}: no such folder; give the course's mnist_subset/ folder (0.png ... 9.png)."
        )
    missing = [f"{i}.png" for i in range(COUNT) if not (folder / f"{i}.png").is_file()]
    if missing:
        raise DataNotFoundError(
            f"--images {folder}: missing {', '.join(missing)}; the folder must hold 0.png ... 9.png."
        )
    images = []
    for i in range(COUNT):
        path = folder / f"{i}.png"
        try:
            image = decode_image(read_file(str(path)), mode=ImageReadMode.UNCHANGED)
        except RuntimeError as exc:
            raise CorruptDataError(
                f"{path}: cannot be decoded as an image ({exc}); use 28 x 28 grayscale PNGs."
            ) from exc
        if image.shape[0] != 1 or tuple(image.shape[1:]) != (SIDE, SIDE):
            raise CorruptDataError(
                f"{path}: {image.shape[0]} channel(s), {image.shape[1]} x {image.shape[2]} px; "
                f"the toy MLP needs 28 x 28 grayscale images (1 channel)."
            )
        images.append(image[0].numpy().astype(np.float64) / 255)
    return np.stack(images).reshape(COUNT, -1)


def bundled_digits() -> np.ndarray:
    """The first image of each digit 0-9 of scikit-learn's load_digits (8 x 8, 0-16), resized to 28 x 28."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    first = [int(np.nonzero(digits.target == d)[0][0]) for d in range(COUNT)]
    small = torch.tensor(digits.images[first] / 16.0).unsqueeze(1)
    return (
        F.interpolate(small, size=(SIDE, SIDE), mode="bilinear", align_corners=False)
        .clamp(0, 1)
        .numpy()
        .reshape(COUNT, -1)
    )


def load_images(folder: Path | None) -> tuple[np.ndarray, str]:
    if folder is not None:
        return read_folder(folder), f"the course's mnist_subset images in {folder}"
    return bundled_digits(), (
        "scikit-learn's bundled handwritten digits (load_digits; the first image of each digit 0-9, "
        "8 x 8 resized to 28 x 28), as no course mnist_subset/ folder was given (--images)"
    )


def run(ctx: RunContext, out: Path, opts: Options) -> BNResult:
    if opts.iterations < 1 or opts.lr <= 0:
        raise ValueError("--iterations must be >= 1 and --lr > 0")
    x, source = load_images(opts.images)
    console.info(f"images: {source}")
    model = ToyMLP.from_seed(14)
    console.info(
        f"running statistics: running = (1 - {model.bn.momentum}) * running + {model.bn.momentum} * batch "
        "statistic (PyTorch's convention, unbiased batch variance); inference uses them"
    )
    losses = []
    for it in range(1, opts.iterations + 1):
        losses.append(model.train_step(x[:-1], LABELS[:-1], opts.lr))
        console.info(f"iteration: {it}, loss: {losses[-1]:.6f}")
    val = model.evaluate(x[-1:], LABELS[-1:])
    console.info(f"validation loss: {val:.6f}")
    trained_stats, model.bn = model.bn, BatchNormState.create(len(model.bn.running_mean))
    initial = model.evaluate(x[-1:], LABELS[-1:])
    model.bn = trained_stats
    (out / "bn_loss.txt").write_text("".join(f"{v:.6f}\n" for v in [*losses, val]))
    drawn = draw(losses, val, out / "loss_curve.png")
    result = BNResult(source, opts.iterations, opts.lr, model.bn.momentum, losses, val, initial, [drawn])
    result.validation_loss_batch_stats, result.mean_gap, result.var_ratio = against_batch_statistics(model, x)
    return result


def against_batch_statistics(model: ToyMLP, x: np.ndarray) -> tuple[float, float, float]:
    """How far the running statistics are from the final weights' batch statistics on the training images,
    and the validation loss inference would give with the latter."""
    h = x[:-1] @ model.params["W1"]
    mean, var = h.mean(axis=0), h.var(axis=0, ddof=1)
    gap = float(np.median(np.abs(model.bn.running_mean - mean) / np.sqrt(var + model.bn.eps)))
    ratio = float(np.median(model.bn.running_var / (var + model.bn.eps)))
    running, model.bn = model.bn, BatchNormState(mean, var, model.bn.momentum, model.bn.eps)
    loss = model.evaluate(x[-1:], LABELS[-1:])
    model.bn = running
    return loss, gap, ratio


def draw(losses: list[float], val: float, path: Path) -> Figure:
    fig, ax = figure()
    ax.plot(range(1, len(losses) + 1), losses, marker="o", markersize=3, label="training loss (batch statistics)")
    ax.axhline(val, color="C1", linestyle="--", label=f"validation loss, inference mode ({val:.3f})")
    ax.set(
        xlabel="iteration (gradient-descent step on the 9 training images)",
        ylabel="binary cross-entropy, summed over the images (nats)",
    )
    ax.legend()
    ax.grid(alpha=0.3)
    return save(
        fig,
        path,
        "Toy MLP with NumPy batch normalization: loss per iteration",
        "Summed binary cross-entropy per gradient-descent step; dashed: the validation loss.",
        "A2 Figure 1",
    )


def render(r: BNResult, folder: Path) -> list:
    loss = r.train_loss
    return [
        Text(
            f"The course's toy MLP (784 -> 16 -> BN -> sigmoid -> 1 -> sigmoid, weights from seed 14) on {r.images}. "
            f"Gradient descent, lr {r.lr:g}: loss {loss[0]:.6f} at iteration 1, {loss[1]:.6f} at iteration 2 and "
            f"{loss[-1]:.6f} at iteration {len(loss)}; validation loss (inference mode) {r.validation_loss:.6f}. The "
            "text's Figure 1 goes from 13.90185 through 3.033449 to 0.816967, validation 0.028552: the same shape on "
            "other images, as the text allows."
        ),
        Text(inference_note(r)),
        *placed(r.figures, folder),
    ]


def inference_note(r: BNResult) -> str:
    """What inference with the running statistics shows here, from the measurements (not a fixed story)."""
    m, steps = r.momentum, len(r.train_loss)
    text = (
        f"Data: {r.train_images} training images (the first labelled 1, the rest 0) and {r.validation_images} "
        f"validation image (label 0). Running statistics follow PyTorch's convention (momentum {m:g}, unbiased "
        "variance); inference uses them, as a batch of one image has no variance of its own. Validation loss with "
        f"the running statistics {r.validation_loss:.3f}; with the initial ones (mean 0, variance 1) "
        f"{r.validation_loss_initial_stats:.3f}; with the final training batch's statistics "
        f"{r.validation_loss_batch_stats:.3f}. After {steps} steps the running mean is {r.mean_gap:.2f} batch "
        f"standard deviations from the final batch mean and the running variance is {r.var_ratio:.2f}x the batch "
        f"variance (medians over the units): the running estimates average the statistics of every earlier step "
        f"(weight {m:g} x {1 - m:g}^k on the step k before the last; the initial values keep {(1 - m) ** steps:.1%}), "
        "while the weights kept changing. "
    )
    if r.validation_loss > r.validation_loss_batch_stats:
        text += "The lag costs here: the statistics of the final weights give the lower validation loss. "
    else:
        text += (
            "The lag does not cost here: the running statistics give a validation loss no higher than the final ones. "
        )
    p_running, p_initial = math.exp(-r.validation_loss), math.exp(-r.validation_loss_initial_stats)
    lower = "initial" if r.validation_loss_initial_stats < r.validation_loss else "running"
    return text + (
        f"With {r.validation_images} validation image these losses only say which probability it gets of its label "
        f"({p_running:.1%} with the running statistics, {p_initial:.1%} with the initial ones): one image ranks no "
        f"setting, so the lower loss with the {lower} statistics is not evidence that they are better."
    )


def headline(r: BNResult) -> str:
    loss = r.train_loss
    return f"loss {loss[0]:.2f} -> {loss[-1]:.3f} in {r.iterations} iterations; validation {r.validation_loss:.3f}"


@dataclass(frozen=True)
class Options:
    """bn's own options.

    Attributes:
        images: a course mnist_subset/ folder with 0.png ... 9.png
        iterations: training steps of the batch-norm layer
        lr: their learning rate
    """

    images: Path | None = None
    iterations: int = 50
    lr: float = 0.1


QUESTION = register(
    Question(
        __name__,
        "Batch normalization in NumPy",
        A2,
        "task 1",
        order=110,
        result_type=BNResult,
        asks="Forward (training, running statistics), backward and inference of batch normalization, NumPy only "
        "and without loops, in the toy MLP of Assignment 1.",
        configs="lab/numpy_bn/",
        exports=(("bn_loss.txt", "bn_loss.txt"), ("loss_curve.png", "bn_loss_curve.png")),
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
