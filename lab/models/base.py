"""What every network here shares, named as timm names it: ``forward_features`` (image -> penultimate
features) and a linear ``classifier`` that fine-tuning swaps with ``reset_classifier``."""

from __future__ import annotations

import torch
from torch import nn


class Classifier(nn.Module):
    """A classifier split into ``forward_features`` and a linear head ``classifier``.

    Subclasses build ``self.classifier`` (an ``nn.Linear``) and implement ``forward_features``; the
    network's class count is the head's output count, so a head swap is the only way to change it.
    """

    classifier: nn.Linear

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    @property
    def num_classes(self) -> int:
        return self.classifier.out_features

    def get_classifier(self) -> nn.Linear:
        return self.classifier

    def reset_classifier(self, num_classes: int) -> nn.Linear:
        """Swap the head for a freshly initialised one with ``num_classes`` outputs; returns the old head."""
        old = self.classifier
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
        self.classifier = new.to(device=old.weight.device, dtype=old.weight.dtype)
        return old


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
