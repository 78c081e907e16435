"""The fault suite of training runs: each fault is injected (kill -9 at points of an epoch, Ctrl-C, a
truncated or foreign checkpoint, a full disk, an unwritable folder, a missing login, a typo) and the
outcome is checked: an exact resume, or one line, a non-zero exit and every earlier result intact."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lab.callbacks import EpochHistory
from lab.callbacks.history import saved_history
from lab.engine.checkpoints import AtomicCheckpointIO
from lab.engine.cli import main, run_cli
from lab.engine.train import reload, run
from lab.questions.context import RunContext
from lab.utils.errors import LabError
from lab.utils.paths import REPO_ROOT

SHORT = [
    "--data.init_args.batch_size",
    "16",
    "--trainer.limit_train_batches",
    "4",
    "--trainer.limit_val_batches",
    "2",
    "--trainer.precision",
    "32-true",
]


def _args(tiny_config, name: str, epochs: int = 2, config: str = "lenet") -> list[str]:
    return [
        "fit",
        "--config",
        f"experiments/{config}.yaml",
        "--config",
        str(tiny_config),
        *SHORT,
        "--trainer.max_epochs",
        str(epochs),
        "--run.name",
        name,
    ]


def _spawn(args: list[str], *command: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "WANDB_MODE": "disabled"}
    return subprocess.Popen(
        [*(command or (sys.executable, "-m", "lab")), *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _exit_line(args: list[str], capsys) -> str:
    """Runs a command that must fail: exit status 2, the error on one line, no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) == 2, err
    return err.splitlines()[0]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]


def _history(cli) -> list[dict]:
    return next(c for c in cli.trainer.callbacks if isinstance(c, EpochHistory)).epochs


# -- resume ---------------------------------------------------------------------------------------------------
def test_last_checkpoint_is_the_end_of_the_last_epoch_not_the_best_one(tiny_config, tmp_path):
    main([*_args(tiny_config, "peaked"), "--checkpoint.monitor", "epoch", "--checkpoint.mode", "min"])  # best: epoch 0
    checkpoints = tmp_path / "runs" / "peaked" / "version_0" / "checkpoints"
    assert torch.load(checkpoints / "last.ckpt", weights_only=False)["epoch"] == 1
    assert [p.name for p in checkpoints.glob("best-*.ckpt")] == ["best-epoch=000.ckpt"]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["batch", "epoch_end"])  # mid-epoch; after validation and the best checkpoint
def test_a_run_killed_in_an_epoch_resumes_and_ends_as_if_never_stopped(tiny_config, tmp_path, capsys, point):
    flag, args = tmp_path / "stalled", _args(tiny_config, "killed", epochs=3)
    stall = [
        "--trainer.callbacks+=tests.callbacks_for_tests.StallOnce",
        f"--trainer.callbacks.flag={flag}",
        f"--trainer.callbacks.at={point}",
    ]
    process, deadline = _spawn([*args, *stall]), time.time() + 120
    while not flag.exists():  # stalled in epoch 1 (epoch 0 finished)
        assert process.poll() is None and time.time() < deadline, process.communicate()[0]
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    run_dir = tmp_path / "runs" / "killed" / "version_0"
    last = run_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 0

    main(["test", *args[1:], "--ckpt_path", str(last)])  # a `test` run in between: a newer folder, no last.ckpt
    resumed = run_cli([*args, *stall, "--ckpt_path", "last"])  # the same command, plus --ckpt_path last
    assert f"resuming {run_dir}" in capsys.readouterr().out
    assert not (tmp_path / "runs" / "killed" / "version_2").exists()  # continued in the same folder
    assert (run_dir / "metrics.part-1.csv").is_file() and (run_dir / "config.resume-1.yaml").is_file()
    reference = run_cli(_args(tiny_config, "reference", epochs=3))
    reference_dir = tmp_path / "runs" / "reference" / "version_0"
    assert _history(resumed) == _history(reference) and [e["epoch"] for e in _history(resumed)] == [0, 1, 2]
    on_disk = saved_history(last)  # what a reused run gives back: every epoch once, as the run had it
    assert on_disk == saved_history(reference_dir / "checkpoints/last.ckpt") == _history(resumed)
    assert [e["epoch"] for e in on_disk] == [0, 1, 2]
    resumed_weights, reference_weights = (
        _weights(run_dir / "checkpoints/last.ckpt"),
        _weights(reference_dir / "checkpoints/last.ckpt"),
    )
    assert all(torch.equal(resumed_weights[k], reference_weights[k]) for k in reference_weights)


def test_a_resume_that_cannot_go_ahead_says_why_and_leaves_the_run_folder_as_it_was(tiny_config, tmp_path, capsys):
    args = _args(tiny_config, "done")
    main(args)
    run_dir = tmp_path / "runs" / "done" / "version_0"
    before = _files(run_dir)
    finished = _exit_line([*args, "--ckpt_path", "last"], capsys)  # the same command again: nothing to do
    assert "already trained 2 epochs" in finished and "nothing to resume" in finished
    longer = _exit_line([*args[:-4], "--trainer.max_epochs", "3", *args[-2:], "--ckpt_path", "last"], capsys)
    assert "schedule planned for 2 epochs" in longer and "--trainer.max_epochs 2" in longer  # not "Tried to step"
    last = run_dir / "checkpoints" / "last.ckpt"
    last.write_bytes(before["checkpoints/last.ckpt"][:1000])  # truncated
    truncated = _exit_line([*args[:-4], "--trainer.max_epochs", "3", *args[-2:], "--ckpt_path", "last"], capsys)
    assert "cannot be read" in truncated and "truncated" in truncated
    assert _files(run_dir) == {**before, "checkpoints/last.ckpt": before["checkpoints/last.ckpt"][:1000]}
    assert len(reload(run_dir).history) == 2  # the folder still reads back


def test_ctrl_c_stops_with_the_epoch_reached_and_how_to_continue(tiny_config, tmp_path, capsys):
    interrupt = ["--trainer.callbacks+=tests.callbacks_for_tests.InterruptOnce", "--trainer.callbacks.epoch=1"]
    handler = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main([*_args(tiny_config, "stopped"), *interrupt])
    finally:
        signal.signal(signal.SIGINT, handler)  # Lightning ignores further Ctrl-C while it shuts down
    err = capsys.readouterr().err
    assert exit_info.value.code == 130 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "interrupted: stopped by Ctrl-C in epoch 2/2" in err and "make train RESUME=1" in err
    assert "--ckpt_path last" in err and "last.ckpt holds the 1 finished epoch" in err


# -- checkpoints given to test / fit --------------------------------------------------------------------------
def test_a_truncated_or_foreign_or_missing_checkpoint_is_one_line_not_a_result(tiny_config, tmp_path, capsys):
    main(_args(tiny_config, "lenet", epochs=1))
    last = tmp_path / "runs" / "lenet" / "version_0" / "checkpoints" / "last.ckpt"
    test_lenet = ["test", *_args(tiny_config, "lenet")[1:]]
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(last.read_bytes()[:2000])
    for command in (test_lenet, _args(tiny_config, "lenet")):
        assert "cannot be read" in _exit_line([*command, "--ckpt_path", str(truncated)], capsys)

    test_twolayer = ["test", *_args(tiny_config, "twolayer", config="twolayer")[1:]]
    foreign = _exit_line([*test_twolayer, "--ckpt_path", str(last)], capsys)  # LightningCLI would test a ConvNet
    assert "holds a ConvNet network but the config builds a TwoLayerNet" in foreign
    assert "train one first" in _exit_line([*test_twolayer, "--ckpt_path", "last"], capsys)  # not random weights
    assert "needs --ckpt_path" in _exit_line(test_twolayer, capsys)  # it would test random weights
    untrained = [*_args(tiny_config, "nothing", epochs=0), "--run.test_after_fit", "true"]
    assert "no training step ran" in _exit_line(untrained, capsys)
    cli = run_cli([*test_lenet, "--ckpt_path", "last"])  # the newest lenet run's last.ckpt
    assert cli.trainer.ckpt_path == str(last)


# -- the disk and the folders ---------------------------------------------------------------------------------
def test_a_full_disk_leaves_the_previous_checkpoint_intact(tiny_config, tmp_path, capsys, monkeypatch):
    saved: dict[str, bytes] = {}

    def full_disk(data, file):
        target = Path(file.name).parent / "last.ckpt"
        if ".last.ckpt." in Path(file.name).name and target.exists():  # the second last.ckpt: the disk is full
            saved["before"] = target.read_bytes()
            file.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        file.write(data)

    monkeypatch.setattr(AtomicCheckpointIO, "write_bytes", staticmethod(full_disk))
    line = _exit_line(_args(tiny_config, "full"), capsys)
    assert "the disk is full" in line and "still holds the previous checkpoint" in line
    checkpoints = tmp_path / "runs" / "full" / "version_0" / "checkpoints"
    assert (checkpoints / "last.ckpt").read_bytes() == saved["before"]
    assert torch.load(checkpoints / "last.ckpt", weights_only=False)["epoch"] == 0
    assert sorted(p.name for p in checkpoints.iterdir() if p.name.endswith(".tmp")) == []


@pytest.fixture(params=["read-only", "under a file"])
def unwritable_root(request, tmp_path):
    if request.param == "under a file":
        (tmp_path / "a_file").write_text("")
        yield tmp_path / "a_file" / "runs"
    elif os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir(mode=0o555)
        yield folder
        folder.chmod(0o755)
    else:  # root writes anywhere a file system allows: /sys is mounted read-only
        if os.access("/sys", os.W_OK) and not Path("/sys/class").is_dir():
            pytest.skip("no read-only folder to test with")
        yield Path("/sys/lab-runs")


def test_an_unwritable_runs_folder_fails_before_training(tiny_config, unwritable_root, capsys):
    line = _exit_line([*_args(tiny_config, "nowhere"), "--run.root", str(unwritable_root)], capsys)
    assert f"cannot write run folders under {unwritable_root}" in line and "--run.root" in line
    assert "epoch" not in capsys.readouterr().out


def test_wandb_online_without_a_login_names_the_fix(tiny_config, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no.netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    line = _exit_line([*_args(tiny_config, "online"), "--run.wandb", "online"], capsys)
    assert "wandb login" in line and "--run.wandb offline" in line
    assert not (tmp_path / "runs" / "online").exists()


def test_the_lr_finder_writes_nothing_where_it_runs(tiny_config, tmp_path, monkeypatch):
    from lab.questions.hparams import lr_finder

    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # where a relative runs/ (checkpoints, the finder's restore point) would land
    finder = lr_finder(RunContext(configs=(str(tiny_config),), accelerator="cpu"), "twolayer", steps=5)
    assert len(finder["lr"]) == 5
    assert list((tmp_path / "cwd").iterdir()) == [] and list(tmp_path.rglob("*.ckpt")) == []


# -- code and the command ---------------------------------------------------------------------------------------
def test_a_typo_in_overrides_is_a_lab_error_not_an_exit(tiny_config):
    with pytest.raises(LabError, match="modle"):
        run(["lenet", tiny_config], {"modle": {"lr": 0.1}})


QUIET = """
import sys
from lab.engine.train import run
run(["lenet", sys.argv[1], {"trainer": {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 1}}],
    name="quiet", test=False)
"""


@pytest.mark.slow
def test_training_from_code_is_as_quiet_as_the_command(tiny_config):
    process = _spawn([str(tiny_config)], sys.executable, "-c", QUIET)
    out = process.communicate(timeout=120)[0]
    assert process.returncode == 0, out
    chatter_lines = ("GPU available", "TPU available", "litlogger", "Previous log files", "Seed set", "Using bfloat16")
    for chatter in (*chatter_lines, "LOCAL_RANK", "Loading `train_dataloader`", "was configured so"):
        assert chatter not in out, out


@pytest.mark.slow
def test_the_lab_command_exits_0_on_success_through_both_doors(tiny_config):
    script = Path(sys.executable).parent / "lab"  # the console script pip wrote: sys.exit(lab.engine.cli:main())
    if not script.is_file():
        pytest.skip("the lab console script is not installed (pip install -e .)")
    args = ["fit", "--config", "experiments/lenet.yaml", "--config", str(tiny_config), "--trainer.fast_dev_run", "2"]
    doors = {door: _spawn(args, *door) for door in ((str(script),), (sys.executable, "-m", "lab"))}
    for door, process in doors.items():
        out = process.communicate(timeout=120)[0]
        assert process.returncode == 0 and "LabCLI object" not in out, (door, out)
