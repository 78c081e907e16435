"""A headless matplotlib figure with the conventions every figure here follows."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (7, 4.5), **kw):
    fig, axes = plt.subplots(nrows, ncols, figsize=size, **kw)
    return fig, axes


def save(fig, path: Path, title: str) -> Path:
    """Give the figure its title, lay it out and write a readable PNG (120 dpi)."""
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
