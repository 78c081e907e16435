"""Prediction on your own images: any size and channel layout, class names and statistics from the
checkpoint, bad files skipped with a message, bad checkpoints refused with one."""

import csv

import pytest
import torch
from PIL import Image
from torchvision.io import encode_jpeg, write_file, write_png

from lab.inference.predict import load_trained, main, predict
from lab.utils.errors import CheckpointMismatchError, DataNotFoundError


@pytest.fixture(scope="module")
def trained_run(tiny_data, tmp_path_factory):
    from lab.engine.train import run

    root = tmp_path_factory.mktemp("predict_runs")
    layers = {
        "trainer": {"accelerator": "cpu", "enable_progress_bar": False, "max_epochs": 1},
        "data": {"init_args": {"data_dir": str(tiny_data), "val_size": 20, "download": False}},
        "run": {"root": str(root), "wandb": "disabled"},
    }
    return run(["lenet", layers], name="predict_me").run_dir


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    g = torch.Generator().manual_seed(0)
    write_png(torch.randint(0, 256, (3, 64, 48), dtype=torch.uint8, generator=g), str(folder / "rgb.png"))
    rgba = torch.randint(0, 256, (20, 20, 4), dtype=torch.uint8, generator=g).numpy()
    Image.fromarray(rgba, mode="RGBA").save(folder / "rgba.png")
    Image.fromarray(rgba[..., :3]).save(folder / "small.webp")
    write_png(torch.randint(0, 256, (1, 100, 120), dtype=torch.uint8, generator=g), str(folder / "grey.png"))
    write_file(
        str(folder / "photo.jpg"), encode_jpeg(torch.randint(0, 256, (3, 40, 40), dtype=torch.uint8, generator=g))
    )
    (folder / "broken.png").write_bytes(b"this is not an image")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    return folder


def test_predicts_every_readable_image_with_classes_from_the_checkpoint(trained_run, photos, tmp_path):
    path, rows = predict(trained_run, [str(photos)], tmp_path / "out", top_k=3)
    assert sorted(p.name for p, _ in rows) == ["grey.png", "photo.jpg", "rgb.png", "rgba.png", "small.webp"]
    with open(path) as f:
        table = list(csv.reader(f))
    assert table[0] == ["path", "class_1", "probability_1", "class_2", "probability_2", "class_3", "probability_3"]
    for row in table[1:]:
        probabilities = [float(x) for x in row[2::2]]
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
        assert set(row[1::2]) <= {
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        }
    assert (tmp_path / "out" / "predictions.png").stat().st_size > 10_000


def test_a_bad_file_among_many_is_reported_and_skipped(trained_run, photos, tmp_path, capsys):
    main([str(trained_run), str(photos / "rgb.png"), str(photos / "broken.png"), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert "skipped" in out and "broken.png" in out and "rgb.png: " in out


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "empty_dir", "no PNG, JPEG, WebP, TIFF, BMP or GIF image in this folder"),
        (lambda d: d / "missing.png", "no such file or folder"),
        (lambda d: d / "only_broken", "none of the 1 file(s) could be read"),
    ],
)
def test_nothing_to_predict_is_one_clear_message(trained_run, tmp_path, capsys, make, message):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "only_broken").mkdir()
    (tmp_path / "only_broken" / "x.png").write_bytes(b"junk")
    with pytest.raises(SystemExit) as exit_info:
        main([str(trained_run), str(make(tmp_path)), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and "Traceback" not in err


def test_corrupt_or_foreign_checkpoints_are_refused(tmp_path):
    from lab.models import TwoLayerNet

    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointMismatchError, match="cannot be loaded"):
        load_trained(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save(TwoLayerNet().state_dict(), foreign)
    foreign.with_suffix(".json").write_text(
        '{"net": "ConvNet", "net_options": {}, "classes": ["a"], "mean": [0], "std": [1]}'
    )
    with pytest.raises(CheckpointMismatchError, match="does not fit ConvNet"):
        load_trained(foreign)
    with pytest.raises(CheckpointMismatchError, match="no such checkpoint"):
        load_trained(tmp_path / "nothing")


def test_the_shipped_lenet_predicts_without_any_training_data(isolated_data, tmp_path, photos):
    from lab.utils.paths import REPO_ROOT

    trained = load_trained(REPO_ROOT / "checkpoints" / "convnet_cifar10.pt")
    assert trained.record.classes[0] == "airplane" and len(trained.record.mean) == 3
    _, rows = predict(REPO_ROOT / "checkpoints" / "convnet_cifar10.pt", [str(photos / "rgb.png")], tmp_path / "o")
    assert len(rows) == 1 and len(rows[0][1]) == 3


def test_image_files_must_exist(tmp_path):
    from lab.data.images import image_files

    with pytest.raises(DataNotFoundError):
        image_files([tmp_path / "nope"])
