"""A layer table (name, type, output shape, trainable parameters) read off a module with hooks."""

from __future__ import annotations

import torch
from torch import nn


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> list[dict]:
    """One row per leaf module in call order, from a forward pass on zeros of ``input_shape``."""
    rows, hooks = [], []
    names = {module: name for name, module in model.named_modules()}

    def record(module, _inputs, output):
        rows.append(
            {
                "layer": names[module],
                "type": type(module).__name__,
                "output_shape": list(output.shape[1:]),
                "parameters": sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad),
            }
        )

    for module in model.modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| layer | type | output shape | trainable parameters |", "| --- | --- | --- | ---: |"]
    lines += [
        f"| {r['layer']} | {r['type']} | {' x '.join(map(str, r['output_shape']))} | {r['parameters']:,} |"
        for r in rows
    ]
    lines.append(f"| **total** | | | **{sum(r['parameters'] for r in rows):,}** |")
    return "\n".join(lines) + "\n"
