"""Never train the same run twice: a content-addressed cache of finished training runs.

A run is identified by what determines its result, never by where it is written:

- the resolved config (every default filled in by the same parser ``lab fit`` uses), without the
  run's name, folders, logger and progress-bar settings;
- the hardware it resolves to (CPU or GPU) and the library versions;
- the code that trains it: a hash of the training modules (``TRAINING_CODE``), not of the questions,
  the report or the figures;
- the data: a hash of the dataset files the run reads, and of any other file its config names (a
  pretrained checkpoint).

``lookup`` answers a finished run of the same identity, ``store`` records one. An entry is written
atomically, and only after its run ended (tested, or diverged as a study records), so an interrupted run is
never reused; an entry whose run folder was deleted is a miss, not an error. Entries live in
``<run root>/.cache/<key>.json`` beside the run folders they point at.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.engine.config import Layer
from lab.utils.errors import DataNotFoundError

PACKAGE = Path(__file__).resolve().parents[1]  # lab/
# what a training run computes with: a change to any of these is a new run. Not here: the wiring that builds
# a run (cli.py, train.py: what it sets is in the resolved config, which is hashed), where and how a run is
# written (loggers.py, resume.py, checkpoint files), and the questions, report and figures, which only read
# results. RETRAIN=1 trains again after a change outside this list that should count.
TRAINING_CODE = ("models", "data", "callbacks", "schedules.py", "engine/precision.py")  # models/: module, losses
# settings that say where and how a run is written or shown, not what it computes
NOT_IDENTITY = {
    ("run",): ("name", "root", "group", "wandb", "project", "entity", "tags"),
    ("trainer",): (
        "default_root_dir",
        "enable_progress_bar",
        "logger",
        "enable_model_summary",
        "accelerator",
        "devices",
    ),
    ("data", "init_args"): ("data_dir", "download"),
    ("checkpoint",): ("dirpath", "filename", "save_last", "verbose", "save_on_exception", "save_weights_only"),
}
CACHE_FOLDER = ".cache"


@dataclass(frozen=True)
class RunIdentity:
    key: str  # sha256 of ``parts``
    cache_dir: Path  # <run root>/.cache
    parts: dict[str, Any] = field(compare=False)  # what was hashed, kept in the entry for a reader

    @property
    def entry(self) -> Path:
        return self.cache_dir / f"{self.key}.json"


@dataclass
class Ledger:
    """What the cache did in this process: runs trained and runs reused (with their folders)."""

    trained: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.trained.clear()
        self.reused.clear()


LEDGER = Ledger()


def identify(layers: Sequence[Layer]) -> RunIdentity | None:
    """The identity of a run of ``layers``; None when it cannot be known (its data is not found: the run
    itself will then say so)."""
    config = resolve(layers)
    if isinstance(config.get("seed_everything"), bool) or config.get("seed_everything") is None:
        return None  # an unseeded run is not repeatable: nothing to reuse
    try:
        data = data_fingerprint(config["data"])
    except (DataNotFoundError, NotImplementedError):
        return None
    parts = {
        "config": without_locations(config),
        "files": referenced_files(config),
        "device": device_kind(config["trainer"].get("accelerator")),
        "code": code_fingerprint(),
        "data": data,
        "versions": library_versions(),
    }
    key = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    root = Path(config["run"]["root"]).expanduser().resolve()
    return RunIdentity(key, root / CACHE_FOLDER, parts)


def lookup(identity: RunIdentity) -> dict[str, Any] | None:
    """The entry of a finished run with this identity whose folder still exists, else None."""
    try:
        entry = json.loads(identity.entry.read_text())
    except (OSError, ValueError):
        return None  # no entry, or one that cannot be read: a miss, trained again and rewritten
    if entry.get("key") != identity.key or not Path(entry.get("run_dir", "")).is_dir():
        return None
    return entry


def store(identity: RunIdentity, run_dir: str | Path, payload: Mapping[str, Any]) -> None:
    """Record a finished run: write the entry beside its final name, then rename (atomic)."""
    entry = {"key": identity.key, "run_dir": str(Path(run_dir).resolve()), **payload, "identity": identity.parts}
    identity.cache_dir.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=identity.cache_dir, prefix=".entry-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as f:
            json.dump(entry, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, identity.entry)
    finally:
        Path(tmp).unlink(missing_ok=True)


# -- the parts of an identity ------------------------------------------------------------------
def resolve(layers: Sequence[Layer]) -> dict[str, Any]:
    """The config a run of ``layers`` trains with, every default filled in, parsed as ``lab fit`` does."""
    from lab.engine.train import build_config, parse_only

    return yaml.safe_load(parse_only(build_config(layers, None, None, True)))


def without_locations(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` less NOT_IDENTITY (the config is not modified)."""
    out = json.loads(json.dumps(config, default=str))
    for path, keys in NOT_IDENTITY.items():
        node = out
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        for key in keys if isinstance(node, dict) else ():
            node.pop(key, None)
    return out


def referenced_files(config: Any) -> dict[str, str]:
    """sha256 of every file the config names (a pretrained checkpoint, say): the same path holding other
    weights is another run."""
    found: dict[str, str] = {}
    if isinstance(config, Mapping):
        for value in config.values():
            found |= referenced_files(value)
    elif isinstance(config, list):
        for value in config:
            found |= referenced_files(value)
    elif isinstance(config, str) and 0 < len(config) < 4096 and Path(config).expanduser().is_file():
        path = Path(config).expanduser()
        found[config] = _file_hash(path.resolve(), *_stamp(path))
    return found


def device_kind(accelerator: str | None) -> str:
    import torch

    wants_gpu = accelerator in (None, "auto", "gpu", "cuda")
    return f"cuda:{torch.cuda.get_device_name()}" if wants_gpu and torch.cuda.is_available() else "cpu"


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the training modules' source, file by file in a fixed order."""
    digest = hashlib.sha256()
    for entry in TRAINING_CODE:
        path = PACKAGE / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(file.relative_to(PACKAGE)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def data_fingerprint(data_config: Mapping[str, Any]) -> str:
    """sha256 of the files of the dataset a data config reads (its folder found as the run would)."""
    from jsonargparse import ArgumentParser

    from lab.data.base import InMemoryImageDataModule

    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(InMemoryImageDataModule, "data")
    datamodule = parser.instantiate(parser.parse_object({"data": dict(data_config)})).data
    folder = datamodule.source_folder()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256("".join(_file_hash(p, *_stamp(p)) for p in files).encode()).hexdigest()


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@functools.cache
def _file_hash(path: Path, size: int, mtime_ns: int) -> str:
    """A file's sha256, computed once per process for each (size, modification time) it has had."""
    digest = hashlib.sha256(path.name.encode() + b"\0")
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import lightning
    import torch

    return {"torch": torch.__version__, "lightning": lightning.__version__}
