"""Loading a pretrained network for another number of classes, in the two orders of the coursework.

(a) ``load_then_replace``: give the network the checkpoint's classifier, load every weight (strict),
    then swap the classifier for a new one with the new number of classes.
(b) ``replace_then_load``: swap the classifier first, then load only the parameters whose names and
    shapes match (the old classifier is skipped and reported).
Both leave identical weights everywhere but the (freshly initialised) classifier. The fine-tuning
callback ``lab.callbacks.LoadPretrained`` calls them before training starts; the weights are read by
``read_net_state`` (lab/models/pretrained.py, the checkpoint format).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from torch import nn

from lab.models.base import Classifier
from lab.models.pretrained import read_net_state
from lab.utils.errors import CheckpointMismatchError

LoadOrder = Literal["load_then_replace", "replace_then_load"]
HEAD = "classifier."


def mismatches(net: nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """Every key missing from, unexpected in or shaped differently in ``state``, as readable lines."""
    own = net.state_dict()
    problems = [f"{k}: missing from checkpoint" for k in own if k not in state]
    problems += [f"{k}: unexpected in checkpoint" for k in state if k not in own]
    problems += [
        f"{k}: checkpoint {tuple(state[k].shape)} vs network {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    return problems


def _mismatch_error(net: nn.Module, problems: list[str], source: str) -> CheckpointMismatchError:
    """Up to 4 problems of each kind (missing, unexpected, shape), with how many more there are."""
    shown = []
    for kind in ("missing", "unexpected", " vs ", "no match"):
        same = [p for p in problems if kind in p]
        shown += same[:4] + ([f"... {len(same) - 4} more like it"] if len(same) > 4 else [])
    return CheckpointMismatchError(
        f"{source} does not fit {type(net).__name__}: "
        + "; ".join(shown)
        + ". Use a checkpoint of the same architecture and options (and class count), or configure the network "
        "as it was trained."
    )


def check_checkpoint_fits(net: nn.Module, path: str | Path) -> None:
    """Before Lightning loads ``path`` (``--ckpt_path``): one error listing every mismatched key."""
    problems = mismatches(net, read_net_state(path))
    if problems:
        raise _mismatch_error(net, problems, f"checkpoint {path}")


def load_then_replace(net: Classifier, state: dict[str, torch.Tensor], num_classes: int) -> list[str]:
    """Order (a): load everything into the checkpoint-shaped network, then replace the classifier."""
    head = state.get(HEAD + "weight")
    if head is not None and head.shape[0] != net.num_classes:
        net.reset_classifier(head.shape[0])
    problems = mismatches(net, state)
    if problems:
        raise _mismatch_error(net, problems, "checkpoint")
    net.load_state_dict(state)
    net.reset_classifier(num_classes)
    return sorted(k for k in state if k.startswith(HEAD))


def replace_then_load(net: Classifier, state: dict[str, torch.Tensor], num_classes: int) -> list[str]:
    """Order (b): new classifier first, then load the matching parameters; returns the skipped keys."""
    if net.num_classes != num_classes:
        net.reset_classifier(num_classes)
    own = net.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    body = [k for k in own if not k.startswith(HEAD)]
    missing_body = [f"{k}: no match in checkpoint" for k in body if k not in matching]
    if missing_body:
        raise _mismatch_error(net, missing_body, "checkpoint")
    net.load_state_dict(matching, strict=False)
    return sorted(set(state) - set(matching))


def load_pretrained(net: Classifier, path: str | Path, num_classes: int, order: LoadOrder) -> list[str]:
    """Load ``path`` into ``net`` for ``num_classes`` outputs by ``order``; returns the keys not loaded."""
    if not isinstance(net, Classifier):
        raise CheckpointMismatchError(f"pretrained weights need a lab.models network, got {type(net).__name__}")
    state = read_net_state(path)
    if order == "load_then_replace":
        return load_then_replace(net, state, num_classes)
    return replace_then_load(net, state, num_classes)
