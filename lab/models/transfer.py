"""Loading a pretrained backbone for another number of classes, in the two orders of the coursework.

(a) ``load_then_replace``: give the network the checkpoint's output layer, load every weight
    (strict), then swap the output layer for a new one with the new number of classes.
(b) ``replace_then_load``: build the network for the new classes, then load only the parameters
    whose names and shapes match (the output layer is skipped and reported).
Both leave identical weights everywhere but the (freshly initialised) output layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch

from lab.errors import CheckpointMismatchError
from lab.models.base import Backbone

LoadOrder = Literal["load_then_replace", "replace_then_load"]


def read_backbone_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Backbone weights from a Lightning checkpoint (``backbone.*`` keys) or a plain state dict file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointMismatchError(f"checkpoint {path} not found; train one first or give the right path.")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointMismatchError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}).") from exc
    state = blob.get("state_dict", blob) if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        raise CheckpointMismatchError(f"checkpoint {path} holds no state dict.")
    prefixed = {k[len("backbone.") :]: v for k, v in state.items() if k.startswith("backbone.")}
    return prefixed or state


def _mismatches(backbone: torch.nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    own = backbone.state_dict()
    problems = [f"{k}: missing from checkpoint" for k in own if k not in state]
    problems += [f"{k}: unexpected in checkpoint" for k in state if k not in own]
    problems += [
        f"{k}: checkpoint {tuple(state[k].shape)} vs network {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    return problems


def check_checkpoint_fits(backbone: torch.nn.Module, path: str | Path) -> None:
    """Before Lightning loads ``path`` (``--ckpt_path``) into a model with ``backbone``: one error
    listing every missing, unexpected or differently shaped key, instead of PyTorch's traceback."""
    problems = _mismatches(backbone, read_backbone_state(path))
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise CheckpointMismatchError(
            f"checkpoint {path} does not fit {type(backbone).__name__}: " + "; ".join(problems[:10]) + more
            + ". Give a checkpoint of this network and class count, or the --config/--model.backbone it was trained "
            "with."
        )  # fmt: skip


def load_then_replace(backbone: Backbone, state: dict[str, torch.Tensor], num_classes: int) -> None:
    """Order (a): load everything into the checkpoint-shaped network, then replace the output layer."""
    head = state.get("output.weight")
    if head is not None and head.shape[0] != backbone.num_classes:
        backbone.replace_head(head.shape[0])
    problems = _mismatches(backbone, state)
    if problems:
        raise CheckpointMismatchError(
            f"checkpoint does not fit {type(backbone).__name__} ({len(problems)} mismatched keys: "
            f"{'; '.join(problems[:8])}{' ...' if len(problems) > 8 else ''}); use a checkpoint of the same "
            "architecture and options, or configure the backbone as it was trained."
        )
    backbone.load_state_dict(state)
    if backbone.num_classes != num_classes:
        backbone.replace_head(num_classes)


def replace_then_load(backbone: Backbone, state: dict[str, torch.Tensor], num_classes: int) -> list[str]:
    """Order (b): new output layer first, then load the matching parameters; returns the skipped keys."""
    if backbone.num_classes != num_classes:
        backbone.replace_head(num_classes)
    own = backbone.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    skipped = sorted(set(state) - set(matching))
    body = [k for k in own if not k.startswith("output.")]
    missing_body = [k for k in body if k not in matching]
    if missing_body:
        raise CheckpointMismatchError(
            f"checkpoint does not fit {type(backbone).__name__}: {len(missing_body)} of its {len(body)} non-output "
            f"tensors have no match ({', '.join(missing_body[:8])}{' ...' if len(missing_body) > 8 else ''}); "
            "use a checkpoint of the same architecture and options."
        )
    backbone.load_state_dict(matching, strict=False)
    return skipped


def load_pretrained(backbone: Backbone, path: str | Path, num_classes: int, order: LoadOrder) -> list[str]:
    """Load ``path`` into ``backbone`` for ``num_classes`` outputs; returns the keys not loaded."""
    state = read_backbone_state(path)
    if order == "load_then_replace":
        load_then_replace(backbone, state, num_classes)
        return ["output.weight", "output.bias"]
    return replace_then_load(backbone, state, num_classes)
