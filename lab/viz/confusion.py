"""Confusion matrix figure (counts, rows = true class) from torchmetrics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics.classification import MulticlassConfusionMatrix


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return MulticlassConfusionMatrix(num_classes)(predictions.cpu(), labels.cpu())


def draw_confusion(ax, matrix: torch.Tensor, classes: Sequence[str], title: str) -> None:
    image = ax.imshow(matrix.numpy(), cmap="Blues")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="test images (count)")
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, classes, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    threshold = matrix.max().item() / 2
    for i in ticks:
        for j in ticks:
            value = int(matrix[i, j])
            ax.text(j, i, value, ha="center", va="center", fontsize=7, color="white" if value > threshold else "black")
