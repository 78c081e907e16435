"""Common corruptions of images, after Hendrycks & Dietterich (ICLR 2019, "Benchmarking Neural Network
Robustness to Common Corruptions and Perturbations"; their CIFAR-10-C parameters), made from any uint8
batch (N, 3, H, W) in a few batched tensor ops, deterministically (a seeded generator per corruption and
severity). Severity runs from 1 (mild) to 5 (strong); each function returns a new uint8 batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

SEVERITIES = (1, 2, 3, 4, 5)


def _float(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 255


def _uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def gaussian_noise(x, severity, generator):
    c = (0.04, 0.06, 0.08, 0.09, 0.10)[severity - 1]
    f = _float(x)
    return _uint8(f + c * torch.randn(f.shape, generator=generator))


def shot_noise(x, severity, generator):
    c = (500, 250, 100, 75, 50)[severity - 1]
    return _uint8(torch.poisson(_float(x) * c, generator=generator) / c)


def impulse_noise(x, severity, generator):
    """Salt and pepper: a fraction c of the values set to 0 or 1."""
    c = (0.01, 0.02, 0.03, 0.05, 0.07)[severity - 1]
    f = _float(x)
    hit = torch.rand(f.shape, generator=generator) < c
    salt = torch.rand(f.shape, generator=generator) < 0.5
    return _uint8(torch.where(hit, salt.float(), f))


def _blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    k = kernel / kernel.sum()
    pad = k.shape[-1] // 2
    padded = F.pad(_float(x), (pad,) * 4, mode="reflect")
    return _uint8(F.conv2d(padded, k.expand(3, 1, *k.shape).contiguous(), groups=3))


def defocus_blur(x, severity, generator):
    """A disk kernel of the given radius, softened by a small Gaussian (alias blur)."""
    radius, sigma = ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1.0, 0.2), (1.5, 0.1))[severity - 1]
    size = 2 * max(1, math.ceil(radius)) + 1
    r = torch.arange(size, dtype=torch.float32) - size // 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    disk = ((xx**2 + yy**2) <= radius**2 + 0.5).float()
    soft = torch.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    return _blur(x, F.conv2d(disk[None, None], (soft / soft.sum())[None, None], padding=size // 2)[0, 0])


def zoom_blur(x, severity, generator):
    """The mean of the image zoomed in by several factors around its centre."""
    zooms = (
        torch.arange(1, 1.06, 0.01),
        torch.arange(1, 1.11, 0.01),
        torch.arange(1, 1.16, 0.02),
        torch.arange(1, 1.21, 0.02),
        torch.arange(1, 1.26, 0.03),
    )[severity - 1]
    f = _float(x)
    h, w = f.shape[-2:]
    out = f.clone()
    for z in zooms[1:].tolist():
        zh, zw = math.ceil(h * z), math.ceil(w * z)
        big = F.interpolate(f, size=(zh, zw), mode="bilinear", align_corners=False)
        top, left = (zh - h) // 2, (zw - w) // 2
        out += big[..., top : top + h, left : left + w]
    return _uint8(out / len(zooms))


def brightness(x, severity, generator):
    c = (0.05, 0.1, 0.15, 0.2, 0.3)[severity - 1]
    return _uint8(_float(x) + c)


def contrast(x, severity, generator):
    c = (0.75, 0.5, 0.4, 0.3, 0.15)[severity - 1]
    f = _float(x)
    mean = f.mean(dim=(1, 2, 3), keepdim=True)
    return _uint8((f - mean) * c + mean)


def pixelate(x, severity, generator):
    c = (0.95, 0.9, 0.85, 0.75, 0.65)[severity - 1]
    h, w = x.shape[-2:]
    small = F.interpolate(_float(x), size=(int(h * c), int(w * c)), mode="area")
    return _uint8(F.interpolate(small, size=(h, w), mode="nearest"))


def jpeg_compression(x, severity, generator):
    from torchvision.io import decode_jpeg, encode_jpeg

    quality = (80, 65, 58, 50, 40)[severity - 1]
    return torch.stack(decode_jpeg(encode_jpeg(list(x), quality=quality)))


CORRUPTIONS: dict[str, Callable] = {
    "gaussian noise": gaussian_noise,
    "shot noise": shot_noise,
    "impulse noise": impulse_noise,
    "defocus blur": defocus_blur,
    "zoom blur": zoom_blur,
    "brightness": brightness,
    "contrast": contrast,
    "pixelate": pixelate,
    "jpeg compression": jpeg_compression,
}


def corrupt(images: torch.Tensor, name: str, severity: int, seed: int = 0) -> torch.Tensor:
    """``images`` (uint8, N x 3 x H x W) with corruption ``name`` at ``severity`` 1-5, the same every call."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be 1..5, got {severity}")
    generator = torch.Generator().manual_seed(seed * 1000 + list(CORRUPTIONS).index(name) * 10 + severity)
    return CORRUPTIONS[name](images, severity, generator)
