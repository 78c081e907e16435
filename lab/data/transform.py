"""The one input transform: uint8 images -> the float tensors a network trains and predicts on.

The data module's batch path (``InMemoryImageDataModule.prepare_batch``), prediction on image files
(lab/data/images.py) and every trained network loaded from a file (``lab.inference.load.Trained.prepare``) call it,
so that a network always sees its input as it was trained to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from lab.models.pretrained import DataRecord


class InputTransform:
    """uint8 images (N, C, H, W) -> float in [0, 1] -> ``augment`` (training batches only) -> normalised per
    channel by the training images' mean and standard deviation, on the images' own device."""

    def __init__(self, mean: torch.Tensor | Sequence[float], std: torch.Tensor | Sequence[float]):
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        self._on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def of(cls, record: DataRecord) -> InputTransform:
        """The transform a trained network's data record asks for."""
        return cls(record.mean, record.std)

    def statistics(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, std) shaped (1, C, 1, 1) on ``device``, copied there once rather than once a batch."""
        if device not in self._on_device:
            self._on_device[device] = (self.mean.to(device), self.std.to(device))
        return self._on_device[device]

    def __call__(self, images: torch.Tensor, augment: Callable[[torch.Tensor], torch.Tensor] | None = None):
        x = images.float().div_(255)
        if augment is not None:
            x = augment(x)
        mean, std = self.statistics(x.device)
        return (x - mean) / std
