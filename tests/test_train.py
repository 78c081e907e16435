"""lab.engine.train.run: a run from code, exactly as `python -m lab fit` would make it, with its results in memory."""

import csv
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lab.callbacks.history import saved_history
from lab.engine.cli import main
from lab.engine.train import build_datamodule, reload, run
from lab.utils.errors import LabError
from tests.conftest import SMOKE


@pytest.fixture
def tiny_run(tiny_config):
    return run(["lenet", tiny_config, {"trainer": {"max_epochs": 2}}], name="study/tiny")


def test_run_returns_history_test_metrics_and_the_run_folder(tiny_run):
    assert [e["epoch"] for e in tiny_run.history] == [0, 1]
    assert saved_history(tiny_run.run_dir / "checkpoints/last.ckpt") == tiny_run.history  # the same floats
    assert 0 <= tiny_run.test["test/acc"] <= 1 and int(tiny_run.confusion.sum()) == 40
    assert tiny_run.best_val_acc == max(e["val/acc"] for e in tiny_run.history)
    assert tiny_run.run_dir.parts[-3:-1] == ("study", "tiny") and tiny_run.best_checkpoint.endswith(".ckpt")
    assert yaml.safe_load((tiny_run.run_dir / "hparams.yaml").read_text())["run"]["group"] == "study"


def test_the_saved_config_repeats_the_run_through_the_cli(tiny_run, capsys):
    saved = tiny_run.run_dir / "config.yaml"
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(saved), "--print_config"])
    assert exit_info.value.code == 0
    assert yaml.safe_load(capsys.readouterr().out)["model"] == yaml.safe_load(saved.read_text())["model"]


def test_reload_tests_the_best_checkpoint_again_without_training(tiny_run):
    again = reload(tiny_run.run_dir, accelerator="cpu")
    assert again.test["test/acc"] == pytest.approx(tiny_run.test["test/acc"], abs=1e-6)
    assert type(again.datamodule).__name__ == "CIFAR10DataModule"
    assert again.history == tiny_run.history  # every epoch, every key (the learning rate too), the same floats


def test_reload_without_last_ckpt_takes_the_tested_checkpoints_epochs_and_says_so(tiny_run, caplog):
    (tiny_run.run_dir / "checkpoints" / "last.ckpt").write_bytes(b"truncated")
    best_epoch = torch.load(tiny_run.best_checkpoint, weights_only=False)["epoch"]
    again = reload(tiny_run.run_dir, accelerator="cpu")
    assert again.history == tiny_run.history[: best_epoch + 1]  # the epochs up to the best one, as they were
    assert "last.ckpt cannot be read" in caplog.text and "those after it are not known" in caplog.text
    with pytest.raises(LabError, match="holds no epoch history"):
        torch.save({"state_dict": {}}, tiny_run.run_dir / "weights.ckpt")
        saved_history(tiny_run.run_dir / "weights.ckpt")


def test_build_datamodule_gives_the_data_of_a_config(tiny_config):
    dm = build_datamodule(["stl10", tiny_config])
    assert dm.classes == ("airplane", "bird", "ship", "cat", "dog") and len(dm.val_set) == 20


def test_training_accuracy_on_unaugmented_images_is_logged_when_asked(tiny_config):
    result = run(["course_cnn", tiny_config, SMOKE, {"data": {"init_args": {"train_eval_size": 30}}}], name="te")
    assert all("train_eval/acc" in e and "train_eval/loss" in e for e in result.history)
    assert result.datamodule.train_eval_set is not None and len(result.datamodule.train_eval_set) == 30


def test_output_to_a_file_is_one_line_per_epoch(tiny_config, capsys):
    assert not sys.stdout.isatty()
    main(
        [
            "fit",
            "--config",
            "experiments/lenet.yaml",
            "--config",
            str(tiny_config),
            "--trainer.max_epochs",
            "3",
            "--trainer.enable_progress_bar",
            "true",
        ]
    )
    out = capsys.readouterr()
    lines = [line for line in out.out.splitlines() if line.startswith("epoch ")]  # no --run.name: no prefix
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"] and "val/acc" in lines[0]
    assert "\r" not in out.out + out.err and "it/s" not in out.out + out.err  # no progress-bar redraws


def test_metrics_csv_has_the_names_readme_documents(tiny_run):
    with open(tiny_run.run_dir / "metrics.csv") as f:
        columns = set(next(csv.reader(f)))
    assert {"train/loss", "train/acc", "val/loss", "val/acc", "test/loss", "test/acc"} <= columns
    assert not any(c.endswith(("_step", "_epoch")) for c in columns)


@pytest.mark.slow
def test_independent_runs_train_side_by_side_in_worker_processes(run_context):
    from dataclasses import replace

    from lab.questions.training import Job, RunSummary, fit_many
    from lab.utils.errors import NonFiniteLossError

    args = replace(run_context, workers=2)
    diverging = {"model": {"optimizer": {"init_args": {"lr": 1e30}}}, "trainer": {"limit_train_batches": 8}}
    jobs = [
        Job(("lenet",), {}, "pool/a", 0),
        Job(("twolayer",), diverging, "pool/b", 0),
        Job(("lenet",), {}, "pool/c", 1),
    ]
    outcomes = fit_many(args, jobs)
    assert isinstance(outcomes[0], RunSummary) and isinstance(outcomes[2], RunSummary)
    assert isinstance(outcomes[1], NonFiniteLossError)  # reported back from its worker, the others go on
    assert ["pool/a", "pool/c"] == ["/".join(Path(o.run_dir).parts[-3:-1]) for o in (outcomes[0], outcomes[2])]
    assert [o.seed for o in (outcomes[0], outcomes[2])] == [0, 1] and outcomes[0].history != outcomes[2].history


@pytest.mark.parametrize("entry", ["code", "command line"])
def test_a_run_closes_its_loggers_exactly_once_whichever_way_it_is_started(tiny_config, monkeypatch, entry):
    """One training call (lab.engine.train.execute) for `run()` and `lab fit`: W&B is finished in one place, once,
    after the test of the best checkpoint, and the confusion matrix reaches the run folder."""
    import lab.engine.cli
    import lab.engine.train

    closed = []
    for module in (lab.engine.train, lab.engine.cli):
        if hasattr(module, "finish_wandb"):
            monkeypatch.setattr(module, "finish_wandb", lambda loggers: closed.append(len(loggers)))
    config = ["lenet", tiny_config, {"trainer": {"max_epochs": 1}}]
    if entry == "code":
        run_dir = run(config, name="once/code").run_dir
    else:
        overlay = Path(tiny_config).with_name("one_epoch.yaml")
        overlay.write_text(yaml.safe_dump({"trainer": {"max_epochs": 1}}))
        args = ["fit", "--config", "experiments/lenet.yaml", "--config", str(tiny_config), "--config", str(overlay)]
        run_dir = lab.engine.cli.run_cli(
            [*args, "--run.name", "once/cli", "--run.test_after_fit", "true"]
        ).result.run_dir
    assert len(closed) == 1
    assert (run_dir / "confusion_matrix.csv").read_text().startswith("true \\ predicted,airplane")
