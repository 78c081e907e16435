"""Your own images, for prediction: files or folders of PNG, JPEG or WebP pictures of any size, RGB,
RGBA or grayscale, resized (antialiased) to the size the model was trained on and normalised with its
training statistics, both read from the checkpoint. A file that cannot be read is reported and skipped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from lab import console
from lab.data.base import TensorBatches, whole_batch
from lab.errors import DataNotFoundError

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def image_files(paths: Sequence[str | Path]) -> list[Path]:
    """The image files named or found (non-recursively) in the named folders, in a stable order."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            if not found:
                raise DataNotFoundError(
                    f"{path}: no PNG, JPEG or WebP image in this folder; give image files or a folder of them."
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise DataNotFoundError(f"{path}: no such file or folder; give image files or folders of them.")
    return files


def read_image(path: Path, size: tuple[int, int]) -> torch.Tensor:
    """uint8 (3, H, W) at ``size``; RGBA loses its alpha, grayscale becomes three equal channels."""
    from torchvision.io import ImageReadMode, decode_image, read_file

    image = decode_image(read_file(str(path)), mode=ImageReadMode.RGB)
    if tuple(image.shape[1:]) == size:
        return image
    resized = F.interpolate(image[None].float(), size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized[0].round().clamp(0, 255).to(torch.uint8)


class ImageFilesDataModule(L.LightningDataModule):
    """Prediction over image files. ``classes``, ``mean``, ``std`` and ``image_size`` are the trained
    model's (lab.predict reads them from its checkpoint)."""

    def __init__(self, paths: Sequence[str], classes: Sequence[str], mean: Sequence[float], std: Sequence[float],
                 image_size: Sequence[int] = (32, 32), batch_size: int = 256):  # fmt: skip
        super().__init__()
        self.classes, self.batch_size = tuple(classes), batch_size
        self.mean, self.std = torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1)
        self.size = tuple(image_size)
        self.files, self.skipped = image_files(paths), []
        self.images = self.paths = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def setup(self, stage: str | None = None) -> None:
        if self.images is not None:
            return
        images, paths = [], []
        for path in self.files:
            try:
                images.append(read_image(path, self.size))
                paths.append(path)
            except (RuntimeError, ValueError) as exc:
                self.skipped.append(path)
                console.warn(
                    f"[lab] skipped {path}: not a readable PNG, JPEG or WebP image ({str(exc).splitlines()[0]})"
                )
        if not images:
            raise DataNotFoundError(
                f"none of the {len(self.files)} file(s) could be read as an image; nothing to predict."
            )
        self.images, self.paths = torch.stack(images), paths

    def predict_dataloader(self) -> DataLoader:
        indices = torch.arange(len(self.images))
        return DataLoader(TensorBatches(self.images, indices), batch_size=self.batch_size, collate_fn=whole_batch)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        images, indices = batch
        x = images.float().div_(255)
        return (x - self.mean.to(x.device)) / self.std.to(x.device), indices
