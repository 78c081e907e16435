"""Training curves of several runs in one 2x2 figure: loss and accuracy, training and validation."""

from __future__ import annotations

from pathlib import Path

from lab.viz.style import figure, save

PANELS = (
    ("train/loss", "training loss", "cross-entropy (nats)"),
    ("val/loss", "validation loss", "cross-entropy (nats)"),
    ("train/acc", "training accuracy", "top-1 accuracy (%)"),
    ("val/acc", "validation accuracy", "top-1 accuracy (%)"),
)


def plot_curves(runs: dict[str, list[dict[str, float]]], path: Path, title: str) -> Path:
    """runs: legend label -> per-epoch metrics (from read_epoch_metrics)."""
    fig, axes = figure(2, 2, size=(11, 7.5))
    for ax, (key, name, unit) in zip(axes.flat, PANELS):
        scale = 100 if key.endswith("acc") else 1
        for label, epochs in runs.items():
            points = [(e["epoch"] + 1, e[key] * scale) for e in epochs if key in e]
            if points:
                ax.plot(*zip(*points), marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save(fig, path, title)
