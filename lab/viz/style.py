"""A headless matplotlib figure with the conventions every figure here follows."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from lab.report.blocks import Figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (7, 4.5), **kw):
    fig, axes = plt.subplots(nrows, ncols, figsize=size, **kw)
    return fig, axes


def save(fig, path: Path, title: str, caption: str = "", label: str = "") -> Figure:
    """Give the figure its title, lay it out and write a readable PNG (120 dpi). Returns the report's
    figure block: the file's name, the title and a caption (where the figure is drawn, it is described)."""
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Figure(Path(path.name), title, caption, label)
