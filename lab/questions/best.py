"""A2 task 2e: the improved hand-written CNN trained to its best accuracy.

    make best           # or: python -m lab.questions best [--experiment best] [--from-run runs/best/best/version_0]

Trains experiments/best.yaml (airbench's recipe as CourseCNN options: whitening stem, 64-256-256,
lookahead, label smoothing, alternating flips + translate, flip + shift test-time augmentation), tests
the best checkpoint (by val/acc) and draws the text's Figure 4: curves, test accuracy with its standard
error and the confusion matrix. ``--from-run`` reports a finished run folder again (nothing is trained).
"""

from __future__ import annotations

import math
from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lab.questions import A2, Question, register
from lab.questions.stats import binomial_se, pct
from lab.questions.training import fit
from lab.report.blocks import Figure, Text, placed
from lab.train import RunResult, reload
from lab.viz.confusion import draw_confusion
from lab.viz.style import figure, save

BAR = 0.75  # the text's full-score bar (Table 1: >= 75% top-1)


@dataclass
class BestResult:
    config: str
    test_acc: float
    test_images: int
    best_val_acc: float
    epochs: int
    train_seconds: float | None  # training time (validation excluded), from TimeToAccuracy
    reached: dict[str, float]  # accuracy threshold -> training seconds when validation first reached it
    checkpoint: str
    run_dir: str
    classes: list[str]
    confusion_matrix: list[list[int]]
    figures: list[Figure] = field(default_factory=list)


QUESTION = register(Question(
    __name__, "Best performance", A2, "task 2e", order=140, result_type=BestResult,
    asks="Improve the hand-written CNN (with the hand-written cross-entropy) until it meets the bar (>= 75% top-1).",
    configs="experiments/best.yaml", exports=(("best_performance.png", "best_performance.png"),)))  # fmt: skip


def performance_figure(result: RunResult, path: Path, title: str) -> Figure:
    metrics, test_acc = result.history, result.test["test/acc"]
    n = int(result.confusion.sum())
    fig, axes = figure(1, 3, size=(17, 5))
    epochs = [e["epoch"] + 1 for e in metrics]
    for key, label in (("train/loss", "training (epoch mean)"), ("val/loss", "validation")):
        axes[0].plot(epochs, [e.get(key, math.nan) for e in metrics], marker="o", markersize=3, label=label)
    axes[0].set(title="loss", xlabel="epoch", ylabel="cross-entropy (nats, label-smoothed)")
    for key, label in (("train/acc", "training (augmented batches)"), ("val/acc", "validation")):
        axes[1].plot(epochs, [100 * e.get(key, math.nan) for e in metrics], marker="o", markersize=3, label=label)
    axes[1].axhline(100 * test_acc, color="C3", linestyle="--", label=f"test, best checkpoint: {100 * test_acc:.1f}%")
    axes[1].set(title="top-1 accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in axes[:2]:
        ax.grid(alpha=0.3)
        ax.legend()
    draw_confusion(axes[2], result.confusion, result.datamodule.classes, f"test confusion matrix ({n} images)")
    title = f"{title}: test accuracy {100 * test_acc:.1f}% ± {100 * binomial_se(test_acc, n):.1f} (s.e.)"
    caption = "Loss and top-1 accuracy per epoch, test accuracy with its standard error, test confusion matrix."
    return save(fig, path, title, caption, label="A2 Figure 4")


def run(args: Namespace, out: Path) -> BestResult:
    result = (
        reload(args.from_run, args.accelerator)
        if args.from_run
        else fit(args, [args.experiment], name=f"best/{args.experiment}")
    )
    title = f"Best performance of the hand-written CNN ({args.experiment})"
    drawn = performance_figure(result, out / "best_performance.png", title)
    timing = result.time_to_accuracy or {}
    history = timing.get("history") or []
    return BestResult(
        config=args.experiment,
        test_acc=result.test["test/acc"],
        test_images=int(result.confusion.sum()),
        best_val_acc=result.best_val_acc,
        epochs=len(result.history),
        train_seconds=history[-1]["train_seconds"] if history else None,
        reached={k: v["train_seconds"] for k, v in timing.get("reached", {}).items()},
        checkpoint=str(result.best_checkpoint),
        run_dir=str(result.run_dir),
        classes=list(result.datamodule.classes),
        confusion_matrix=result.confusion.to(torch.int64).tolist(),
        figures=[drawn],
    )


def render(r: BestResult, folder: Path) -> list:
    se = binomial_se(r.test_acc, r.test_images)
    times = ", ".join(f"{float(k):.0%} after {v:.0f} s" for k, v in r.reached.items())
    verdict = "meets" if r.test_acc - 2 * se >= BAR else ("is at" if r.test_acc >= BAR else "misses")
    return [
        Text(
            f"Best checkpoint of `experiments/{r.config}.yaml` ({r.epochs} epochs): test accuracy {pct(r.test_acc)}% "
            f"± {100 * se:.1f} (binomial s.e., {r.test_images:,} images), "
            f"best validation accuracy {pct(r.best_val_acc)}%; "
            f"it {verdict} the text's full-score bar of {BAR:.0%} top-1."
            + (f" Training took {r.train_seconds:.0f} s (validation excluded)" if r.train_seconds else "")
            + (f"; validation accuracy first reached {times} of training." if times else ".")
        ),
        *placed(r.figures, folder),
    ]  # fmt: skip


def headline(r: BestResult) -> str:
    return f"test {pct(r.test_acc, 1)}% ({r.epochs} epochs" + (
        f", {r.train_seconds:.0f} s of training)" if r.train_seconds else ")"
    )


def add_arguments(parser) -> None:
    parser.add_argument("--experiment", default="best", help="experiments/<name>.yaml to train (default: best)")
    parser.add_argument(
        "--from-run", type=Path, default=None, help="a finished run folder (runs/.../version_N): report it, no training"
    )
