"""Shared fixtures: one tiny data root in the official formats, the tiny-run config that points every
run at it, W&B off, and the question runner's arguments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import yaml

from tests.synthetic import write_cifar10, write_stl10

os.environ.setdefault("WANDB_MODE", "disabled")
torch.set_num_threads(min(2, torch.get_num_threads()))
SMOKE = Path(__file__).resolve().parent.parent / "experiments" / "smoke.yaml"


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """cifar10/ with 5 x 40 training and 40 test images; stl10/ with the text's five classes, 24 + 8 each."""
    root = tmp_path_factory.mktemp("data")
    write_cifar10(root, per_batch=40, test_count=40)
    write_stl10(root, per_class_train=24, per_class_test=8, class_ids=[1, 2, 4, 6, 9])
    return root


@pytest.fixture(scope="session")
def tiny_cifar(tiny_data) -> Path:
    return tiny_data


@pytest.fixture(scope="session")
def tiny_stl10(tiny_data) -> Path:
    return tiny_data


@pytest.fixture
def tiny_config(tiny_data, tmp_path) -> Path:
    """A run config layered onto any experiment: the tiny data, the CPU, no progress bars, runs under
    tmp_path/runs, W&B off. Questions and the CLI take it with --config."""
    config = {
        "trainer": {"accelerator": "cpu", "enable_progress_bar": False},
        "data": {"init_args": {"data_dir": str(tiny_data), "val_size": 20, "download": False}},
        "run": {"root": str(tmp_path / "runs"), "wandb": "disabled"},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def question_args(tiny_config, tmp_path) -> list[str]:
    """What `make <question> SMOKE=1` passes, plus the tiny data and a private results folder."""
    return [
        "--config",
        str(tiny_config),
        "--config",
        str(SMOKE),
        "--results",
        str(tmp_path / "results"),
        "--accelerator",
        "cpu",
        "--workers",
        "1",
    ]


@pytest.fixture
def run_context(tiny_config, tmp_path):
    """The RunContext that ``question_args`` parses to: what a test hands to training and question code."""
    from lab.questions.context import RunContext

    return RunContext.of(configs=[tiny_config, SMOKE], results=tmp_path / "results", accelerator="cpu", workers=1)


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No dataset anywhere: LAB_DATA_DIR unset, shared and local folders pointed at empty dirs."""
    import lab.utils.paths

    monkeypatch.delenv("LAB_DATA_DIR", raising=False)
    monkeypatch.setattr(lab.utils.paths, "SHARED_DATA", tmp_path / "shared")
    monkeypatch.setattr(lab.utils.paths, "LOCAL_DATA", tmp_path / "local")
    return tmp_path
