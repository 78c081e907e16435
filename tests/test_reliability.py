"""Seeded runs repeat bit for bit, a NaN loss keeps the last good checkpoint, and every run folder records
what made it (interrupted runs resuming exactly: tests/test_faults.py)."""

import json
from pathlib import Path

import pytest
import torch

from lab.engine.cli import main


def _args(tiny_config, name, epochs=3):
    return [
        "fit",
        "--config",
        "experiments/lenet.yaml",
        "--config",
        str(tiny_config),
        "--data.init_args.batch_size",
        "16",
        "--trainer.max_epochs",
        str(epochs),
        "--run.name",
        name,
    ]


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]


def test_resume_with_nothing_to_resume_says_so(tiny_config, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*_args(tiny_config, "never_ran"), "--ckpt_path", "last"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no earlier run under" in err and "without --ckpt_path last" in err and "Traceback" not in err


def test_same_seed_same_config_gives_identical_metrics_and_records_the_run(tiny_config, tmp_path):
    for name in ("first", "second"):
        main(_args(tiny_config, name, epochs=2))
    first, second = (tmp_path / "runs" / n / "version_0" for n in ("first", "second"))
    assert (first / "metrics.csv").read_text() == (second / "metrics.csv").read_text()
    a, b = _weights(first / "checkpoints" / "last.ckpt"), _weights(second / "checkpoints" / "last.ckpt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    record = json.loads((first / "run.json").read_text())
    assert record["seed"] == 0 and record["versions"]["torch"] == torch.__version__
    assert record["precision"] in ("32-true", "bf16-mixed")  # chosen from the hardware, recorded
    assert len(record["git_commit"].split("+")[0]) in (40, 7) or record["git_commit"] == "unknown"
    main([*_args(tiny_config, "third", epochs=2), "--seed_everything", "1"])
    third = tmp_path / "runs" / "third" / "version_0"
    assert (third / "metrics.csv").read_text() != (first / "metrics.csv").read_text()  # the seed matters


def test_nan_loss_stops_the_run_names_the_step_and_keeps_the_last_good_checkpoint(tiny_config, tmp_path, capsys):
    poison = ["--trainer.callbacks+=tests.callbacks_for_tests.PoisonWeights", "--trainer.callbacks.epoch=1"]
    with pytest.raises(SystemExit) as exit_info:
        main([*_args(tiny_config, "nan"), *poison])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "training loss became nan or inf at epoch 1, global step 11" in err and "Traceback" not in err
    last = tmp_path / "runs" / "nan" / "version_0" / "checkpoints" / "last.ckpt"
    state = torch.load(last, weights_only=False)
    assert state["epoch"] == 0 and all(torch.isfinite(t).all() for t in state["state_dict"].values())
