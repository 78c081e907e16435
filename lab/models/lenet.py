"""ConvNet: LeNet-5 for 3-channel 32x32 images, with the coursework's optional extras."""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import torch
from torch import nn

from lab.models.base import Classifier

MAX_EXTRA_CONVS = 3  # the coursework allows at most 3 conv layers beyond LeNet-5


def _conv_block(cin: int, cout: int, kernel: int, padding: int, batch_norm: bool, act: type[nn.Module]):
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, padding=padding, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(act())
    return nn.Sequential(*layers)


class ConvNet(Classifier):
    """LeNet-5: C1 6@5x5 -> S2 -> C3 16@5x5 -> S4 -> C5 120 -> F6 84 -> output.

    For colour input C1 has 6 kernels of 3x5x5. C5 is a 5x5 convolution over the 16x5x5 maps,
    i.e. a 400->120 fully connected layer. ``extra_convs`` (0-3) inserts 3x3 same-padding
    convolutions: after C1, after C3, then after C1 again, with ``extra_channels`` outputs each
    (default: the channel count of the layer they follow); the next layer's input adapts.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        c1: int = 6,
        c3: int = 16,
        c5: int = 120,
        f6: int = 84,
        batch_norm: bool = False,
        extra_convs: int = 0,
        extra_channels: int | None = None,
        activation: Literal["relu", "tanh"] = "relu",
        pool: Literal["max", "avg"] = "max",
        dropout: float = 0.0,
    ):
        super().__init__()
        if not 0 <= extra_convs <= MAX_EXTRA_CONVS:
            raise ValueError(f"extra_convs must be 0..{MAX_EXTRA_CONVS} (the coursework's limit), got {extra_convs}")
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        pool_cls = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        after_c1 = [f"c1_extra{i}" for i in range(1, extra_convs + 1) if i != 2]
        after_c3 = ["c3_extra"] if extra_convs >= 2 else []
        stages: list[tuple[str, nn.Module]] = [("c1", _conv_block(in_channels, c1, 5, 0, batch_norm, act))]
        width = c1
        for name in after_c1:
            stages.append((name, _conv_block(width, extra_channels or c1, 3, 1, batch_norm, act)))
            width = extra_channels or c1
        stages += [("s2", pool_cls(2)), ("c3", _conv_block(width, c3, 5, 0, batch_norm, act))]
        width = c3
        for name in after_c3:
            stages.append((name, _conv_block(width, extra_channels or c3, 3, 1, batch_norm, act)))
            width = extra_channels or c3
        stages += [("s4", pool_cls(2)), ("c5", _conv_block(width, c5, 5, 0, batch_norm, act))]
        self.features = nn.Sequential(OrderedDict(stages))
        f6_layers: list[nn.Module] = [nn.Flatten(), nn.Linear(c5, f6, bias=not batch_norm)]
        if batch_norm:
            f6_layers.append(nn.BatchNorm1d(f6))
        f6_layers.append(act())
        if dropout:
            f6_layers.append(nn.Dropout(dropout))
        self.f6 = nn.Sequential(*f6_layers)
        self.classifier = nn.Linear(f6, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.f6(self.features(x))
