"""Where data lives.

Search order, first hit wins:
1. an explicit ``data_dir`` argument,
2. the ``LAB_DATA_DIR`` environment variable,
3. ``../shared/data`` beside the repository,
4. ``./data`` in the repository, downloading through torchvision when online.

Each root holds one folder per dataset (``cifar10/``, ``stl10/``); a path that points straight
at a dataset folder works too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from lab.utils.errors import DataNotFoundError

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
LOCAL_DATA = REPO_ROOT / "data"
ENV_VAR = "LAB_DATA_DIR"


def _dataset_dir(root: Path, name: str, marker: str) -> Path | None:
    """The folder below ``root`` that contains ``marker``, trying ``root/name`` then ``root``."""
    for candidate in (root / name, root):
        if (candidate / marker).exists():
            return candidate
    return None


def find_dataset(
    name: str,
    marker: str,
    data_dir: str | os.PathLike | None = None,
    download: Callable[[Path], None] | None = None,
    option: str = "--data.init_args.data_dir PATH",
) -> Path:
    """Return the folder holding dataset ``name`` (the one that contains ``marker``).

    An explicit ``data_dir`` or ``LAB_DATA_DIR`` that lacks the dataset is an error rather than a
    silent fall-through: the user asked for that place. ``option`` is how the user gives the path
    explicitly, named in the error.
    """
    for source, value in (("data_dir", data_dir), (ENV_VAR, os.environ.get(ENV_VAR))):
        if value:
            found = _dataset_dir(Path(value).expanduser(), name, marker)
            if found is None:
                raise DataNotFoundError(
                    f"{name}: {source}={value} does not contain '{name}/{marker}' (or '{marker}'). "
                    f"Give {option}, or point {ENV_VAR} at the folder that holds '{name}/', or leave both unset "
                    f"to use {SHARED_DATA} or {LOCAL_DATA}."
                )
            return found
    for root in (SHARED_DATA, LOCAL_DATA):
        found = _dataset_dir(root, name, marker)
        if found is not None:
            return found
    target = LOCAL_DATA / name
    if download is not None:
        try:
            download(target)
        except Exception as exc:  # no network, server down, disk full: all end the same way
            reason = f"the download into {target} failed ({type(exc).__name__}: {exc})"
        else:
            if (target / marker).exists():
                return target
            reason = f"the download into {target} did not produce '{marker}'"
    else:
        reason = "downloading is switched off"
    raise DataNotFoundError(
        f"{name} not found and {reason}. Provide it in one of three ways: (1) {option}, "
        f"(2) set {ENV_VAR}=PATH, where PATH holds '{name}/{marker}', or "
        f"(3) place it at {SHARED_DATA / name / marker} or {LOCAL_DATA / name / marker}"
        + (" (the latter is filled by torchvision's download when online)." if download else ".")
    )


def shown(path: str | Path) -> str:
    """A path as a report shows it: relative to the repository when inside it (no machine's folders in a
    document), else as it is."""
    path = Path(path)
    return (
        path.relative_to(REPO_ROOT).as_posix() if path.is_absolute() and path.is_relative_to(REPO_ROOT) else str(path)
    )


def run_folder(path: str | Path) -> Path:
    """One spelling of a run folder: a run summary may hold it relative to the repository or absolute."""
    return (REPO_ROOT / path).resolve()
