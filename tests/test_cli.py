"""The CLI end to end on tiny data: fit, test, predict, print_config, run folders, errors."""

import csv

import lightning as L
import pytest
import torch

from lab.cli import main
from lab.data import CIFAR10DataModule
from lab.models import ConvNet
from lab.module import ClassifierModule


@pytest.fixture
def base_args(tiny_cifar, tmp_path):
    return [
        "--config", "experiments/lenet.yaml",
        "--data.init_args.data_dir", str(tiny_cifar),
        "--data.init_args.val_size", "40",
        "--data.init_args.batch_size", "32",
        "--data.init_args.download", "false",
        "--trainer.accelerator", "cpu",
        "--trainer.enable_progress_bar", "false",
        "--run.root", str(tmp_path / "runs"),
        "--run.wandb", "disabled",
    ]  # fmt: skip


@pytest.mark.parametrize("backbone", ["lab.models.ConvNet", "lab.models.TwoLayerNet"])
def test_fast_dev_run_through_cli(base_args, backbone):
    cli = main(["fit", *base_args, "--model.backbone", backbone, "--trainer.fast_dev_run", "true"])
    assert type(cli.model.backbone).__name__ == backbone.rsplit(".", 1)[1]
    assert cli.trainer.global_step == 1
    assert torch.isfinite(cli.trainer.callback_metrics["train/loss"])
    assert cli.model.hparams.num_classes == 10  # linked from data.num_classes


def _read_metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_fit_writes_run_folder_and_never_overwrites(base_args, tmp_path):
    args = ["fit", *base_args, "--trainer.max_epochs", "2", "--run.name", "tiny"]
    main(args)
    first = tmp_path / "runs/tiny/version_0"
    rows = _read_metrics(first)
    assert {"train/loss_epoch", "train/acc", "val/loss", "val/acc", "epoch"} <= set(rows[0]) | set(rows[-1])
    assert sum(1 for r in rows if r.get("val/acc")) == 2
    assert (first / "config.yaml").is_file() and (first / "checkpoints/last.ckpt").is_file()
    assert len(list((first / "checkpoints").glob("best-*.ckpt"))) == 1
    before = (first / "checkpoints/last.ckpt").read_bytes()
    main(args)
    assert (tmp_path / "runs/tiny/version_1/checkpoints/last.ckpt").is_file()
    assert (first / "checkpoints/last.ckpt").read_bytes() == before


def test_test_and_predict_from_checkpoint(base_args, tmp_path):
    main(["fit", *base_args, "--trainer.max_epochs", "1", "--run.name", "t"])
    ckpt = str(tmp_path / "runs/t/version_0/checkpoints/last.ckpt")
    cli = main(["test", *base_args, "--ckpt_path", ckpt])
    assert 0.0 <= float(cli.trainer.callback_metrics["test/acc"]) <= 1.0
    cli = main(["predict", *base_args, "--ckpt_path", ckpt])
    predictions = torch.cat(cli.trainer.predict_loop.predictions)
    assert predictions.shape == (40,) and predictions.min() >= 0 and predictions.max() <= 9


def test_checkpoint_of_another_network_or_class_count_lists_the_keys(base_args, tiny_stl10, tmp_path, capsys):
    from lab.models import TwoLayerNet

    foreign = tmp_path / "twolayer_weights.ckpt"  # no hyperparameters: Lightning cannot rebuild its network
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in TwoLayerNet().state_dict().items()}}, foreign)
    with pytest.raises(SystemExit) as exit_info:
        main(["test", *base_args, "--ckpt_path", str(foreign)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "does not fit ConvNet" in err and "Traceback" not in err
    assert "features.c1.0.weight: missing from checkpoint" in err and "hidden.1.weight: unexpected" in err

    main(["fit", *base_args, "--trainer.max_epochs", "1", "--run.name", "trained"])
    ckpt = tmp_path / "runs/trained/version_0/checkpoints/last.ckpt"
    before = ckpt.read_bytes()
    stl = ["--config", "experiments/stl10.yaml", "--data.init_args.data_dir", str(tiny_stl10),
           "--data.init_args.val_size", "20", "--data.init_args.download", "false", "--trainer.accelerator", "cpu",
           "--run.root", str(tmp_path / "runs"), "--run.wandb", "disabled"]  # fmt: skip
    with pytest.raises(SystemExit):
        main(["test", *stl, "--ckpt_path", str(ckpt)])  # a 10-class checkpoint into the 5-class model
    assert "output.weight: checkpoint (10, 84) vs network (5, 84)" in capsys.readouterr().err
    assert ckpt.read_bytes() == before  # nothing written over


def test_print_config_shows_class_paths(base_args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *base_args, "--print_config"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "class_path: lab.models.ConvNet" in out and "class_path: lab.data.CIFAR10DataModule" in out


@pytest.mark.parametrize(
    "override, message",
    [
        (["--data.init_args.data_dir", "/nonexistent/place"], "LAB_DATA_DIR"),
        (["--model.lr", "-1"], "lr must be a positive number"),
        (["--model.optimizer", "rmsprop"], "optimizer"),
        (["--model.backbone.init_args.extra_convs", "5"], "extra_convs"),
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
    model = ClassifierModule(ConvNet(), optimizer="adam", lr=3e-3, weight_decay=0.0, scheduler="none")
    trainer = L.Trainer(
        overfit_batches=1, max_epochs=60, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
    )  # fmt: skip
    trainer.fit(model, datamodule=dm)
    assert float(trainer.callback_metrics["train/acc"]) == 1.0
