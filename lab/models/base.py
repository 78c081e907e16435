"""What every network here shares: a named output layer that fine-tuning can swap."""

from __future__ import annotations

import torch
from torch import nn


class Backbone(nn.Module):
    """A classifier split into ``embed`` (image -> penultimate features) and ``output`` (a Linear).

    Subclasses build ``self.output`` and implement ``embed``; ``forward`` is their composition.
    """

    output: nn.Linear

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.embed(x))

    @property
    def num_classes(self) -> int:
        return self.output.out_features

    def replace_head(self, num_classes: int) -> tuple[nn.Linear, nn.Linear]:
        """Swap the output layer for a freshly initialised one with ``num_classes`` outputs."""
        old = self.output
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
        new.to(device=old.weight.device, dtype=old.weight.dtype)
        self.output = new
        return old, new


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
