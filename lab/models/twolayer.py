"""TwoLayerNet: the fully connected baseline of the CIFAR-10 coursework."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lab.models.base import Classifier


class TwoLayerNet(Classifier):
    """flatten -> [Linear -> (BatchNorm) -> ReLU -> (Dropout)] per hidden size -> Linear.

    One hidden size (the default) is the two-layer net of the text; ``hidden_sizes=[512, 256, 128]``
    adds two more layers.
    """

    def __init__(
        self,
        input_size: int = 3 * 32 * 32,
        hidden_sizes: Sequence[int] = (512,),
        num_classes: int = 10,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not hidden_sizes:
            raise ValueError("TwoLayerNet needs at least one hidden size")
        layers: list[nn.Module] = [nn.Flatten()]
        width = input_size
        for size in hidden_sizes:
            layers.append(nn.Linear(width, size, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(nn.ReLU(inplace=True))
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.hidden = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x)
