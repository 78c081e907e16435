"""Each question's code path in SMOKE mode, with its output files checked."""

import json
import re
from pathlib import Path

import pytest
import torch

import lab.questions.common as common


@pytest.fixture
def results_root(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS_ROOT", tmp_path / "results")
    monkeypatch.setenv("SMOKE", "1")
    return tmp_path / "results"


def test_bn_question_prints_figure1_lines_and_writes_results(results_root, capsys):
    from lab.questions import bn

    bn.main(["--iterations", "7"])
    out = capsys.readouterr().out
    assert len(re.findall(r"^iteration: \d+, loss: \d+\.\d{6}$", out, re.M)) == 7
    assert re.search(r"^validation loss: \d+\.\d{6}$", out, re.M)
    run_dir = (results_root / "bn" / "latest").resolve()
    data = json.loads((run_dir / "bn.json").read_text())
    assert len(data["train_loss"]) == 7 and data["train_loss"][-1] < data["train_loss"][0]
    assert f"validation loss: {data['validation_loss']:.6f}" in out
    assert (run_dir / "loss_curve.png").stat().st_size > 10_000


def test_runs_never_overwrite_and_latest_moves_only_when_published(results_root):
    first, second = common.new_run_dir("q"), common.new_run_dir("q")
    assert first != second and first.is_dir() and second.is_dir()
    assert not (results_root / "q" / "latest").exists()  # nothing finished yet
    common.publish(first)
    assert (results_root / "q" / "latest").resolve() == first.resolve()
    common.new_run_dir("q")  # a run that fails later leaves latest alone
    assert (results_root / "q" / "latest").resolve() == first.resolve()


@pytest.fixture
def tiny_args(tiny_cifar, tmp_path):
    return [
        "--data.init_args.data_dir", str(tiny_cifar), "--data.init_args.val_size", "40",
        "--data.init_args.download", "false", "--trainer.accelerator", "cpu",
        "--trainer.enable_progress_bar", "false", "--run.root", str(tmp_path / "runs"), "--run.wandb", "disabled",
    ]  # fmt: skip


def _table_rows(path):
    return [line for line in path.read_text().splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_lr_curves_writes_curves_and_one_row_per_rate(results_root, tiny_args):
    from lab.questions import lr_curves

    out = lr_curves.main(["--lrs", "1e-3", "1e-5", *tiny_args])
    rows = json.loads((out / "lr_curves.json").read_text())["rows"]
    assert [r["lr"] for r in rows] == [1e-3, 1e-5]
    assert all(0 <= r["val/acc"] <= 1 and 0 <= r["test/acc"] <= 1 for r in rows)
    table = _table_rows(out / "table.md")
    assert len(table) == 2 and table[0].startswith("| 0.001 |")
    assert f"{100 * rows[1]['val/acc']:.1f}" in table[1]
    assert (out / "curves.png").stat().st_size > 20_000


def test_augment_draws_lenna_panels_and_compares_gaps(results_root, tiny_args, tmp_path):
    from torchvision.io import write_png

    from lab.questions import augment

    image = tmp_path / "img.png"
    write_png((torch.rand(3, 64, 64) * 255).to(torch.uint8), str(image))
    out = augment.main(["--image", str(image), *tiny_args])
    assert (out / "lenna_augmentations.png").stat().st_size > 20_000
    rows = json.loads((out / "augment.json").read_text())["rows"]
    assert [r["augmentation"] for r in rows] == ["no augmentation", "flip + translate 4 px"]
    assert len(_table_rows(out / "gap.md")) == 2
    configs = [(Path(r["run_dir"]) / "config.yaml").read_text() for r in rows]
    assert "augment: null" in configs[0] and "translate: 4" in configs[1]


def test_augment_missing_image_is_a_clear_error(results_root):
    from lab.errors import DataNotFoundError
    from lab.questions import augment

    with pytest.raises(DataNotFoundError, match="no such file"):
        augment.main(["--image", "/nonexistent.png"])


def test_best_figure_and_numbers_agree(results_root, tiny_args):
    from lab.questions import best

    out = best.main(["--config", "fast90", *tiny_args])
    result = json.loads((out / "best.json").read_text())
    assert result["test_acc"] == pytest.approx(result["test_acc_from_confusion"], abs=1e-6)
    assert sum(map(sum, result["confusion_matrix"])) == result["test_images"] == 40
    assert Path(result["checkpoint"]).is_file()
    assert (out / "best_performance.png").stat().st_size > 30_000
    again = json.loads((best.main(["--from-run", result["run_dir"], *tiny_args]) / "best.json").read_text())
    assert again["test_acc"] == pytest.approx(result["test_acc"], abs=1e-6)  # same checkpoint, same test set


def test_architectures_answers_come_from_the_modules(results_root):
    from lab.models import ConvNet, TwoLayerNet, count_parameters
    from lab.questions import architectures

    out = architectures.main([])
    result = json.loads((out / "architectures.json").read_text())
    answers = result["answers"]
    assert answers["first_conv"]["kernel_shape"] == [3, 5, 5] and answers["first_conv"]["kernels"] == 6
    assert answers["f6"]["parameters"] == 120 * 84 + 84
    assert "120 * 84 (weights) + 84 (biases) = 10080 + 84 = 10164" in answers["f6"]["calculation"]
    for name, net in (("TwoLayerNet", TwoLayerNet()), ("ConvNet", ConvNet())):
        layers = result["networks"][name]["layers"]
        assert sum(r["parameters"] for r in layers) == count_parameters(net)
        assert layers[-1]["output_shape"] == [10]
    assert "= 10164" in (out / "architectures.md").read_text()


def test_cifar10_classes_grid_and_counts(results_root, tiny_cifar):
    from lab.questions import cifar10_classes

    out = cifar10_classes.main(["--data-dir", str(tiny_cifar), "--per-class", "2", "--val-size", "5"])
    facts = json.loads((out / "classes.json").read_text())
    assert facts["image_shape"] == [3, 32, 32] and len(facts["classes"]) == 10
    per_split = {s: sum(c[s] for c in facts["per_class"].values()) for s in ("train", "validation", "test")}
    assert per_split == facts["split_sizes"] == {"train": 195, "validation": 5, "test": 40}
    assert "10 mutually exclusive classes" in facts["description"]
    assert (out / "classes.png").stat().st_size > 20_000


def test_hparams_then_deeper_then_compare(results_root, tiny_args):
    from lab.questions import compare_nets, deeper, hparams

    out = hparams.main(["--factors", "learning rate", "batch norm", *tiny_args])
    study = json.loads((out / "hparams.json").read_text())
    for network in ("TwoLayerNet", "ConvNet"):
        rows = [r for r in study["rows"] if r["network"] == network]
        assert len(rows) == 1 + 5 + 1  # base, 5 learning rates, batch norm on
        best = study["best"][network]
        assert best["val_acc"] == max(r["val_acc"] for r in rows)  # chosen on validation only
    assert {"lr_finder.png", "acc_vs_lr.png", "best_curves.png", "table.md"} <= {p.name for p in out.iterdir()}
    assert all(s is None or 1e-4 <= s <= 1.0 for s in [v["suggestion"] for v in study["lr_finder"].values()])

    deeper_out = deeper.main(["--seeds", "2", *tiny_args])
    rows = json.loads((deeper_out / "deeper.json").read_text())["rows"]
    assert [(r["network"], r["variant"]) for r in rows] == [
        ("TwoLayerNet", "original"), ("TwoLayerNet", "+2 layers"), ("ConvNet", "original"), ("ConvNet", "+2 layers"),
    ]  # fmt: skip
    assert all(len(r["runs"]) == 2 and r["source"].startswith("hparams best") for r in rows)
    assert rows[1]["parameters"] != rows[0]["parameters"] and rows[3]["parameters"] > rows[2]["parameters"]

    compare_out = compare_nets.main([])
    summary = json.loads((compare_out / "compare.json").read_text())
    assert summary["ConvNet"]["best_val_acc"] == study["best"]["ConvNet"]["val_acc"]
    assert "deeper_gain_pts" in summary["TwoLayerNet"]
    assert (compare_out / "compare.png").stat().st_size > 30_000


def test_compare_nets_without_study_is_a_clear_error(results_root):
    from lab.errors import LabError
    from lab.questions import compare_nets

    with pytest.raises(LabError, match="make hparams"):
        compare_nets.main([])


@pytest.fixture
def stl_args(tiny_stl10, tmp_path):
    return [
        "--data.init_args.data_dir", str(tiny_stl10), "--data.init_args.val_size", "20",
        "--data.init_args.download", "false", "--trainer.accelerator", "cpu",
        "--trainer.enable_progress_bar", "false", "--run.root", str(tmp_path / "runs"), "--run.wandb", "disabled",
    ]  # fmt: skip


def test_pretrain_finetune_and_bonus(results_root, tiny_args, stl_args, tiny_stl10, tmp_path, capsys):
    from lab.errors import LabError
    from lab.questions import finetune, finetune_bonus, pretrain, stl10_samples

    checkpoint = tmp_path / "ckpt" / "convnet_cifar10.pt"
    pretrain.main(["--output", str(checkpoint), "--epochs", "1", *tiny_args])
    info = json.loads(checkpoint.with_suffix(".json").read_text())
    assert checkpoint.is_file() and info["backbone"] == "ConvNet" and 0 <= info["test_acc"] <= 1
    before = checkpoint.read_bytes()
    with pytest.raises(LabError, match="--force"):
        pretrain.main(["--output", str(checkpoint), *tiny_args])
    assert checkpoint.read_bytes() == before  # never overwritten without --force

    out = finetune.main(["--seeds", "2", "--checkpoint", str(checkpoint), *stl_args])
    printed = capsys.readouterr().out
    assert (
        "output layer: Linear(in_features=84, out_features=10, bias=True) -> Linear(in_features=84, out_features=5"
        in printed
    )
    rows = json.loads((out / "finetune.json").read_text())["rows"]
    assert [r["variant"].split(" ")[0] for r in rows] == ["from", "head", "full"]
    assert all(len(r["runs"]) == 2 and r["test_images"] == 40 for r in rows)
    assert (out / "val_curves.png").stat().st_size > 20_000

    bonus = finetune_bonus.main(["--data-dir", str(tiny_stl10), "--val-size", "20"])
    result = json.loads((bonus / "finetune_bonus.json").read_text())
    assert sum(map(sum, result["confusion_matrix"])) == 40
    assert result["misclassified"] == 40 - sum(result["confusion_matrix"][i][i] for i in range(5))
    assert {"tsne.png", "confusion.png", "misclassified.png"} <= {p.name for p in bonus.iterdir()}

    samples = stl10_samples.main(["--data-dir", str(tiny_stl10), "--val-size", "20", "--per-class", "3"])
    counts = json.loads((samples / "counts.json").read_text())["counts"]
    assert sum(counts["train"].values()) + sum(counts["validation"].values()) == 120


def test_cli_unknown_stl10_class_exits_with_the_valid_names(stl_args, capsys):
    from lab.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", "experiments/stl10.yaml", *stl_args, "--data.init_args.classes", "[cat, unicorn]"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unicorn" in err and "valid names: airplane, bird, car" in err and "Traceback" not in err


def test_a_diverging_run_is_recorded_and_the_study_goes_on(results_root, tiny_args, tmp_path):
    from lab.questions import hparams

    study = tmp_path / "study.yaml"
    study.write_text(
        "epochs: 1\nnetworks:\n  TwoLayerNet: twolayer\n"
        'default:\n  learning rate:\n    "1e30": [--model.lr, "1e30"]\n    "0.01": [--model.lr, "0.01"]\n'
    )
    out = hparams.main(["--study", str(study), *tiny_args, "--trainer.limit_train_batches", "8"])
    rows = json.loads((out / "hparams.json").read_text())["rows"]
    assert [r["value"] for r in rows] == ["-", "1e30", "0.01"]
    assert "loss became" in rows[1]["diverged"] and not rows[2].get("diverged")
    assert "diverged" in (out / "table.md").read_text()
