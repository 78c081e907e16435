"""Where question results live and how they travel: results/<question>/<timestamp>/ with result.json
(the question's typed result), its figures, and a ``latest`` link moved only when the question ends.
A folder whose question has not finished holds an INCOMPLETE file (a killed question leaves it so;
one that fails or is interrupted removes its folder): it is never an answer and ``latest`` never
points at it."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

from lab.utils.paths import REPO_ROOT

RESULT_FILE = "result.json"
# fields that name a training run's folder or checkpoint (RunSummary.run_dir, best's and finetune's
# checkpoints, the models transfer and robustness start from): stored absolute, so that a result read
# from any working directory finds its runs
RUN_PATHS = frozenset({"run_dir", "checkpoint", "source", "finetune_run", "checkpoint_after", "checkpoint_before"})
INCOMPLETE = "INCOMPLETE"


def default_root() -> Path:
    return Path(os.environ.get("LAB_RESULTS_DIR", REPO_ROOT / "results"))


def new_run_dir(question: str, root: Path, suffix: str = "") -> Path:
    """root/<question>/<timestamp>[suffix][-k]/, never an existing folder, marked INCOMPLETE until
    ``finished`` is called on it."""
    base = root / question
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S") + suffix
    run_dir, k = base / stamp, 1
    while True:
        try:
            run_dir.mkdir()
            (run_dir / INCOMPLETE).write_text("This question did not finish: not an answer. Run it again.\n")
            return run_dir
        except FileExistsError:
            k += 1
            run_dir = base / f"{stamp}-{k}"


def finished(run_dir: Path) -> Path:
    """Unmark a run folder once its answer is complete (result.json and run.json written)."""
    (run_dir / INCOMPLETE).unlink(missing_ok=True)
    return run_dir


def point_latest(run_dir: Path) -> None:
    """Point <question>/latest at a finished run folder, atomically: readers never see a missing link."""
    latest = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)


def latest(question: str, root: Path) -> Path | None:
    link = root / question / "latest"
    return link.resolve() if link.exists() else None


# -- typed results <-> JSON ------------------------------------------------------------------
def to_json(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else str(obj)
    return obj


def from_json(kind: Any, data: Any) -> Any:
    """``data`` (parsed JSON) as ``kind``: dataclasses, lists, dicts and optionals, recursively."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if data is None:
        return math.nan if kind is float else None
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = {f.name for f in dataclasses.fields(kind) if f.init}
        return kind(**{k: from_json(hints[k], v) for k, v in data.items() if k in fields})
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return from_json(options[0], data) if len(options) == 1 else data
    if origin in (list, tuple):
        return [from_json(args[0] if args else Any, v) for v in data]
    if origin is dict:
        return {k: from_json(args[1] if args else Any, v) for k, v in data.items()}
    if kind is float:
        return data if isinstance(data, int) else float(data)  # an int was an int when saved: round trips exactly
    if kind is Path:
        return Path(data)
    return data


def absolute_run_paths(data: Any) -> Any:
    """``data`` (JSON) with every relative path in a RUN_PATHS field made absolute (from the working
    directory of the question that made them, the one they are relative to)."""
    if isinstance(data, list):
        return [absolute_run_paths(v) for v in data]
    if not isinstance(data, dict):
        return data
    return {
        k: os.path.abspath(v) if k in RUN_PATHS and isinstance(v, str) and v else absolute_run_paths(v)
        for k, v in data.items()
    }


def save(result: Any, folder: Path) -> Path:
    path = folder / RESULT_FILE
    path.write_text(json.dumps(absolute_run_paths(to_json(result)), indent=1) + "\n")
    return path


def load(kind: type, folder: Path) -> Any:
    return from_json(kind, json.loads((folder / RESULT_FILE).read_text()))
