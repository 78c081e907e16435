"""Interrupted runs resume exactly, seeded runs repeat bit for bit, a NaN loss keeps the last good
checkpoint, and every run folder records what made it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lab.callbacks.history import read_epoch_metrics
from lab.cli import main
from lab.paths import REPO_ROOT


def _args(tiny_config, name, epochs=3):
    return ["fit", "--config", "experiments/lenet.yaml", "--config", str(tiny_config),
            "--data.init_args.batch_size", "16", "--trainer.max_epochs", str(epochs), "--run.name", name]  # fmt: skip


def _val_acc(run_dir: Path) -> list[float]:
    return [e["val/acc"] for e in read_epoch_metrics(run_dir) if "val/acc" in e]


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]


def _spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "WANDB_MODE": "disabled"}
    return subprocess.Popen([sys.executable, "-m", "lab", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint_and_ends_as_if_never_stopped(tiny_config, tmp_path):
    flag = tmp_path / "stalled"
    args = _args(tiny_config, "interrupted")
    stall = ["--trainer.callbacks+=tests.callbacks_for_tests.StallOnce", f"--trainer.callbacks.flag={flag}"]
    process = _spawn([*args, *stall])
    deadline = time.time() + 240
    while not flag.exists():  # epoch 0 checkpointed, stalled in the middle of epoch 1
        assert process.poll() is None and time.time() < deadline, process.communicate()[0]
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    run_dir = tmp_path / "runs" / "interrupted" / "version_0"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["epoch"] == 0

    main(["test", *args[1:], "--ckpt_path", str(run_dir / "checkpoints" / "last.ckpt")])  # a `test` run in between
    assert (tmp_path / "runs" / "interrupted" / "version_1").is_dir()  # a newer folder, without last.ckpt
    resumed = _spawn([*args, *stall, "--ckpt_path", "last"])  # the same command, plus --ckpt_path last
    out = resumed.communicate(timeout=240)[0]
    assert resumed.returncode == 0, out
    assert f"resuming {run_dir}" in out
    assert not (tmp_path / "runs" / "interrupted" / "version_2").exists()  # continued in the same folder
    assert (run_dir / "metrics.part-1.csv").is_file() and (run_dir / "config.resume-1.yaml").is_file()

    main(_args(tiny_config, "uninterrupted"))
    reference = tmp_path / "runs" / "uninterrupted" / "version_0"
    assert _val_acc(run_dir) == _val_acc(reference) and len(_val_acc(reference)) == 3
    resumed_weights, reference_weights = (
        _weights(run_dir / "checkpoints" / "last.ckpt"),
        _weights(reference / "checkpoints" / "last.ckpt"),
    )
    assert all(torch.equal(resumed_weights[k], reference_weights[k]) for k in reference_weights)


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
