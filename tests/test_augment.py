import pytest
import torch

from lab.data.augment import (
    AugmentConfig,
    BatchAugment,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    random_flip,
    random_rotate,
    random_translate,
)


@pytest.fixture
def batch():
    return torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def test_flip_is_exactly_a_mirror(batch):
    assert torch.equal(random_flip(batch, p=1.0), batch.flip(-1))
    assert torch.equal(random_flip(batch, p=0.0), batch)
    mixed = random_flip(batch, p=0.5, generator=torch.Generator().manual_seed(1))
    flipped = [torch.equal(m, b.flip(-1)) for m, b in zip(mixed, batch)]
    kept = [torch.equal(m, b) for m, b in zip(mixed, batch)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_translate_is_a_shifted_window_of_the_reflect_padded_image(batch):
    out = random_translate(batch, 3, generator=torch.Generator().manual_seed(2))
    padded = torch.nn.functional.pad(batch, (3, 3, 3, 3), mode="reflect")
    for img, pad in zip(out, padded):
        windows = [torch.equal(img, pad[:, i : i + 32, j : j + 32]) for i in range(7) for j in range(7)]
        assert sum(windows) >= 1
    assert not torch.equal(out, batch)
    assert torch.equal(random_translate(batch, 0), batch)
    with pytest.raises(ValueError, match="smaller than the image"):
        random_translate(batch, 32)


def test_shapes_dtype_range_and_determinism(batch):
    cfg = AugmentConfig(flip=True, translate=2, rotate=10, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    aug = BatchAugment(cfg)
    a = aug(batch, generator=torch.Generator().manual_seed(3))
    b = aug(batch, generator=torch.Generator().manual_seed(3))
    c = aug(batch, generator=torch.Generator().manual_seed(4))
    assert a.shape == batch.shape and a.dtype == batch.dtype
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= 0 and a.max() <= 1


def test_zero_strength_is_identity(batch):
    one = torch.ones(16, 1, 1, 1)
    assert torch.equal(BatchAugment(AugmentConfig())(batch), batch)
    torch.testing.assert_close(adjust_brightness(batch.clone(), one), batch)
    torch.testing.assert_close(adjust_contrast(batch.clone(), one), batch)
    torch.testing.assert_close(adjust_saturation(batch.clone(), one), batch)
    torch.testing.assert_close(adjust_hue(batch.clone(), torch.zeros(16)), batch, atol=1e-5, rtol=0)
    torch.testing.assert_close(random_rotate(batch, 1e-9), batch, atol=1e-5, rtol=0)


def test_colour_ops_do_what_they_say(batch):
    grey = adjust_saturation(batch.clone(), torch.zeros(16, 1, 1, 1))
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    flat = adjust_contrast(batch.clone(), torch.zeros(16, 1, 1, 1))
    assert flat.flatten(1).std(dim=1).max() < 1e-6
    assert (adjust_brightness(batch.clone(), torch.full((16, 1, 1, 1), 0.5)) <= batch).all()
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 0.8
    turned = adjust_hue(red, torch.tensor([1 / 3]))  # a third of a turn moves red towards green
    assert turned[:, 1].mean() > turned[:, 0].mean()


def test_negative_strength_is_rejected():
    with pytest.raises(ValueError, match="translate"):
        AugmentConfig(translate=-1)
    with pytest.raises(ValueError, match="hue"):
        AugmentConfig(hue=0.7)


def test_lenna_figure_shows_the_trained_position_augmentation_and_a_colour_only_image(tmp_path):
    """A2's Figure 3 uses the parameters the trained runs used (shift scaled to the image) and Lenna_aug2 only
    changes colours: each of its pixels stays where it was."""
    from torchvision.io import decode_image

    from lab.questions import augment

    trained, shown = augment.trained_position(256)
    assert trained == AugmentConfig(**augment.TRAINING[augment.TRAINED]["data"]["init_args"]["augment"])
    assert shown.translate == trained.translate * 8 and shown.rotate == 0 and shown.flip == trained.flip
    assert f"shift ±{trained.translate} px at 32 px" in augment.position_label(trained, shown)
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    augment.augmentation_figure(image, tmp_path, samples=2)
    original, colour = (
        decode_image(str(tmp_path / n)).float().mean(0).flatten() for n in ("Lenna.png", "Lenna_aug2.png")
    )
    assert torch.corrcoef(torch.stack([original, colour]))[0, 1] > 0.7  # same pixels, other colours
