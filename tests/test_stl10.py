import numpy as np
import pytest
import torch

from lab.data import STL10SubsetDataModule
from lab.data.stl10 import UnknownClassError, load_split, read_images
from lab.utils.errors import CorruptDataError
from tests.synthetic import write_stl10


def _dm(root, **kw):
    kw.setdefault("val_size", 20)
    dm = STL10SubsetDataModule(data_dir=str(root), download=False, **kw)
    dm.setup()
    return dm


def test_column_major_planes_are_read_upright(tmp_path):
    image = np.zeros((1, 3, 96, 96), np.uint8)
    image[0, 0] = np.arange(96, dtype=np.uint8)[:, None]  # red = row index: a vertical gradient
    image.transpose(0, 1, 3, 2).tofile(tmp_path / "x.bin")
    back = read_images(tmp_path / "x.bin")
    assert back.shape == (1, 3, 96, 96) and np.array_equal(back, image)


def test_subset_classes_relabelled_in_the_given_order_and_resized(tiny_stl10):
    dm = _dm(tiny_stl10)
    assert dm.classes == ("airplane", "bird", "ship", "cat", "dog") and dm.num_classes == 5
    assert dm.train_set.images.shape[1:] == (3, 32, 32) and dm.train_set.images.dtype == torch.uint8
    assert len(dm.train_set) + len(dm.val_set) == 5 * 24 and len(dm.test_set) == 5 * 8
    counts = torch.bincount(torch.cat([dm.train_set.labels, dm.val_set.labels]), minlength=5)
    assert counts.tolist() == [24] * 5
    # the synthetic colour of a class follows its official id: relabelling must keep images with their class
    ship = _dm(tiny_stl10, classes=["ship"], image_size=96)
    cat_first = _dm(tiny_stl10, classes=["cat", "ship"], image_size=96)
    ship_images = cat_first.train_set.images[cat_first.train_set.labels == 1].float().mean().item()
    only_ship = torch.cat([ship.train_set.images, ship.val_set.images]).float().mean().item()
    cats = cat_first.train_set.images[cat_first.train_set.labels == 0].float().mean().item()
    assert ship_images == pytest.approx(only_ship, rel=0.02) and abs(cats - only_ship) > 5


def test_reads_full_official_files_too(tmp_path):
    root = write_stl10(tmp_path, per_class_train=3, per_class_test=2)  # all ten classes
    dm = _dm(root, classes=["monkey", "truck"], image_size=48, val_size=2)
    assert dm.train_set.images.shape[1:] == (3, 48, 48)
    assert len(dm.train_set) + len(dm.val_set) == 6 and set(dm.test_set.labels.tolist()) == {0, 1}


def test_unknown_class_lists_the_valid_names(tiny_stl10):
    with pytest.raises(UnknownClassError, match="unknown STL-10 class name.*'zebra'.*valid names: airplane, bird"):
        _dm(tiny_stl10, classes=["airplane", "zebra"])
    with pytest.raises(UnknownClassError, match="distinct"):
        STL10SubsetDataModule(classes=["cat", "cat"])


def test_truncated_images_are_named(tmp_path):
    root = write_stl10(tmp_path, per_class_train=2, per_class_test=1)
    path = root / "stl10/stl10_binary/train_X.bin"
    path.write_bytes(path.read_bytes()[:-100])
    load_split.cache_clear()
    with pytest.raises(CorruptDataError, match="train_X.bin.*not a whole number"):
        _dm(root, val_size=2)
