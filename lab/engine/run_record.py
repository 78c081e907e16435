"""What a run folder records about itself: the resolved config (once, to every logger) and
run.json (seed, command, versions, git commit), so that any result can be traced and repeated."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import yaml
from lightning.pytorch.cli import SaveConfigCallback

from lab.utils.paths import REPO_ROOT


def changed_files(repo: Path = REPO_ROOT) -> list[str] | None:
    """Tracked files that differ from HEAD; None outside a git checkout (nothing to compare with)."""
    try:
        command = ["git", "status", "--porcelain", "--untracked-files=no"]
        status = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return [line[3:] for line in status.stdout.splitlines() if line.strip()]


def git_commit() -> str:
    """HEAD's hash, with "+dirty" when tracked files differ from it; "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if changed_files() else "")


def versions() -> dict[str, str]:
    import lightning
    import numpy
    import torch
    import torchmetrics

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "torchmetrics": torchmetrics.__version__,
        "numpy": numpy.__version__,
    }


class RecordRun(SaveConfigCallback):
    """Writes config.yaml (never overwriting), logs the resolved config once to every logger (CSV
    hparams.yaml, W&B config) and writes run.json next to it (a resumed run: config.resume-K.yaml and
    run.resume-K.json beside the first)."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._log_dir = trainer.log_dir  # on every rank: Trainer.log_dir is a collective (broadcast)
        super().setup(trainer, pl_module, stage)

    def save_config(self, trainer, pl_module, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
        for logger in trainer.loggers:
            logger.log_hyperparams(config)
            logger.save()
        record = {
            "stage": stage,
            "seed": config.get("seed_everything"),
            "argv": sys.argv,
            "resumed_from": trainer.ckpt_path,
            "git_commit": git_commit(),
            "versions": versions(),
            "accelerator": type(trainer.accelerator).__name__,
            "devices": trainer.num_devices,
            "strategy": type(trainer.strategy).__name__,
            "precision": trainer.precision,
        }
        if self._log_dir:
            name = self.config_filename.replace("config", "run", 1).rsplit(".", 1)[0] + ".json"
            with open(f"{self._log_dir}/{name}", "w") as f:
                json.dump(record, f, indent=2)
