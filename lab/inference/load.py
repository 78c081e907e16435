"""The one loader of trained networks: ``load_trained(source)`` reads a run folder, a run's checkpoint or a
shipped network (checkpoints/*.pt) and returns the network with its data record (class names, training mean
and std, input size; timm's ``pretrained_cfg``), so that prediction, evaluation, fine-tuning and transfer
need no training data. Files are read by lab/models/pretrained.py, the one module that knows their format;
images are prepared by the one input transform, lab/data/transform.py, as the training batches were."""

from __future__ import annotations

import importlib
import pickle
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from lab.data.transform import InputTransform
from lab.models.head import mismatches
from lab.models.module import ClassifierModule
from lab.models.pretrained import DataRecord, StoredNetwork, is_shipped, read_network
from lab.utils.errors import CheckpointMismatchError


@dataclass
class Trained:
    """A trained network ready to predict, with what its training data taught it to expect."""

    module: ClassifierModule  # the network (``module.net``) as trained: its test-time augmentation included
    record: DataRecord
    config: dict[str, Any]  # the network's class_path and init_args: what builds it again
    source: Path  # the file it was read from
    info: dict[str, Any] = field(default_factory=dict)  # a shipped network's JSON: source, accuracies, command
    data_config: dict[str, Any] | None = None  # a run's data module (class_path, init_args)

    @property
    def net(self) -> torch.nn.Module:
        return self.module.net

    @cached_property
    def transform(self) -> InputTransform:
        return InputTransform.of(self.record)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, 3, H, W) as the network was trained to see them."""
        return self.transform(images)

    @torch.no_grad()
    def accuracy(self, images: torch.Tensor, labels: torch.Tensor, tta: str = "none", batch_size: int = 500) -> float:
        """Top-1 accuracy on uint8 images, with test-time augmentation ``tta`` (none: the plain network)."""
        self.module.eval()
        correct = sum(
            int((self.module.evaluate(self.prepare(x), tta).argmax(1) == y).sum())
            for x, y in zip(images.split(batch_size), labels.split(batch_size))
        )
        return correct / len(labels)

    def datamodule(self):
        """The data module a run's checkpoint was trained on, rebuilt by Lightning from the options it saved
        (its own class: the base class would drop them)."""
        if self.data_config is None:
            raise CheckpointMismatchError(f"{self.source} records no data module; give a run's checkpoint.")
        return _class(self.data_config["class_path"]).load_from_checkpoint(self.source)


def checkpoint_file(source: Path) -> Path:
    """A run folder's best checkpoint (else its last), or the file itself."""
    if source.is_dir():
        found = sorted((source / "checkpoints").glob("best-*.ckpt")) or sorted(source.glob("**/last.ckpt"))
        if not found:
            raise CheckpointMismatchError(
                f"{source}: no checkpoints/best-*.ckpt or last.ckpt; give a run folder of `fit`."
            )
        return found[-1]
    if not source.is_file():
        raise CheckpointMismatchError(f"{source}: no such checkpoint or run folder.")
    return source


def load_trained(source: str | Path) -> Trained:
    """The trained network in ``source`` (a run folder, a .ckpt, or a shipped .pt with its JSON) with its data
    record; a file that is not one, or whose weights do not fit the network it names, is one error."""
    path = checkpoint_file(Path(source))
    module = None if is_shipped(path) else _lightning_module(path)  # Lightning's error: not a lab checkpoint
    stored = read_network(path)
    if stored.record is None:
        raise CheckpointMismatchError(
            f"{path} does not record its classes and training statistics (made before lab kept them); "
            "retrain it with `python -m lab fit` or `make train`."
        )
    if module is None:
        module = ClassifierModule(_network(stored))
    return Trained(module, stored.record, stored.config, path, stored.info, stored.data_config)


def _lightning_module(path: Path) -> ClassifierModule:
    """A run's checkpoint rebuilt by Lightning as it was trained (network, test-time augmentation, ...)."""
    try:
        return ClassifierModule.load_from_checkpoint(path, map_location="cpu")
    except (RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise CheckpointMismatchError(
            f"{path} cannot be loaded as a lab checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})."
        ) from exc


def _network(stored: StoredNetwork) -> torch.nn.Module:
    """The network a shipped file names, with its weights; weights of another network are one error."""
    name = stored.config["class_path"].rsplit(".", 1)[-1]
    net = _class(stored.config["class_path"])(**stored.config["init_args"])
    problems = mismatches(net, stored.state)
    if problems:
        raise CheckpointMismatchError(f"{stored.path} does not fit {name}: {'; '.join(problems[:4])}.")
    net.load_state_dict(stored.state)
    return net


def _class(class_path: str) -> type:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)
