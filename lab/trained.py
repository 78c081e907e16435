"""A trained model with what its training data taught it to expect (class names, normalisation
statistics, input size), loaded from a run folder, a Lightning checkpoint or a shipped network file:
what prediction and robustness evaluation need, without the training data."""

from __future__ import annotations

import importlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from lab.errors import CheckpointMismatchError
from lab.models.transfer import mismatches, read_net_state
from lab.module import ClassifierModule


@dataclass
class Trained:
    """A model ready to predict, with what its training data taught it to expect."""

    module: ClassifierModule
    classes: list[str]
    mean: list[float]
    std: list[float]
    image_size: list[int]
    source: Path

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, 3, H, W) as the network was trained to see them."""
        mean, std = torch.tensor(self.mean).view(1, -1, 1, 1), torch.tensor(self.std).view(1, -1, 1, 1)
        return (images.float() / 255 - mean) / std

    @torch.no_grad()
    def accuracy(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
        """Top-1 accuracy of the plain network (no test-time augmentation) on uint8 images."""
        self.module.eval()
        correct = sum(
            int((self.module(self.prepare(x)).argmax(1) == y).sum())
            for x, y in zip(images.split(batch_size), labels.split(batch_size))
        )
        return correct / len(labels)


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


def data_record(blob: dict, source: Path) -> dict:
    """The training data's record a checkpoint keeps (classes, mean, std, image_size)."""
    record = next((v for v in blob.values() if isinstance(v, dict) and {"classes", "mean", "std"} <= v.keys()), None)
    if record is None:
        raise CheckpointMismatchError(
            f"{source} does not record its classes and training statistics (made before lab kept them); "
            "retrain it with `python -m lab fit` or `make train`."
        )
    return record


def load_lightning(path: Path) -> Trained:
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
        module = ClassifierModule.load_from_checkpoint(path, map_location="cpu")
    except (RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise CheckpointMismatchError(
            f"{path} cannot be loaded as a lab checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})."
        ) from exc
    record = data_record(blob, path)
    return Trained(module, list(record["classes"]), record["mean"], record["std"], list(record["image_size"]), path)


def load_state_dict_file(path: Path) -> Trained:
    """A shipped network (checkpoints/*.pt) with the JSON beside it naming its class, options and data."""
    info_path = path.with_suffix(".json")
    if not info_path.is_file():
        raise CheckpointMismatchError(f"{path}: no {info_path.name} beside it naming the network and its classes.")
    info = json.loads(info_path.read_text())
    net = getattr(importlib.import_module("lab.models"), info["net"])(**info.get("net_options", {}))
    state = read_net_state(path)
    problems = mismatches(net, state)
    if problems:
        raise CheckpointMismatchError(f"{path} does not fit {info['net']}: {'; '.join(problems[:4])}.")
    net.load_state_dict(state)
    record = data_record({"info": info}, path)
    return Trained(
        ClassifierModule(net),
        list(record["classes"]),
        record["mean"],
        record["std"],
        list(record.get("image_size", (32, 32))),
        path,
    )


def load_trained(source: str | Path) -> Trained:
    path = checkpoint_file(Path(source))
    return load_state_dict_file(path) if path.suffix == ".pt" else load_lightning(path)
