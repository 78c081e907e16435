"""CourseCNN: the improved hand-written CNN of assignment 2 (no off-the-shelf networks).

After the layout of Keller Jordan's airbench (github.com/KellerJordan/cifar10-airbench; "94% on
CIFAR-10 in 3.29 seconds on a single GPU", 2024): a stem, then conv groups that each halve the
resolution (conv -> max-pool -> BN -> act -> conv -> BN -> act), global max pooling and a linear
classifier whose output is scaled down. Options bring in airbench's levers one at a time: a 2x2
"whitening" stem whose frozen filters decorrelate the training patches (``init_whitening``), identity
(dirac) initialisation of the 3x3 convolutions, and BatchNorm without a trainable scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from lab.models.base import Classifier

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


def _bn(channels: int, momentum: float, eps: float, scale: bool) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels, momentum=momentum, eps=eps)
    bn.weight.requires_grad_(scale)  # airbench: a fixed scale of 1, only the shift (bias) learns
    return bn


def _conv(cin: int, cout: int, dirac: bool) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    if dirac:  # the first cin filters start as the identity: an implicit residual path at initialisation
        nn.init.dirac_(conv.weight.data[: min(cin, cout)])
    return conv


class ConvGroup(nn.Module):
    """conv(cin->cout) -> maxpool 2 -> BN -> act -> conv(cout->cout) -> BN -> act [-> + residual conv]."""

    def __init__(self, cin: int, cout: int, act: type[nn.Module], bn: dict, residual: bool, dirac: bool):
        super().__init__()
        self.conv1, self.pool = _conv(cin, cout, dirac), nn.MaxPool2d(2)
        self.bn1, self.act1 = _bn(cout, **bn), act()
        self.conv2 = _conv(cout, cout, dirac)
        self.bn2, self.act2 = _bn(cout, **bn), act()
        self.residual = nn.Sequential(_conv(cout, cout, dirac), _bn(cout, **bn), act()) if residual else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.pool(self.conv1(x))))
        x = self.act2(self.bn2(self.conv2(x)))
        if self.residual is not None:
            x = x + self.residual(x)
        return x


class CourseCNN(Classifier):
    """stem -> len(widths) ConvGroups -> global max pool -> Linear (output x output_scale).

    Args:
        in_channels: image channels.
        num_classes: outputs of the classifier (linked to the data's class count).
        stem: "conv" (3x3 conv with stem_width filters, BN, act) or "whiten" (2x2 conv, 2 x 12 filters set
            from the training patches by ``init_whitening`` and frozen, act; lab.callbacks.WhiteningInit does it).
        stem_width: filters of the "conv" stem.
        widths: output channels of each conv group.
        residual: an extra residual conv in each group (one flag, or one per group).
        activation: relu or gelu.
        bn_momentum: BatchNorm running-statistics momentum (PyTorch's convention).
        bn_eps: BatchNorm epsilon.
        bn_scale: whether BatchNorm's scale (weight) trains; its shift always does.
        dirac: identity initialisation of the 3x3 convolutions.
        output_scale: factor on the logits (a temperature that eases early training).
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        stem: Literal["conv", "whiten"] = "conv",
        stem_width: int = 24,
        widths: Sequence[int] = (64, 128, 256),
        residual: Sequence[bool] | bool = False,
        activation: Literal["relu", "gelu"] = "gelu",
        bn_momentum: float = 0.4,
        bn_eps: float = 1e-5,
        bn_scale: bool = True,
        dirac: bool = False,
        output_scale: float = 1 / 8,
    ):
        super().__init__()
        if not widths:
            raise ValueError("CourseCNN needs at least one conv group width")
        residual = [residual] * len(widths) if isinstance(residual, bool) else list(residual)
        if len(residual) != len(widths):
            raise ValueError(f"residual has {len(residual)} entries for {len(widths)} widths")
        act, bn = _ACTIVATIONS[activation], {"momentum": bn_momentum, "eps": bn_eps, "scale": bn_scale}
        if stem == "whiten":
            cin = 2 * in_channels * 2 * 2
            self.stem = nn.Sequential(nn.Conv2d(in_channels, cin, 2, padding=0, bias=True), act())
            self.stem[0].weight.requires_grad_(False)
        else:
            cin = stem_width
            self.stem = nn.Sequential(nn.Conv2d(in_channels, cin, 3, padding=1, bias=False), _bn(cin, **bn), act())
        groups = []
        for width, res in zip(widths, residual):
            groups.append(ConvGroup(cin, width, act, bn, res, dirac))
            cin = width
        self.groups = nn.Sequential(*groups)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.classifier = nn.Linear(cin, num_classes, bias=False)
        self.output_scale = output_scale

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.groups(self.stem(x))).flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(features) * self.output_scale

    @torch.no_grad()
    def init_whitening(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """Set the "whiten" stem's filters to the eigenvectors of the covariance of the images' 2x2 patches,
        scaled by 1/sqrt(eigenvalue + eps), with their negatives: the stem's output is decorrelated."""
        conv = self.stem[0]
        if conv.kernel_size != (2, 2):
            raise ValueError("init_whitening needs the 'whiten' stem (a 2x2 conv)")
        c, (h, w) = images.shape[1], conv.kernel_size
        patches = images.float().unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c * h * w)
        eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / len(patches))
        filters = (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).flip(0).reshape(c * h * w, c, h, w)
        conv.weight.copy_(torch.cat((filters, -filters)).to(conv.weight))
