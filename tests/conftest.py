"""Shared fixtures: tiny datasets in the official formats, W&B off, a clean run root."""

from __future__ import annotations

import os

import pytest
import torch

from lab.data.synthetic import write_cifar10, write_stl10

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def tiny_cifar(tmp_path_factory):
    """Data root holding cifar10/ with 5 x 40 training and 40 test images."""
    return write_cifar10(tmp_path_factory.mktemp("data"), per_batch=40, test_count=40)


@pytest.fixture(scope="session")
def tiny_stl10(tmp_path_factory):
    """Data root holding stl10/ with the five classes of the text only (as ../shared/data does)."""
    return write_stl10(tmp_path_factory.mktemp("stl"), per_class_train=24, per_class_test=8, class_ids=[1, 2, 4, 6, 9])


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No dataset anywhere: LAB_DATA_DIR unset, shared and local folders pointed at empty dirs."""
    import lab.paths

    monkeypatch.delenv("LAB_DATA_DIR", raising=False)
    monkeypatch.setattr(lab.paths, "SHARED_DATA", tmp_path / "shared")
    monkeypatch.setattr(lab.paths, "LOCAL_DATA", tmp_path / "local")
    return tmp_path
