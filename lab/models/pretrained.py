"""Trained networks as files hold them: the one module that knows the checkpoint format.

Two kinds of file hold a trained network:

- a run's Lightning checkpoint (``runs/<name>/version_N/checkpoints/*.ckpt``): the weights under ``state_dict``
  (``net.`` + the network's keys), the network's class and options under ``hyper_parameters["net"]``, the data
  module's under ``datamodule_hyper_parameters``, and its ``DataRecord`` under the data module's class name
  (where Lightning keeps ``datamodule.state_dict()``);
- a shipped network (``checkpoints/<name>.pt``): the network's state dict, with a JSON beside it naming the
  network class (``net``), its options (``net_options``), how it was made, and its ``DataRecord``.

``read_network`` reads either kind into a ``StoredNetwork``, ``write_network`` writes the shipped pair, and
``read_net_state`` the weights alone (what fine-tuning starts from). The loader of trained networks
(``lab.inference.load.load_trained``) builds on these; a new format changes this file only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lab.utils.errors import CheckpointMismatchError

SHIPPED_SUFFIX = ".pt"  # a shipped network; any other file is a Lightning checkpoint
NETWORKS = "lab.models"  # the package a shipped network's class (its JSON's "net") lives in


@dataclass(frozen=True)
class DataRecord:
    """What a trained network expects of its input, kept beside its weights so that prediction needs no
    training data (timm's ``pretrained_cfg``): the class names, the training images' per-channel mean and
    standard deviation (in [0, 1] units) and the input size (height, width)."""

    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    image_size: tuple[int, int] = (32, 32)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> DataRecord:
        size = record.get("image_size", cls.image_size)
        return cls(tuple(record["classes"]), tuple(record["mean"]), tuple(record["std"]), tuple(size))

    def as_dict(self) -> dict[str, Any]:
        """As a checkpoint and a shipped network's JSON keep it."""
        return {
            "classes": list(self.classes),
            "mean": list(self.mean),
            "std": list(self.std),
            "image_size": tuple(self.image_size),
        }

    @staticmethod
    def is_record(value: Any) -> bool:
        return isinstance(value, Mapping) and {"classes", "mean", "std"} <= value.keys()


@dataclass(frozen=True)
class StoredNetwork:
    """A trained network as a file holds it, with nothing built yet."""

    path: Path
    state: dict[str, torch.Tensor]  # the network's weights (its own keys, no ``net.`` prefix)
    config: dict[str, Any]  # {"class_path": ..., "init_args": {...}}: the network to build for ``state``
    record: DataRecord | None  # None: made before lab kept it
    info: dict[str, Any] = field(default_factory=dict)  # a shipped network's JSON: source, accuracies, command
    data_config: dict[str, Any] | None = None  # a run's data module: {"class_path": ..., "init_args": {...}}

    @property
    def shipped(self) -> bool:
        return is_shipped(self.path)


def is_shipped(path: Path) -> bool:
    """A shipped network (weights + JSON), not a Lightning checkpoint of a run."""
    return path.suffix == SHIPPED_SUFFIX


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint file's contents (tensors and plain values only), or one error naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointMismatchError(f"checkpoint {path} not found; train one first or give the right path.")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointMismatchError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
            "it is truncated or not a checkpoint: give another one (a run's checkpoints/*.ckpt)."
        ) from exc
    if not isinstance(blob, dict):
        raise CheckpointMismatchError(f"checkpoint {path} holds a {type(blob).__name__}, not a checkpoint dict.")
    return blob


def net_state(blob: Mapping[str, Any], source: str | Path) -> dict[str, torch.Tensor]:
    """The network weights of a read checkpoint: a Lightning one's ``net.*`` keys, or a plain state dict."""
    state = blob.get("state_dict", blob)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointMismatchError(f"checkpoint {source} holds no state dict of tensors.")
    prefixed = {k.removeprefix("net."): v for k, v in state.items() if k.startswith("net.")}
    return prefixed or state


def read_net_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Network weights from a Lightning checkpoint (``net.*`` keys) or a plain state dict file."""
    return net_state(read_checkpoint(path), path)


def network_config(blob: Mapping[str, Any]) -> dict[str, Any] | None:
    """The class path and options of the network a checkpoint written through the CLI was trained with
    (None: unknown, e.g. a module built in code)."""
    net = blob.get("hyper_parameters", {}).get("net")
    return net if isinstance(net, dict) and "class_path" in net else None


def read_network(path: Path) -> StoredNetwork:
    """The trained network in ``path`` (a run's checkpoint or a shipped ``.pt``), as the file holds it."""
    if is_shipped(path):
        return _read_shipped(path)
    blob = read_checkpoint(path)
    config = network_config(blob)
    if config is None:
        raise CheckpointMismatchError(
            f"{path} does not record its network; give a checkpoint written by `python -m lab fit`."
        )
    record = next((DataRecord.from_dict(v) for v in blob.values() if DataRecord.is_record(v)), None)
    data = dict(blob.get("datamodule_hyper_parameters", {}))
    data_config = {"class_path": data.pop("_class_path"), "init_args": data} if "_class_path" in data else None
    return StoredNetwork(path, net_state(blob, path), config, record, {}, data_config)


def shipped_info(path: Path) -> dict[str, Any]:
    """The JSON beside a shipped network (what it is and how it was made); {} when there is none."""
    info_path = path.with_suffix(".json")
    return json.loads(info_path.read_text()) if info_path.is_file() else {}


def _read_shipped(path: Path) -> StoredNetwork:
    info = shipped_info(path)
    if not info:
        raise CheckpointMismatchError(
            f"{path}: no {path.with_suffix('.json').name} beside it naming the network and its classes."
        )
    config = {"class_path": f"{NETWORKS}.{info['net']}", "init_args": dict(info.get("net_options", {}))}
    record = DataRecord.from_dict(info) if DataRecord.is_record(info) else None
    return StoredNetwork(path, read_net_state(path), config, record, info)


def write_network(
    path: Path, state: Mapping[str, torch.Tensor], net: str, options: Mapping[str, Any], record: DataRecord, made: dict
) -> dict[str, Any]:
    """A shipped network: ``state`` in ``path`` (written atomically: a crash never leaves half a file), and the
    JSON beside it with the network class (a name in lab.models), its options, ``made`` (how it was made) and
    its data record. Returns the JSON's content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(dict(state), tmp)
    tmp.replace(path)
    info = {"file": path.name, "net": net, "net_options": dict(options), **made, **record.as_dict()}
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return info
