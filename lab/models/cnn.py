"""CourseCNN: the improved hand-written CNN of assignment 2 (no off-the-shelf networks).

Shaped for a small CPU budget, after airbench's layout: a 3x3 stem, then three conv groups that
each halve the resolution (conv -> max-pool -> BN -> act -> conv -> BN -> act, the second conv
working at the lower resolution), optionally with a residual conv, then global max pooling and a
linear classifier whose output is scaled down (a temperature that eases early training).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from lab.models.base import Classifier

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


def _bn(channels: int, momentum: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=momentum)


class ConvGroup(nn.Module):
    """conv(cin->cout) -> maxpool 2 -> BN -> act -> conv(cout->cout) -> BN -> act [-> + residual conv]."""

    def __init__(self, cin: int, cout: int, act: type[nn.Module], bn_momentum: float, residual: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.bn1, self.act1 = _bn(cout, bn_momentum), act()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2, self.act2 = _bn(cout, bn_momentum), act()
        self.residual = (
            nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, bias=False), _bn(cout, bn_momentum), act())
            if residual
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.pool(self.conv1(x))))
        x = self.act2(self.bn2(self.conv2(x)))
        if self.residual is not None:
            x = x + self.residual(x)
        return x


class CourseCNN(Classifier):
    """stem conv -> len(widths) ConvGroups -> global max pool -> Linear (output x output_scale)."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        stem_width: int = 24,
        widths: Sequence[int] = (64, 128, 256),
        residual: Sequence[bool] | bool = False,
        activation: Literal["relu", "gelu"] = "gelu",
        bn_momentum: float = 0.4,
        output_scale: float = 1 / 8,
    ):
        super().__init__()
        if not widths:
            raise ValueError("CourseCNN needs at least one conv group width")
        residual = [residual] * len(widths) if isinstance(residual, bool) else list(residual)
        if len(residual) != len(widths):
            raise ValueError(f"residual has {len(residual)} entries for {len(widths)} widths")
        act = _ACTIVATIONS[activation]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_width, 3, padding=1, bias=False), _bn(stem_width, bn_momentum), act()
        )
        groups, cin = [], stem_width
        for width, res in zip(widths, residual):
            groups.append(ConvGroup(cin, width, act, bn_momentum, res))
            cin = width
        self.groups = nn.Sequential(*groups)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.classifier = nn.Linear(cin, num_classes, bias=False)
        self.output_scale = output_scale

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.groups(self.stem(x))).flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(features) * self.output_scale
