"""Corruptions after Hendrycks & Dietterich: deterministic, shape- and dtype-preserving, stronger with
severity; and the robustness question's evaluation path on tiny data."""

import pytest
import torch

from lab.data.corruptions import CORRUPTIONS, SEVERITIES, corrupt


@pytest.fixture(scope="module")
def images():
    """Smooth random pictures (upsampled 4 x 4 noise): like photos, and unlike per-pixel noise, a mild blur
    barely changes them."""
    import torch.nn.functional as F

    small = torch.rand(16, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    return (F.interpolate(small, size=(32, 32), mode="bilinear", align_corners=False) * 255).round().to(torch.uint8)


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_each_corruption_is_deterministic_keeps_shape_and_grows_with_severity(images, name):
    mild, strong = corrupt(images, name, 1), corrupt(images, name, 5)
    assert mild.shape == images.shape and mild.dtype == torch.uint8 and strong.dtype == torch.uint8
    assert torch.equal(mild, corrupt(images, name, 1))  # the same every call
    change = [(corrupt(images, name, s).float() - images.float()).abs().mean().item() for s in SEVERITIES]
    assert change[0] < 15 and change[-1] > change[0]  # severity 1 changes little, 5 more (grey levels of 255)


def test_a_bad_severity_is_refused(images):
    with pytest.raises(ValueError, match="severity must be 1..5"):
        corrupt(images, "contrast", 6)


@pytest.mark.slow
def test_the_question_evaluates_the_models_there_are(question_args, tmp_path):
    from lab.questions import questions
    from lab.questions.runner import main

    q = {x.name: x for x in questions()}
    main(q["augment"], ["--seeds", "1", "--image", str(_png(tmp_path)), *question_args])
    result = main(q["robustness"], question_args)
    import json

    data = json.loads((result / "result.json").read_text())
    names = [m["name"] for m in data["models"]]
    assert names == [
        "final ConvNet (shipped checkpoint)",
        "course CNN, no augmentation",
        "course CNN, flip + translate",
    ]
    assert any("make deeper" in m for m in data["missing"]) and any("make best" in m for m in data["missing"])
    for model in data["models"]:
        assert set(model["accuracy"]) == set(CORRUPTIONS) and all(len(v) == 5 for v in model["accuracy"].values())
        assert 0 <= model["clean"] <= 1 and data["test_images"] == 40
    assert {"accuracy_vs_severity.png", "corruptions.png"} <= {p.name for p in result.iterdir()}


def _png(tmp_path):
    from torchvision.io import write_png

    path = tmp_path / "lenna.png"
    write_png((torch.rand(3, 32, 32) * 255).to(torch.uint8), str(path))
    return path
