"""A grid of sample images per class: one row per class, class names as row titles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from lab.blocks import Figure
from lab.viz.style import figure, save


def first_per_class(labels: torch.Tensor, num_classes: int, per_class: int, seed: int = 0) -> list[torch.Tensor]:
    """Indices of ``per_class`` seeded-random images of each class."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    return [order[labels[order] == c][:per_class] for c in range(num_classes)]


def sample_grid(
    images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], path: Path, title: str, per_class: int = 8
) -> Figure:
    """images uint8 (N, 3, H, W)."""
    picks = first_per_class(labels, len(classes), per_class)
    fig, axes = figure(len(classes), per_class, size=(1.3 * per_class + 1.2, 1.35 * len(classes)), squeeze=False)
    for row, (name, idx) in enumerate(zip(classes, picks)):
        for col in range(per_class):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(idx):
                ax.imshow(images[idx[col]].permute(1, 2, 0).numpy(), interpolation="nearest")
            if col == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    h, w = images.shape[2:]
    return save(
        fig, path, f"{title} ({per_class} per class, {h} x {w} px)", "Seeded random samples, one row per class."
    )
