import json
from functools import partial

import lightning as L
import torch

from lab.callbacks import TimeToAccuracy
from lab.data import CIFAR10DataModule
from lab.models import ConvNet
from lab.module import ClassifierModule


def test_time_to_accuracy_records_first_crossing(tiny_cifar, tmp_path):
    L.seed_everything(0)
    dm = CIFAR10DataModule(data_dir=str(tiny_cifar), val_size=40, batch_size=32, download=False)
    timer = TimeToAccuracy(thresholds=(0.0, 1.01))
    trainer = L.Trainer(
        max_epochs=3, accelerator="cpu", default_root_dir=tmp_path, logger=L.pytorch.loggers.CSVLogger(tmp_path),
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
    )  # fmt: skip
    trainer.fit(ClassifierModule(ConvNet(), optimizer=partial(torch.optim.Adam, lr=1e-3)), datamodule=dm)
    summary = json.loads((tmp_path / "lightning_logs/version_0/time_to_accuracy.json").read_text())
    history = summary["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2]  # sanity check excluded
    assert all(h["train_seconds"] <= h["wall_seconds"] for h in history)
    assert [h["train_seconds"] for h in history] == sorted(h["train_seconds"] for h in history)
    assert summary["reached"]["0.00"] == history[0]  # first epoch already reaches 0%
    assert "1.01" not in summary["reached"]
