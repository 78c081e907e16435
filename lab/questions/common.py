"""What every question shares: a fresh results folder per run, JSON written once, SMOKE mode."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from lab.paths import REPO_ROOT

RESULTS_ROOT = Path(os.environ.get("LAB_RESULTS_DIR", REPO_ROOT / "results"))


def smoke() -> bool:
    """SMOKE=1: tiny settings so a question's whole code path runs in seconds (tests, CI)."""
    return os.environ.get("SMOKE", "0") not in ("", "0", "false", "False")


def new_run_dir(question: str, root: Path | None = None) -> Path:
    """results/<question>/<timestamp>[-k]/, never an existing folder; results/<question>/latest points to it."""
    base = (root or RESULTS_ROOT) / question
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S") + ("-smoke" if smoke() else "")
    run_dir, k = base / stamp, 1
    while True:
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            k += 1
            run_dir = base / f"{stamp}-{k}"
    latest = base / "latest"
    tmp = base / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)  # atomic: readers never see a missing link
    return run_dir


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
