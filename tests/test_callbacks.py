import json
from functools import partial
from types import SimpleNamespace

import lightning as L
import pytest
import torch

from lab.callbacks import FiniteLossGuard, TimeToAccuracy
from lab.data import CIFAR10DataModule
from lab.models import ConvNet
from lab.models.module import ClassifierModule
from lab.utils.errors import NonFiniteLossError


def test_time_to_accuracy_records_first_crossing(tiny_cifar, tmp_path):
    L.seed_everything(0)
    dm = CIFAR10DataModule(data_dir=str(tiny_cifar), val_size=40, batch_size=32, download=False)
    timer = TimeToAccuracy(thresholds=(0.0, 1.01))
    trainer = L.Trainer(
        max_epochs=3,
        accelerator="cpu",
        default_root_dir=tmp_path,
        logger=L.pytorch.loggers.CSVLogger(tmp_path),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
    )
    trainer.fit(ClassifierModule(ConvNet(), optimizer=partial(torch.optim.Adam, lr=1e-3)), datamodule=dm)
    summary = json.loads((tmp_path / "lightning_logs/version_0/time_to_accuracy.json").read_text())
    history = summary["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2]  # sanity check excluded
    assert all(h["train_seconds"] <= h["wall_seconds"] for h in history)
    assert [h["train_seconds"] for h in history] == sorted(h["train_seconds"] for h in history)
    assert summary["reached"]["0.00"] == history[0]  # first epoch already reaches 0%
    assert "1.01" not in summary["reached"]


def _guard_steps(guard: FiniteLossGuard, losses: list[float], checks: list[int]) -> None:
    """Feed the guard one training step per loss, as the fit loop would (global_step counts done steps)."""
    trainer = SimpleNamespace(global_step=0, current_epoch=0, optimizers=[])
    guard.check = _counting(guard.check, checks)
    guard.on_train_start(trainer, SimpleNamespace(device=torch.device("cpu")))
    for step, loss in enumerate(losses):
        trainer.global_step = step + 1
        guard.on_train_batch_end(trainer, None, torch.tensor(loss), None, step)


def _counting(check, calls: list[int]):
    def counted(trainer):
        calls.append(trainer.global_step)
        return check(trainer)

    return counted


def test_the_deferred_loss_guard_reads_the_device_every_n_steps_and_names_the_first_bad_one():
    checks: list[int] = []
    _guard_steps(FiniteLossGuard(check_every=4, deferred=True), [1.0] * 8, checks)
    assert checks == [4, 8]  # no read on the other steps: no host-device sync there
    checks.clear()
    with pytest.raises(NonFiniteLossError, match="global step 2;"):
        _guard_steps(FiniteLossGuard(check_every=4, deferred=True), [1.0, 1.0, float("nan"), 1.0, float("inf")], checks)
    assert checks == [4]  # found at the first read after it, naming the step that produced it


def test_the_cpu_loss_guard_stops_at_the_bad_step():
    checks: list[int] = []
    with pytest.raises(NonFiniteLossError, match="global step 1;"):
        _guard_steps(FiniteLossGuard(check_every=4), [1.0, float("inf"), 1.0], checks)
    assert checks == [2]
