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


CELL_IN = 0.8  # inches per image: the printed report sizes figures by their smallest text, so smaller cells
# (with the same 11 pt class names) print the grid smaller


def sample_grid(
    images: torch.Tensor,
    labels: torch.Tensor,
    classes: Sequence[str],
    path: Path,
    title: str,
    per_class: int = 8,
    classes_per_row: int = 1,
) -> Figure:
    """images uint8 (N, 3, H, W); ``classes_per_row`` classes side by side (a wide, short grid for 10 classes),
    each named above its first image."""
    picks = first_per_class(labels, len(classes), per_class)
    rows = -(-len(classes) // classes_per_row)
    size = (CELL_IN * per_class * classes_per_row + 0.2, (CELL_IN + 0.25) * rows)
    fig, axes = figure(rows, per_class * classes_per_row, size=size, squeeze=False)
    for k, (name, idx) in enumerate(zip(classes, picks)):
        row, first = k // classes_per_row, (k % classes_per_row) * per_class
        for col in range(per_class):
            if col < len(idx):
                axes[row, first + col].imshow(images[idx[col]].permute(1, 2, 0).numpy(), interpolation="nearest")
        axes[row, first].set_title(name, loc="left", fontsize=11)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        if not ax.images:
            ax.set_axis_off()
    h, w = images.shape[2:]
    return save(fig, path, f"{title} ({per_class} per class, {h} x {w} px)", "Seeded random samples of each class.")
