"""Each question's whole code path on tiny data (experiments/smoke.yaml layered on every run), with
its result and files checked."""

import json
import re
from pathlib import Path

import pytest
import torch

from lab.questions import questions
from lab.questions.results import latest, new_run_dir, point_latest
from lab.questions.runner import main


def _question(name):
    return next(q for q in questions() if q.name == name)


def _result(out: Path) -> dict:
    return json.loads((out / "result.json").read_text())


def test_runs_never_overwrite_and_latest_moves_only_when_pointed(tmp_path):
    first, second = new_run_dir("q", tmp_path), new_run_dir("q", tmp_path)
    assert first != second and first.is_dir() and second.is_dir()
    assert latest("q", tmp_path) is None  # nothing finished yet
    point_latest(first)
    assert latest("q", tmp_path) == first.resolve()
    new_run_dir("q", tmp_path)  # a run that fails later leaves latest alone
    assert latest("q", tmp_path) == first.resolve()


def test_bn_prints_figure1_lines_and_writes_the_loss_file(question_args, capsys):
    out = main(_question("bn"), ["--iterations", "7", *question_args])
    printed = capsys.readouterr().out
    assert len(re.findall(r"^iteration: \d+, loss: \d+\.\d{6}$", printed, re.M)) == 7
    assert re.search(r"^validation loss: \d+\.\d{6}$", printed, re.M)
    assert "scikit-learn's bundled handwritten digits" in printed and "running statistics" in printed
    data = _result(out)
    assert len(data["train_loss"]) == 7 and data["train_loss"][-1] < data["train_loss"][0]
    assert f"validation loss: {data['validation_loss']:.6f}" in printed
    lines = (out / "bn_loss.txt").read_text().splitlines()
    assert [float(v) for v in lines] == pytest.approx([*data["train_loss"], data["validation_loss"]], abs=1e-6)
    assert data["validation_loss_initial_stats"] != pytest.approx(data["validation_loss"])
    assert (out / "loss_curve.png").stat().st_size > 10_000


def _digit_folder(folder: Path, shape=(1, 28, 28), count=10) -> Path:
    from torchvision.io import write_png

    folder.mkdir()
    generator = torch.Generator().manual_seed(0)
    for i in range(count):
        write_png(torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator), str(folder / f"{i}.png"))
    return folder


def test_bn_reads_a_course_mnist_subset_folder(question_args, tmp_path):
    out = main(_question("bn"), ["--iterations", "3", "--images", str(_digit_folder(tmp_path / "ok")), *question_args])
    assert "mnist_subset images in" in _result(out)["images"]


@pytest.mark.parametrize(
    "kwargs, message",
    [({"count": 9}, "missing 9.png"), ({"shape": (3, 28, 28)}, "3 channel"), ({"shape": (1, 32, 32)}, "32 x 32 px")],
)
def test_bn_bad_image_folders_give_one_clear_message(question_args, tmp_path, capsys, kwargs, message):
    folder = _digit_folder(tmp_path / "bad", **kwargs)
    with pytest.raises(SystemExit) as exit_info:
        main(_question("bn"), ["--images", str(folder), *question_args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and "Traceback" not in err


def test_lr_curves_writes_curves_and_one_row_per_rate(question_args):
    out = main(_question("lr_curves"), ["--lrs", "1e-3", "1e-5", *question_args])
    rates = _result(out)["rates"]
    assert [r["lr"] for r in rates] == [1e-3, 1e-5]
    for r in rates:  # training accuracy measured on un-augmented training images in eval mode, every epoch
        assert all("train_eval/acc" in e and 0 <= e["val/acc"] <= 1 for e in r["run"]["history"])
        assert 0 <= r["run"]["test_acc"] <= 1
    assert (out / "curves.png").stat().st_size > 20_000


def test_augment_draws_the_three_lenna_files_and_compares_gaps(question_args, tmp_path):
    from torchvision.io import decode_image, write_png

    image = tmp_path / "img.png"
    write_png((torch.rand(3, 64, 64) * 255).to(torch.uint8), str(image))
    out = main(_question("augment"), ["--image", str(image), "--seeds", "2", *question_args])
    assert (out / "lenna_augmentations.png").stat().st_size > 20_000
    for name in ("Lenna.png", "Lenna_aug1.png", "Lenna_aug2.png"):
        assert decode_image(str(out / name)).shape == (3, 64, 64)
    assert torch.equal(decode_image(str(out / "Lenna.png")), decode_image(str(image)))
    variants = _result(out)["variants"]
    assert [v["label"] for v in variants] == ["none", "flip + translate 4 px"] and all(
        len(v["runs"]) == 2 for v in variants
    )
    configs = [(Path(v["runs"][0]["run_dir"]) / "config.yaml").read_text() for v in variants]
    assert "augment: null" in configs[0] and "translate: 4" in configs[1]


def test_augment_missing_image_names_the_option_and_the_search_order(question_args, isolated_data, capsys):
    with pytest.raises(SystemExit):
        main(_question("augment"), ["--image", "/nonexistent.png", *question_args])
    assert "--image /nonexistent.png: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(_question("augment"), question_args)
    err = capsys.readouterr().err
    assert "--image PATH" in err and "LAB_DATA_DIR" in err and "shared" in err and "data_dir" not in err


def test_best_figure_and_numbers_agree_and_a_run_reloads(question_args):
    out = main(_question("best"), ["--experiment", "fast90", *question_args])
    result = _result(out)
    matrix = torch.tensor(result["confusion_matrix"])
    assert result["test_acc"] == pytest.approx(float(matrix.diag().sum() / matrix.sum()), abs=1e-6)
    assert int(matrix.sum()) == result["test_images"] == 40
    assert Path(result["checkpoint"]).is_file()
    assert (out / "best_performance.png").stat().st_size > 30_000
    again = _result(main(_question("best"), ["--from-run", result["run_dir"], *question_args]))
    assert again["test_acc"] == pytest.approx(result["test_acc"], abs=1e-6)  # same checkpoint, same test set


def _conv_weights(run_dir) -> dict[str, torch.Tensor]:
    from lab.inference.load import checkpoint_file

    state = torch.load(checkpoint_file(Path(run_dir)), map_location="cpu", weights_only=False)["state_dict"]
    return {k: v for k, v in state.items() if re.fullmatch(r"net\.groups\.\d+\.conv\d\.weight", k)}


def test_transfer_starts_from_the_best_cnn_at_both_sizes_and_keeps_a_frozen_body(question_args):
    from lab.questions.finetune import FULL, HEAD, SCRATCH
    from lab.questions.transfer import START

    with pytest.raises(SystemExit):  # nothing to start from yet: one line naming `make best`
        main(_question("transfer"), question_args)
    source = _result(main(_question("best"), ["--experiment", "fast90", *question_args]))
    result = _result(main(_question("transfer"), ["--pixels", "32", "96", "--seeds", "1", *question_args]))
    assert result["source"] == source["checkpoint"] and [r["pixels"] for r in result["resolutions"]] == [32, 96]
    start = _conv_weights(source["run_dir"])
    for resolution in result["resolutions"]:
        runs = {v["label"]: v["runs"][0] for v in resolution["variants"]}
        scratch, head, full, start_only = (runs[label] for label in (SCRATCH, HEAD, FULL, START))
        blob = torch.load(next(Path(head["run_dir"]).glob("checkpoints/best-*.ckpt")), weights_only=False)
        assert list(blob["STL10SubsetDataModule"]["image_size"]) == [resolution["pixels"]] * 2
        assert len(start) == 6 and all(torch.equal(w, start[k]) for k, w in _conv_weights(head["run_dir"]).items())
        assert not any(torch.equal(w, start[k]) for k, w in _conv_weights(scratch["run_dir"]).items())
        moved = {k: (w - start[k]).norm() for k, w in _conv_weights(start_only["run_dir"]).items()}
        far = {k: (w - start[k]).norm() for k, w in _conv_weights(scratch["run_dir"]).items()}
        assert all(0 < moved[k] < far[k] for k in start)  # began at the CIFAR-10 weights, and its body trained
        assert head["test_images"] == full["test_images"] == 40


def test_architectures_answers_come_from_the_modules(question_args):
    from lab.models import ConvNet, TwoLayerNet, count_parameters

    result = _result(main(_question("architectures"), question_args))
    assert result["first_conv_kernel"] == [3, 5, 5] and result["first_conv_kernels"] == 6
    assert result["f6_parameters"] == 120 * 84 + 84
    for name, net in (("TwoLayerNet", TwoLayerNet()), ("ConvNet", ConvNet())):
        layers = result["layers"][name]
        assert sum(r["parameters"] for r in layers) == count_parameters(net)
        assert layers[-1]["output_shape"] == [10]


def test_cifar10_classes_grid_and_counts(question_args):
    out = main(_question("cifar10_classes"), ["--per-class", "2", *question_args])
    facts = _result(out)
    assert facts["image_shape"] == [3, 32, 32] and len(facts["classes"]) == 10
    per_split = {s: sum(c[s] for c in facts["per_class"].values()) for s in ("train", "validation", "test")}
    assert per_split == facts["split_sizes"] == {"train": 180, "validation": 20, "test": 40}
    from lab.questions.cifar10_classes import ClassesResult, describe
    from lab.questions.results import load

    assert "Here 200 of CIFAR-10's 50,000 training images are used, split into 180" in describe(
        load(ClassesResult, out)
    )
    assert (out / "classes.png").stat().st_size > 20_000


@pytest.mark.slow
def test_hparams_then_deeper_then_compare(question_args, tmp_path):
    out = main(_question("hparams"), ["--factors", "learning rate", "batch norm", "--seeds", "2", *question_args])
    study = _result(out)
    for network in ("TwoLayerNet", "ConvNet"):
        rows = [r for r in study["rows"] if r["network"] == network]
        assert len(rows) == 1 + 6 + 1  # base, 6 learning rates, batch norm on
        best = study["rows"][study["best"][network]]
        base_mean = sum(r["val_acc"] for r in study["noise_runs"][network]) / len(study["noise_runs"][network])

        def score(r, base_mean=base_mean):  # validation only, the mean over seeds where a setting has several
            runs = [r["run"], *r["seed_runs"]]
            return base_mean if r["value"] == "-" or r["same_as_base"] else sum(x["val_acc"] for x in runs) / len(runs)

        assert score(best) == max(score(r) for r in rows if r["run"])
        reused = [r for r in rows if r["same_as_base"]]  # lr 0.05: both base configs (one shared recipe)
        assert len(reused) == 1 and reused[0]["run"] == rows[0]["run"]
        assert study["noise"][network]["n"] == 2  # the base config over 2 seeds: the noise band
    assert {"lr_finder.png", "acc_vs_lr.png", "best_curves.png"} <= {p.name for p in out.iterdir()}

    deeper = _result(main(_question("deeper"), ["--seeds", "2", *question_args]))
    assert set(deeper["sweeps"]) == {
        "TwoLayerNet: +2 FC layers",
        "ConvNet: +2 convs, same widths",
        "ConvNet: +2 convs, 64 channels",
    }  # each deeper variant: its own lr sweep
    deeper = [v for v in deeper["variants"] if "re-tuned" not in v["label"]]
    assert [(v["network"], v["label"]) for v in deeper] == [
        ("TwoLayerNet", "original"),
        ("TwoLayerNet", "+2 FC layers"),
        ("ConvNet", "original"),
        ("ConvNet", "+2 convs, same widths"),
        ("ConvNet", "+2 convs, 64 channels"),
    ]
    assert all(len(v["runs"]) == 2 for v in deeper)
    params = [v["runs"][0]["parameters"] for v in deeper]
    assert params[1] != params[0] and params[2] < params[3] < params[4]

    final = _result(main(_question("final"), ["--seeds", "2", *question_args]))["networks"]
    assert [c["network"] for c in final] == ["TwoLayerNet", "ConvNet"] and all(len(c["runs"]) == 2 for c in final)
    assert all(len(c["base_runs"]) == 2 for c in final)  # the study's base runs over the same seeds
    assert all(len(c["second_round"]) == 4 and len(c["third_round"]) == 2 for c in final)

    from lab.engine import run_cache
    from lab.questions import finetune_start

    run_cache.LEDGER.reset()
    info = finetune_start.main(["--output", str(tmp_path / "convnet.pt"), *question_args])
    convnet = next(c for c in final if c["network"] == "ConvNet")
    assert info["run_dir"] == convnet["runs"][0]["run_dir"] and "make final" in info["source"]  # reused, one story
    assert run_cache.LEDGER.trained == [] and info["epochs"] == convnet["runs"][0]["epochs"]

    summary = _result(main(_question("compare_nets"), question_args))["nets"]
    finals = {c["network"]: c for c in final}  # 2.4 d compares the finals, not single-seed study bests
    assert summary["ConvNet"]["final_test"]["n"] == 2
    assert summary["ConvNet"]["best_val_acc"] == pytest.approx(sum(r["val_acc"] for r in finals["ConvNet"]["runs"]) / 2)
    assert summary["TwoLayerNet"]["deeper_gain"] is not None and summary["ConvNet"]["width"] is not None


def test_compare_nets_without_study_is_a_clear_error(question_args, capsys):
    with pytest.raises(SystemExit):
        main(_question("compare_nets"), question_args)
    assert "make hparams" in capsys.readouterr().err


@pytest.mark.slow
def test_pretrain_finetune_bonus_and_stl10_samples(question_args, tmp_path, capsys):
    from lab.questions import finetune_start

    checkpoint = tmp_path / "ckpt" / "convnet_cifar10.pt"
    finetune_start.main(["--output", str(checkpoint), "--epochs", "1", *question_args])
    info = json.loads(checkpoint.with_suffix(".json").read_text())
    assert checkpoint.is_file() and info["net"] == "ConvNet" and 0 <= info["test_acc"] <= 1
    before = checkpoint.read_bytes()
    with pytest.raises(SystemExit):
        finetune_start.main(["--output", str(checkpoint), *question_args])
    assert "--force" in capsys.readouterr().err and checkpoint.read_bytes() == before  # never overwritten

    out = main(_question("finetune"), ["--seeds", "2", "--checkpoint", str(checkpoint), *question_args])
    printed = capsys.readouterr().out
    assert (
        "classifier: Linear(in_features=84, out_features=10) of the checkpoint -> Linear(in_features=84, out_features=5"
        in printed
    )
    result = _result(out)
    assert [v["label"].split(" ")[0] for v in result["variants"]] == ["from", "classifier", "full", "full"]
    at_once = (Path(result["variants"][3]["runs"][0]["run_dir"]) / "config.yaml").read_text()
    assert "unfreeze_at_epoch: 0" in at_once and "unfrozen at once" in result["variants"][3]["label"]
    assert all(len(v["runs"]) == 2 and v["runs"][0]["test_images"] == 40 for v in result["variants"])
    assert result["orders_identical"] is True and (out / "val_curves.png").stat().st_size > 20_000

    bonus = _result(main(_question("finetune_bonus"), question_args))
    assert sum(map(sum, bonus["confusion_matrix"])) == 40
    assert bonus["misclassified"] == 40 - sum(bonus["confusion_matrix"][i][i] for i in range(5))

    samples = main(_question("stl10_samples"), ["--per-class", "3", *question_args])
    counts = _result(samples)["counts"]
    assert sum(counts["train"].values()) + sum(counts["validation"].values()) == 120
    assert {"samples_96px.png", "samples_32px.png"} <= {p.name for p in samples.iterdir()}


def test_cli_unknown_stl10_class_exits_with_the_valid_names(tiny_config, capsys):
    from lab.engine.cli import main as cli

    with pytest.raises(SystemExit) as exit_info:
        cli(
            [
                "fit",
                "--config",
                "experiments/stl10.yaml",
                "--config",
                str(tiny_config),
                "--data.init_args.classes",
                "[cat, unicorn]",
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unicorn" in err and "valid names: airplane, bird, car" in err and "Traceback" not in err


def test_a_diverging_run_is_recorded_and_the_study_goes_on(question_args, tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(
        "epochs: 1\nlr_finder_steps: 5\nnetworks:\n  TwoLayerNet: twolayer\nfactors:\n  learning rate:\n"
        '    "1e30": {model: {optimizer: {init_args: {lr: 1.0e+30}}}}\n'
        '    "0.01": {model: {optimizer: {init_args: {lr: 0.01}}}}\n'
    )
    out = main(_question("hparams"), ["--study", str(study), "--seeds", "1", *question_args])
    rows = _result(out)["rows"]
    assert [r["value"] for r in rows] == ["-", "1e30", "0.01"]
    assert "loss became nan or inf" in rows[1]["diverged"] and rows[1]["run"] is None and rows[2]["run"]


def test_final_combines_the_winners_that_beat_the_noise_and_skips_clashing_ones():
    from lab.questions.final import combine
    from lab.questions.hparams import HparamsResult, StudyRow
    from lab.questions.stats import Spread
    from lab.questions.training import RunSummary

    def row(factor, value, change, acc):
        return StudyRow("ConvNet", factor, value, change, RunSummary(0, acc, acc, 6, 1.0, "r"))

    lr = {"model": {"optimizer": {"init_args": {"lr": 0.02}}}}
    adam = {"model": {"optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 1e-3}}}}
    bn = {"model": {"net": {"init_args": {"batch_norm": True}}}}
    rows = [
        row("base", "-", {}, 0.60),
        row("learning rate", "0.02", lr, 0.62),
        row("optimizer", "adam", adam, 0.66),
        row("batch norm", "on", bn, 0.63),
        row("weight decay", "0", {"model": {"optimizer": {"init_args": {"weight_decay": 0.0}}}}, 0.605),
    ]
    study = HparamsResult(6, {"ConvNet": "lenet"}, rows, {"ConvNet": 2}, {"ConvNet": Spread(0.6, 0.005, 3)}, {})
    change, chosen, left_out = combine(study, "ConvNet")  # band: 2 * sqrt(2) * 0.5 = 1.4 points
    assert [c.split(" =")[0] for c in chosen] == ["optimizer", "batch norm"]  # largest gain first
    assert [c.split(" =")[0] for c in left_out] == ["learning rate"]  # sets the optimizer Adam replaced
    assert change == {**adam, "model": {**adam["model"], "net": bn["model"]["net"]}}  # weight decay: in the noise


def test_preparation_describes_and_measures_the_data_path(question_args):
    result = _result(main(_question("preparation"), question_args))
    assert result["train_images"] == 180 and result["batch_size"] == 16  # the tiny data, smoke.yaml's batch
    assert result["loader_images_per_second"] > 0 and result["optimizer"]["class_path"] == "torch.optim.SGD"
    assert result["augment"] == {"flip": True, "translate": 2}
