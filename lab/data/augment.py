"""Augmentation of whole batches with tensor ops, on whatever device the batch is on.

Every op draws one random parameter per image and applies it to the whole batch at once: no
per-sample Python work, so the same code is fast on a CPU and a GPU. Images are float tensors
(B, C, H, W) in [0, 1]; colour ops run first (they assume that range), position ops after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    """Strength of each augmentation; 0 / False switches it off."""

    flip: bool = False  # horizontal flip with probability 0.5
    alternate_flip: bool = False  # instead: each image mirrored in every other epoch (a seeded half from the start)
    translate: int = 0  # random shift of up to this many pixels (reflect padding)
    rotate: float = 0.0  # random rotation in [-rotate, rotate] degrees
    brightness: float = 0.0  # multiply by a factor in [1 - b, 1 + b]
    contrast: float = 0.0  # blend with the image's mean grey, factor in [1 - c, 1 + c]
    saturation: float = 0.0  # blend with the greyscale image, factor in [1 - s, 1 + s]
    hue: float = 0.0  # rotate hue by up to this fraction of a full turn (<= 0.5)

    def __post_init__(self):
        for name in ("translate", "rotate", "brightness", "contrast", "saturation", "hue"):
            if getattr(self, name) < 0:
                raise ValueError(f"augment.{name} must be >= 0, got {getattr(self, name)}")
        if self.hue > 0.5:
            raise ValueError(f"augment.hue is a fraction of a turn and must be <= 0.5, got {self.hue}")

    @property
    def active(self) -> bool:
        return any((self.flip, self.translate, self.rotate, self.brightness, self.contrast, self.saturation, self.hue))

    @property
    def random_flip(self) -> bool:
        return self.flip and not self.alternate_flip


def _uniform(n: int, low: float, high: float, like: torch.Tensor, generator=None) -> torch.Tensor:
    """n factors in [low, high), shaped (n, 1, 1, 1) to broadcast over images."""
    u = torch.rand(n, device=like.device, dtype=like.dtype, generator=generator)
    return (low + (high - low) * u).view(n, 1, 1, 1)


def _grey(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma, (B, 1, H, W)."""
    weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def random_flip(x: torch.Tensor, p: float = 0.5, generator=None) -> torch.Tensor:
    """Mirror each image left-right with probability p."""
    mask = torch.rand(x.shape[0], device=x.device, generator=generator) < p
    return torch.where(mask.view(-1, 1, 1, 1), x.flip(-1), x)


def random_translate(x: torch.Tensor, max_shift: int, generator=None) -> torch.Tensor:
    """Shift each image by up to max_shift pixels in each direction (reflect padding): one gather on the
    flattened padded images (about 3x faster on a CPU than indexing rows and columns separately)."""
    if max_shift <= 0:
        return x
    b, c, h, w = x.shape
    if max_shift >= min(h, w):
        raise ValueError(f"translate={max_shift} px must be smaller than the image ({h} x {w} px)")
    padded = F.pad(x, (max_shift,) * 4, mode="reflect")
    dy = torch.randint(0, 2 * max_shift + 1, (b,), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), device=x.device, generator=generator)
    rows = dy.view(b, 1, 1) + torch.arange(h, device=x.device).view(1, h, 1)
    cols = dx.view(b, 1, 1) + torch.arange(w, device=x.device).view(1, 1, w)
    index = (rows * (w + 2 * max_shift) + cols).view(b, 1, h * w).expand(b, c, h * w)
    return torch.gather(padded.reshape(b, c, -1), 2, index).view(b, c, h, w)


def random_rotate(x: torch.Tensor, max_degrees: float, generator=None) -> torch.Tensor:
    """Rotate each image by an angle in [-max_degrees, max_degrees] (bilinear, border padding)."""
    if max_degrees <= 0:
        return x
    angle = _uniform(x.shape[0], -max_degrees, max_degrees, x, generator).view(-1) * (math.pi / 180)
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def adjust_brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (x * factor).clamp_(0, 1)


def adjust_contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    mean = _grey(x).mean(dim=(1, 2, 3), keepdim=True)
    return (mean + factor * (x - mean)).clamp_(0, 1)


def adjust_saturation(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    grey = _grey(x)
    return (grey + factor * (x - grey)).clamp_(0, 1)


_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def adjust_hue(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate the chroma plane of YIQ space by ``turns`` of a full circle, per image."""
    to_yiq = _RGB_TO_YIQ.to(x.device, x.dtype)
    to_rgb = torch.linalg.inv(to_yiq)
    angle = turns.view(-1) * (2 * math.pi)
    cos, sin = angle.cos(), angle.sin()
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    rot = torch.stack(
        [torch.stack([one, zero, zero], 1), torch.stack([zero, cos, -sin], 1), torch.stack([zero, sin, cos], 1)], 1
    )
    matrix = to_rgb @ rot @ to_yiq  # (B, 3, 3)
    out = torch.einsum("bij,bjhw->bihw", matrix, x)
    return out.clamp_(0, 1)


class BatchAugment:
    """Applies an ``AugmentConfig`` to a float batch in [0, 1]."""

    def __init__(self, config: AugmentConfig | None = None):
        self.config = config or AugmentConfig()

    def colour(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        c, n = self.config, x.shape[0]
        if c.brightness:
            x = adjust_brightness(x, _uniform(n, 1 - c.brightness, 1 + c.brightness, x, generator))
        if c.contrast:
            x = adjust_contrast(x, _uniform(n, 1 - c.contrast, 1 + c.contrast, x, generator))
        if c.saturation:
            x = adjust_saturation(x, _uniform(n, 1 - c.saturation, 1 + c.saturation, x, generator))
        if c.hue:
            x = adjust_hue(x, _uniform(n, -c.hue, c.hue, x, generator))
        return x

    def position(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        c = self.config
        if c.random_flip:
            x = random_flip(x, generator=generator)
        if c.rotate:
            x = random_rotate(x, c.rotate, generator)
        if c.translate:
            x = random_translate(x, c.translate, generator)
        return x

    def __call__(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        return self.position(self.colour(x, generator), generator)
