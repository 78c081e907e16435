"""InMemoryImageDataModule: a whole dataset as uint8 tensors, batches built by indexing.

The path of one batch: a sampler yields a list of indices -> one tensor index op gives a uint8
batch -> Lightning moves it to the device -> ``on_after_batch_transfer`` converts to float,
augments (training only) and normalizes there, on the whole batch at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from lab.callbacks.epoch_seed import epoch_seed
from lab.data.augment import AugmentConfig, BatchAugment
from lab.data.transform import InputTransform
from lab.models.pretrained import DataRecord


class TensorBatches(Dataset):
    """Images and labels in memory. The DataLoader fetches a batch through ``__getitems__``: one
    tensor index op per batch instead of one Python call per image."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: list[int]):
        index = torch.as_tensor(indices, device=self.images.device)
        return self.images[index], self.labels[index]

    def to(self, device: torch.device) -> TensorBatches:
        """The same images and labels on ``device`` (a no-op where they already are)."""
        return TensorBatches(self.images.to(device), self.labels.to(device))


class EpochShuffle(Sampler[int]):
    """A new order every epoch that depends on (training seed, epoch) only, never on the global RNG, so
    a run resumed at epoch k draws epoch k's order exactly as an uninterrupted run does. The fit loop
    tells it the epoch through ``set_epoch`` (under DDP, Lightning's sampler wrapper passes it on)."""

    def __init__(self, size: int):
        self.size, self.epoch = size, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        seed = int(os.environ.get("PL_GLOBAL_SEED", "0"))  # set by seed_everything (the CLI's seed)
        generator = torch.Generator().manual_seed(epoch_seed(seed, self.epoch))
        return iter(torch.randperm(self.size, generator=generator).tolist())


def whole_batch(batch):
    """collate_fn for ``TensorBatches``: the batch is already (images, labels)."""
    return batch


def channel_mean_std(images: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images, in [0, 1] units, without a full float copy."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].to(torch.float64) / 255
        total += x.sum(dim=(0, 2, 3))
        squares += (x * x).sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(0).sqrt()
    return mean.float(), std.float()


class InMemoryImageDataModule(L.LightningDataModule):
    """Base of every image data module: seeded split, train-set normalization, batched augmentation.

    Subclasses set ``classes`` and implement ``load_arrays``.
    """

    classes: tuple[str, ...] = ()

    def __init__(
        self,
        data_dir: str | None = None,
        batch_size: int = 256,
        eval_batch_size: int = 1000,
        val_size: int = 5000,
        split_seed: int = 0,
        augment: AugmentConfig | None = None,
        train_subset: int | None = None,
        train_eval_size: int = 0,
        channels_last: bool = False,
        data_on_device: bool = False,
        download: bool = True,
    ):
        """
        Args:
            data_dir: folder holding the dataset (default: LAB_DATA_DIR, ../shared/data, ./data).
            batch_size: training batch size.
            eval_batch_size: batch size for validation, test and predict.
            val_size: images of the training files held out for validation (seeded split).
            split_seed: seed of the train/validation split, independent of the training seed.
            augment: batched augmentation applied to training batches only.
            train_subset: keep only the first N training images of the split (quick runs, tests).
            train_eval_size: also evaluate, after every epoch, a fixed subset of this many training images,
                un-augmented and in eval mode (logged as train_eval/loss and train_eval/acc); 0 = off.
            channels_last: hand batches to the network in channels_last memory format (faster on CPU).
            data_on_device: keep the uint8 images on the training device (airbench's data path: batches are
                indexed and augmented there, no host-to-device copy per batch; CIFAR-10 takes about 180 MB).
            download: allow a torchvision download into ./data when no local copy is found.
        """
        super().__init__()
        self.save_hyperparameters(logger=False)  # the CLI logs the whole config once (lab/engine/run_record.py)
        self.data_dir, self.batch_size, self.eval_batch_size = data_dir, batch_size, eval_batch_size
        self.val_size, self.split_seed, self.train_subset = val_size, split_seed, train_subset
        self.train_eval_size, self.channels_last, self.download = train_eval_size, channels_last, download
        self.data_on_device = data_on_device
        self.augment = BatchAugment(augment)
        self._check_sizes()
        self.train_set = self.val_set = self.test_set = self.train_eval_set = None
        self.mean = self.std = None
        self.transform: InputTransform | None = None  # set with the statistics (setup, or a checkpoint's record)

    def _check_sizes(self) -> None:
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError(
                f"batch sizes must be >= 1, got batch_size={self.batch_size}, eval_batch_size={self.eval_batch_size}"
            )
        if self.val_size < 1:
            raise ValueError(f"val_size must be >= 1 (model selection needs a validation split), got {self.val_size}")
        if self.train_subset is not None and self.train_subset < 1:
            raise ValueError(f"train_subset must be >= 1 or null, got {self.train_subset}")
        if self.train_eval_size < 0:
            raise ValueError(f"train_eval_size must be >= 0, got {self.train_eval_size}")

    # -- what subclasses provide ---------------------------------------------------------
    def load_arrays(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Images uint8 (N, C, H, W) and labels int64 (N,) of the training or test files."""
        raise NotImplementedError

    def source_folder(self) -> Path:
        """The folder of the files ``load_arrays`` reads (found, never downloaded): the run cache hashes it."""
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    # -- Lightning hooks -------------------------------------------------------------------
    def prepare_data(self) -> None:
        self.load_arrays(train=True)  # locates (or downloads) once, on one process

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        images, labels = self.load_arrays(train=True)
        if self.val_size >= len(labels):
            raise ValueError(
                f"val_size={self.val_size} leaves no training images out of {len(labels)}; "
                f"choose val_size < {len(labels)}"
            )
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(self.split_seed))
        val_idx, train_idx = order[: self.val_size], order[self.val_size :]
        if self.train_subset is not None:
            train_idx = train_idx[: self.train_subset]
        self.train_set = TensorBatches(self._preflip(images[train_idx]), labels[train_idx])
        self.val_set = TensorBatches(images[val_idx], labels[val_idx])
        self.test_set = TensorBatches(*self.load_arrays(train=False))
        if self.train_eval_size:
            keep = train_idx[: self.train_eval_size]  # a fixed random subset: the split order is seeded
            self.train_eval_set = TensorBatches(images[keep], labels[keep])
        self._set_statistics(*channel_mean_std(self.train_set.images))
        if self.data_on_device and self.trainer is not None:
            self.place_on(self.trainer.strategy.root_device)

    def _set_statistics(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean, self.std = mean, std
        self.transform = InputTransform(mean, std)

    def place_on(self, device: torch.device) -> None:
        """Move every split's uint8 tensors to ``device``; batches are then indexed there."""
        for name in ("train_set", "val_set", "test_set", "train_eval_set"):
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name).to(device))

    def _preflip(self, images: torch.Tensor) -> torch.Tensor:
        """With alternate_flip, a seeded half of the training images starts mirrored; every odd epoch
        mirrors them all (prepare_batch): each image is seen both ways in every pair of epochs."""
        config = self.augment.config
        if not (config.flip and config.alternate_flip):
            return images
        mask = torch.rand(len(images), generator=torch.Generator().manual_seed(self.split_seed + 1)) < 0.5
        return torch.where(mask.view(-1, 1, 1, 1), images.flip(-1), images)

    def _loader(self, dataset: TensorBatches, batch_size: int, shuffle: bool) -> DataLoader:
        drop_last = shuffle and len(dataset) > batch_size  # no size-1 tail batch for BatchNorm
        sampler = EpochShuffle(len(dataset)) if shuffle else None
        # its own generator: creating an iterator must not draw from the global RNG (augmentation's)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            drop_last=drop_last,
            collate_fn=whole_batch,
            generator=torch.Generator().manual_seed(0),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader | list[DataLoader]:
        val = self._loader(self.val_set, self.eval_batch_size, shuffle=False)
        fitting = self.trainer is not None and self.trainer.state.fn == "fit"
        if self.train_eval_set is None or not fitting:  # `validate` alone checks the validation split only
            return val
        return [val, self._loader(self.train_eval_set, self.eval_batch_size, shuffle=False)]

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, self.eval_batch_size, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self.test_dataloader()

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        images, labels = batch
        training = self.trainer is not None and self.trainer.training
        return self.prepare_batch(images, training, self.trainer.current_epoch if training else 0), labels

    # -- the batch transform, usable without a Trainer (benchmarks, figures) ---------------
    def normalization(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform.statistics(device)

    def prepare_batch(self, images: torch.Tensor, training: bool, epoch: int = 0) -> torch.Tensor:
        """uint8 batch -> float in [0, 1] -> augment (training only) -> normalize: the one input transform
        (lab/data/transform.py), with this module's training statistics and augmentation."""
        x = self.transform(images, self._augmentation(epoch) if training else None)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _augmentation(self, epoch: int):
        """The augmentation of a training batch in ``epoch`` (None: none): every odd epoch mirrors the whole
        batch under alternate_flip (``_preflip``), then the batched random augmentation."""
        config = self.augment.config
        mirror = config.alternate_flip and config.flip and epoch % 2
        if not mirror and not config.active:
            return None

        def augment(x: torch.Tensor) -> torch.Tensor:
            if mirror:
                x = x.flip(-1)
            return self.augment(x) if config.active else x

        return augment

    # -- what a checkpoint keeps of the data: enough to prepare new images without the dataset ----
    @property
    def record(self) -> DataRecord:
        """What a network trained on this data expects of its input (kept in its checkpoints)."""
        size = tuple(self.train_set.images.shape[-2:])
        return DataRecord(tuple(self.classes), tuple(self.mean.tolist()), tuple(self.std.tolist()), size)

    def state_dict(self) -> dict:
        return {} if self.mean is None else self.record.as_dict()

    def load_state_dict(self, state: dict) -> None:
        if state and self.mean is None:
            record = DataRecord.from_dict(state)
            self._set_statistics(torch.tensor(record.mean), torch.tensor(record.std))
