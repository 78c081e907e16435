import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lab.data import CIFAR10, CIFAR10DataModule
from lab.data.cifar10 import load_split
from lab.utils.errors import CorruptDataError, DataNotFoundError
from tests.synthetic import write_cifar10


def test_reads_official_pickle_layout(tiny_cifar):
    train = CIFAR10(tiny_cifar, train=True, download=False)
    test = CIFAR10(tiny_cifar, train=False, download=False)
    assert train.images.shape == (200, 3, 32, 32) and train.images.dtype == torch.uint8
    assert test.images.shape == (40, 3, 32, 32)
    assert train.labels.dtype == torch.int64 and set(train.labels.tolist()) == set(range(10))
    with open(tiny_cifar / "cifar10/cifar-10-batches-py/data_batch_1", "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    # row-major red, green, blue planes -> (3, 32, 32)
    assert torch.equal(train.images[0], torch.from_numpy(raw[b"data"][0].reshape(3, 32, 32)))
    assert train.labels[0].item() == raw[b"labels"][0]


def _module(root, **kw):
    dm = CIFAR10DataModule(data_dir=str(root), val_size=50, download=False, **kw)
    dm.setup()
    return dm


def test_split_sizes_and_determinism(tiny_cifar):
    a, b = _module(tiny_cifar, split_seed=1), _module(tiny_cifar, split_seed=1)
    c = _module(tiny_cifar, split_seed=2)
    assert (len(a.train_set), len(a.val_set), len(a.test_set)) == (150, 50, 40)
    assert torch.equal(a.val_set.images, b.val_set.images)
    assert not torch.equal(a.val_set.images, c.val_set.images)
    # train and validation are disjoint and together the whole training file set
    together = torch.cat([a.train_set.images, a.val_set.images]).flatten(1)
    assert torch.unique(together, dim=0).shape[0] == 200
    assert len(_module(tiny_cifar, train_subset=30).train_set) == 30


def test_normalization_uses_training_statistics(tiny_cifar):
    dm = _module(tiny_cifar)
    x = dm.prepare_batch(dm.train_set.images, training=False)
    assert x.dtype == torch.float32
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2, rtol=0)
    mean, std = dm.normalization(x.device)
    torch.testing.assert_close(x * std + mean, dm.train_set.images.float() / 255, atol=1e-5, rtol=0)


def test_batches_come_whole_from_the_loader(tiny_cifar):
    dm = _module(tiny_cifar, batch_size=32)
    batches = list(dm.train_dataloader())
    assert len(batches) == 150 // 32  # drop_last on training batches
    assert all(x.shape == (32, 3, 32, 32) and x.dtype == torch.uint8 for x, _ in batches)
    val = list(dm.val_dataloader())
    assert sum(len(y) for _, y in val) == 50


def test_missing_data_names_the_three_ways(isolated_data):
    with pytest.raises(DataNotFoundError) as err:
        CIFAR10(train=True, download=False)
    msg = str(err.value)
    assert "data_dir" in msg and "LAB_DATA_DIR" in msg and "shared" in msg and "download" in msg


def test_search_order_env_then_shared(isolated_data, monkeypatch, tmp_path):
    import lab.utils.paths

    shared = write_cifar10(tmp_path / "shared", per_batch=10, test_count=10, seed=1)
    env = write_cifar10(tmp_path / "env", per_batch=20, test_count=10, seed=2)
    monkeypatch.setattr(lab.utils.paths, "SHARED_DATA", shared)
    load_split.cache_clear()
    assert len(CIFAR10(download=False).labels) == 50  # ../shared/data
    monkeypatch.setenv("LAB_DATA_DIR", str(env))
    assert len(CIFAR10(download=False).labels) == 100  # LAB_DATA_DIR beats shared
    assert len(CIFAR10(shared, download=False).labels) == 50  # explicit beats LAB_DATA_DIR
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="LAB_DATA_DIR"):
        CIFAR10(download=False)


def _corrupt_copy(tmp_path, mutate):
    root = write_cifar10(tmp_path / "bad", per_batch=10, test_count=10)
    mutate(root / "cifar10/cifar-10-batches-py")
    load_split.cache_clear()
    return root


def test_truncated_batch_is_named(tmp_path):
    def truncate(folder):
        path = folder / "data_batch_3"
        path.write_bytes(path.read_bytes()[:500])

    root = _corrupt_copy(tmp_path, truncate)
    with pytest.raises(CorruptDataError, match="data_batch_3.*truncated or corrupt"):
        CIFAR10(root, download=False)


def _rewrite(path, changes):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    d.update(changes)
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({b"data": np.zeros((10, 1000), np.uint8)}, r"shape \(10, 1000\)"),
        ({b"data": np.zeros((10, 3072), np.float32)}, "uint8"),
        ({b"labels": [0] * 9}, "10 images but 9 labels"),
        ({b"labels": [11] * 10}, "labels range"),
    ],
)
def test_wrong_contents_are_named(tmp_path, changes, message):
    root = _corrupt_copy(tmp_path, lambda folder: _rewrite(folder / "data_batch_2", changes))
    with pytest.raises(CorruptDataError, match=message) as err:
        CIFAR10(root, download=False)
    assert "data_batch_2" in str(err.value)


def test_bad_split_arguments(tiny_cifar):
    with pytest.raises(ValueError, match="val_size"):
        CIFAR10DataModule(val_size=0)
    dm = CIFAR10DataModule(data_dir=str(tiny_cifar), val_size=500, download=False)
    with pytest.raises(ValueError, match="val_size=500"):
        dm.setup()


def test_the_shuffle_depends_on_the_epoch_it_is_told_only(tiny_cifar):
    from lab.data.base import EpochShuffle

    sampler = EpochShuffle(50)
    sampler.set_epoch(3)
    third = list(sampler)
    sampler.set_epoch(4)
    assert list(sampler) != third and sorted(third) == list(range(50))
    torch.manual_seed(123)  # the global RNG plays no part
    sampler.set_epoch(3)
    assert list(sampler) == third


def test_validation_adds_the_training_subset_loader_only_while_fitting(tiny_cifar):
    dm = _module(tiny_cifar, train_eval_size=30)
    assert len(dm.train_eval_set) == 30 and dm.train_eval_set.images.shape[1:] == (3, 32, 32)
    assert not isinstance(dm.val_dataloader(), list)  # no trainer: validation alone


@pytest.mark.parametrize("on_device", [True, False])
def test_data_on_device_puts_every_split_on_the_trainers_device(tiny_cifar, on_device):
    dm = CIFAR10DataModule(
        data_dir=str(tiny_cifar),
        val_size=50,
        batch_size=32,
        train_eval_size=20,
        data_on_device=on_device,
        download=False,
    )
    dm.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("meta")))  # stands for a GPU
    dm.setup("fit")
    splits = (dm.train_set, dm.val_set, dm.test_set, dm.train_eval_set)
    assert all(s.images.is_meta == on_device and s.labels.is_meta == on_device for s in splits)
    assert dm.mean.device.type == "cpu"  # statistics computed before the move, kept for checkpoints
    dm.trainer = None
    images, labels = next(iter(dm.train_dataloader()))  # indexed where the images are
    assert images.is_meta == on_device and images.shape == (32, 3, 32, 32) and images.dtype == torch.uint8
