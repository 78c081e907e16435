"""Training curves of several runs in one 2x2 figure: loss and accuracy, training and validation."""

from __future__ import annotations

from pathlib import Path

from lab.blocks import Figure
from lab.viz.style import figure, save

PANELS = (
    ("train/loss", "training loss (mean over the epoch's batches)", "cross-entropy (nats)"),
    ("val/loss", "validation loss", "cross-entropy (nats)"),
    ("train/acc", "training accuracy (epoch's batches, as trained)", "top-1 accuracy (%)"),
    ("val/acc", "validation accuracy", "top-1 accuracy (%)"),
)
EVAL_TRAIN = (
    "train_eval/acc",
    "training accuracy (5,000 training images, un-augmented, eval mode)",
    "top-1 accuracy (%)",
)


def plot_curves(runs: dict[str, list[dict[str, float]]], path: Path, title: str, caption: str = "") -> Figure:
    """runs: legend label -> per-epoch metrics. Where the runs measured training accuracy on
    un-augmented images in eval mode (train_eval/acc), that is the training accuracy shown."""
    eval_train = any("train_eval/acc" in e for epochs in runs.values() for e in epochs)
    panels = [EVAL_TRAIN if eval_train and key == "train/acc" else (key, name, unit) for key, name, unit in PANELS]
    fig, axes = figure(2, 2, size=(9.5, 6.5))
    for ax, (key, name, unit) in zip(axes.flat, panels):
        scale = 100 if key.endswith("acc") else 1
        for label, epochs in runs.items():
            points = [(e["epoch"] + 1, e[key] * scale) for e in epochs if key in e]
            if points:
                ax.plot(*zip(*points), marker="o", markersize=3, label=label)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=9)
    caption = caption or "Loss (nats) and top-1 accuracy (%) per epoch, training and validation."
    return save(fig, path, title, caption)
