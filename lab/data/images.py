"""Your own images, for prediction: files or folders of pictures of any size in any mode Pillow reads
(PNG, JPEG, WebP, TIFF, BMP, GIF), brought to 8-bit RGB, resized (antialiased) to the size the model was
trained on and normalised with its training statistics, both read from the checkpoint. A file that
cannot be read, or whose pixels have no known brightness scale, is skipped with one line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch.utils.data import DataLoader

from lab import console
from lab.data.base import TensorBatches, whole_batch
from lab.errors import DataNotFoundError

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")
KINDS = "PNG, JPEG, WebP, TIFF, BMP or GIF"


def image_files(paths: Sequence[str | Path]) -> list[Path]:
    """The image files named or found (non-recursively) in the named folders, in a stable order."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            if not found:
                raise DataNotFoundError(
                    f"{path}: no {KINDS} image in this folder; give image files or a folder of them."
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise DataNotFoundError(f"{path}: no such file or folder; give image files or folders of them.")
    return files


class UnreadableImage(ValueError):
    """A file that is not an image, or whose pixels have no known brightness scale: skipped, with why."""


def _scaled_gray(image: Image.Image) -> np.ndarray:
    """uint8 (H, W, 3) of a 16/32-bit integer or float image: integers are 16-bit (0..65535; Pillow reads
    16-bit PNG and TIFF so), floats run from 0 to 1; values beyond either have no scale to trust."""
    values = np.asarray(image, dtype=np.float64)
    top = 1.0 if image.mode == "F" else 65535.0
    low, high = float(values.min()), float(values.max())
    if not (0 <= low and high <= top):
        kind = "float pixels outside 0..1" if image.mode == "F" else "integer pixels outside 0..65535"
        raise UnreadableImage(f"{kind} (min {low:g}, max {high:g}); save it as an 8- or 16-bit image")
    gray = np.rint(values * (255 / top)).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def to_rgb(image: Image.Image) -> np.ndarray:
    """uint8 (H, W, 3) of any Pillow mode: 16-bit, 32-bit and float gray scaled to 0..255 (not clipped);
    transparency composited over white, as a viewer shows it; 1, L, P and CMYK converted by Pillow."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        return _scaled_gray(image)
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def read_image(path: Path, size: tuple[int, int]) -> torch.Tensor:
    """uint8 (3, H, W) at ``size``, the way ``to_rgb`` brings every mode to 8-bit RGB, upright as the
    EXIF orientation says. Raises UnreadableImage naming why."""
    try:
        with Image.open(path) as opened:
            rgb = to_rgb(ImageOps.exif_transpose(opened))
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # Pillow's ways to refuse a file
        raise UnreadableImage(f"not a readable {KINDS} image ({str(exc).splitlines()[0]})") from exc
    image = torch.from_numpy(rgb.copy()).permute(2, 0, 1)
    if tuple(image.shape[1:]) == size:
        return image
    resized = F.interpolate(image[None].float(), size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized[0].round().clamp(0, 255).to(torch.uint8)


class ImageFilesDataModule(L.LightningDataModule):
    """Prediction over image files. ``classes``, ``mean``, ``std`` and ``image_size`` are the trained
    model's (lab.predict reads them from its checkpoint)."""

    def __init__(
        self,
        paths: Sequence[str],
        classes: Sequence[str],
        mean: Sequence[float],
        std: Sequence[float],
        image_size: Sequence[int] = (32, 32),
        batch_size: int = 256,
    ):
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
            except UnreadableImage as exc:
                self.skipped.append(path)
                console.warn(f"[lab] skipped {path}: {exc}")
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
