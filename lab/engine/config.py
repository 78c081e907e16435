"""Run configurations as nested dicts: experiments/<name>.yaml files layered in order, then changes.

A later layer updates an earlier one key by key, except that a block naming a different
``class_path`` replaces the whole block (an Adam optimizer must not inherit SGD's momentum). The result
is what ``python -m lab fit --config a.yaml --config b.yaml`` would parse, and each run saves it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from lab.utils.errors import LabError
from lab.utils.paths import REPO_ROOT

EXPERIMENTS = REPO_ROOT / "experiments"
Layer = str | Path | Mapping[str, Any]


def merge(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``change`` (neither is modified)."""
    out = copy.deepcopy(dict(base))
    for key, value in change.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping) and not _replaces(old, value):
            out[key] = merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _replaces(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return "class_path" in new and new["class_path"] != old.get("class_path")


def experiment_path(name: str | Path) -> Path:
    """``lenet`` -> experiments/lenet.yaml; a path to an existing file is taken as it is."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise LabError(f"config {path} not found; give the path of a YAML file or a name in {EXPERIMENTS}/.")
        return path
    path = EXPERIMENTS / f"{name}.yaml"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in EXPERIMENTS.glob("*.yaml")))
        raise LabError(f"no experiment named {name!r}; experiments/ has: {names}")
    return path


def load_layer(layer: Layer) -> dict[str, Any]:
    if isinstance(layer, Mapping):
        return dict(layer)
    path = experiment_path(layer)
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise LabError(f"{path}: a run config must be a mapping (trainer:, model:, data:), got {type(data).__name__}")
    return data


def compose(layers: Sequence[Layer]) -> dict[str, Any]:
    """Every layer merged in order into one config dict."""
    config: dict[str, Any] = {}
    for layer in layers:
        config = merge(config, load_layer(layer))
    return config


def on_top_of(base: str, overlay: str) -> list[str]:
    """``base`` then ``overlay`` (fast90 on best: ["best", "fast90"]); ``base`` alone when the overlay is ``base``."""
    return [base] if overlay == base else [base, overlay]


def nested(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """{"model.optimizer.init_args.lr": 0.01} -> {"model": {"optimizer": {"init_args": {"lr": 0.01}}}}."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
