"""The CLI end to end on tiny data: fit, test, predict, print_config, help, run folders, errors."""

import csv
from functools import partial

import lightning as L
import pytest
import torch

from lab.data import CIFAR10DataModule
from lab.engine.cli import main, run_cli
from lab.models import ConvNet
from lab.models.module import ClassifierModule


@pytest.fixture
def base_args(tiny_config):
    return ["--config", "experiments/lenet.yaml", "--config", str(tiny_config), "--data.init_args.batch_size", "32"]


@pytest.mark.parametrize("net", ["lab.models.ConvNet", "lab.models.TwoLayerNet"])
def test_fast_dev_run_through_cli(base_args, net):
    cli = run_cli(["fit", *base_args, "--model.net", net, "--trainer.fast_dev_run", "true"])
    assert type(cli.model.net).__name__ == net.rsplit(".", 1)[1]
    assert cli.trainer.global_step == 1
    assert torch.isfinite(cli.trainer.callback_metrics["train/loss"])
    assert cli.model.net.num_classes == 10  # linked from data.num_classes


def _read_metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_fit_writes_run_folder_and_never_overwrites(base_args, tmp_path):
    args = ["fit", *base_args, "--trainer.max_epochs", "2", "--run.name", "tiny"]
    main(args)
    first = tmp_path / "runs/tiny/version_0"
    rows = _read_metrics(first)
    assert {"train/loss", "train/acc", "val/loss", "val/acc", "epoch"} <= set(rows[0]) | set(rows[-1])
    assert sum(1 for r in rows if r.get("val/acc")) == 2
    assert (first / "config.yaml").is_file() and (first / "checkpoints/last.ckpt").is_file()
    assert len(list((first / "checkpoints").glob("best-*.ckpt"))) == 1
    before = (first / "checkpoints/last.ckpt").read_bytes()
    main(args)
    assert (tmp_path / "runs/tiny/version_1/checkpoints/last.ckpt").is_file()
    assert (first / "checkpoints/last.ckpt").read_bytes() == before


def test_test_logs_per_class_accuracy_and_confusion_then_predict(base_args, tmp_path):
    main(["fit", *base_args, "--trainer.max_epochs", "1", "--run.name", "t"])
    ckpt = str(tmp_path / "runs/t/version_0/checkpoints/last.ckpt")
    cli = run_cli(["test", *base_args, "--run.name", "t_test", "--ckpt_path", ckpt])
    metrics = cli.trainer.callback_metrics
    assert 0.0 <= float(metrics["test/acc"]) <= 1.0
    per_class = [float(metrics[f"test/acc/{c}"]) for c in CIFAR10DataModule.classes]
    matrix = cli.model.confusion
    assert matrix.shape == (10, 10) and int(matrix.sum()) == 40  # every test image counted once
    assert float(metrics["test/acc"]) == pytest.approx(float(matrix.diag().sum() / matrix.sum()), abs=1e-6)
    rows = matrix.sum(dim=1)
    assert per_class == pytest.approx([float(matrix[i, i] / rows[i]) if rows[i] else 0.0 for i in range(10)], abs=1e-6)
    logged = (tmp_path / "runs/t_test/version_0/confusion_matrix.csv").read_text().splitlines()
    assert logged[0].startswith("true \\ predicted,airplane") and len(logged) == 11
    assert "test/acc/airplane" in _read_metrics(tmp_path / "runs/t_test/version_0")[0]
    cli = run_cli(["predict", *base_args, "--run.name", "t_predict", "--ckpt_path", ckpt])
    probabilities = torch.cat(cli.trainer.predict_loop.predictions)
    assert probabilities.shape == (40, 10) and torch.allclose(probabilities.sum(1), torch.ones(40), atol=1e-5)


def test_checkpoint_of_another_network_or_class_count_lists_the_keys(base_args, tiny_config, tmp_path, capsys):
    from lab.models import TwoLayerNet

    foreign = tmp_path / "twolayer_weights.ckpt"  # no hyperparameters: Lightning cannot rebuild its network
    torch.save({"state_dict": {f"net.{k}": v for k, v in TwoLayerNet().state_dict().items()}}, foreign)
    with pytest.raises(SystemExit) as exit_info:
        main(["test", *base_args, "--ckpt_path", str(foreign)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "does not fit ConvNet" in err and "Traceback" not in err
    assert "features.c1.0.weight: missing from checkpoint" in err and "hidden.1.weight: unexpected" in err

    main(["fit", *base_args, "--trainer.max_epochs", "1", "--run.name", "trained"])
    ckpt = tmp_path / "runs/trained/version_0/checkpoints/last.ckpt"
    before = ckpt.read_bytes()
    with pytest.raises(SystemExit):  # a 10-class checkpoint into the 5-class model
        main(["test", "--config", "experiments/stl10.yaml", "--config", str(tiny_config), "--ckpt_path", str(ckpt)])
    assert "classifier.weight: checkpoint (10, 84) vs network (5, 84)" in capsys.readouterr().err
    assert ckpt.read_bytes() == before  # nothing written over


def test_print_config_shows_class_paths(base_args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *base_args, "--print_config"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "class_path: lab.models.ConvNet" in out and "class_path: lab.data.CIFAR10DataModule" in out
    assert "class_path: torch.optim.SGD" in out and "class_path: lab.schedules.OneCycle" in out


def test_help_is_short_names_the_program_and_lists_only_our_networks(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    out = capsys.readouterr().out
    assert len(out.splitlines()) < 250
    assert out.startswith("usage: python -m lab") and "__main__" not in out
    assert "torch.nn.modules" not in out  # the network is typed by lab.models.Classifier, not nn.Module
    lines = out.splitlines()
    for option in ("--run.name", "--run.root", "--run.wandb", "--run.project", "--run.entity", "--run.test_after_fit"):
        i = next(i for i, line in enumerate(lines) if line.strip().startswith(option))
        help_text = " ".join(lines[i].split()[2:]) or lines[i + 1].strip()  # beside the option, or below it
        assert help_text and not help_text.startswith("--"), option
    assert "--optimizer " not in out and "--lr_scheduler " not in out  # one way to set it: --model.optimizer


def test_abbreviated_options_are_refused(base_args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *base_args, "--trainer.max_epoch", "3"])
    assert exit_info.value.code == 2 and "--trainer.max_epoch" in capsys.readouterr().err


@pytest.mark.parametrize(
    "override, message",
    [
        (["--data.init_args.data_dir", "/nonexistent/place"], "LAB_DATA_DIR"),
        (["--model.optimizer.init_args.lr", "-1"], "Invalid learning rate"),
        (["--model.optimizer", "torch.optim.NoSuchOptimizer"], "optimizer"),
        (["--model.net.init_args.extra_convs", "5"], "extra_convs"),
    ],
)
def test_bad_input_exits_with_one_clear_message(base_args, capsys, override, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *base_args, *override, "--trainer.max_epochs", "1"])
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_overfits_one_batch(tiny_cifar):
    L.seed_everything(0)
    dm = CIFAR10DataModule(data_dir=str(tiny_cifar), val_size=40, batch_size=32, download=False)
    model = ClassifierModule(ConvNet(), optimizer=partial(torch.optim.Adam, lr=3e-3))
    trainer = L.Trainer(
        overfit_batches=1,
        max_epochs=60,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=dm)
    assert float(trainer.callback_metrics["train/acc"]) == 1.0
