"""A headless matplotlib figure with the conventions every figure here follows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

from lab.blocks import Figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (7, 4.5), **kw):
    fig, axes = plt.subplots(nrows, ncols, figsize=size, **kw)
    return fig, axes


def print_metadata(fig) -> dict[str, str]:
    """The figure's width (inches) and its smallest text (points), kept in the PNG: the documents size each
    figure on the printed page so that no text prints below 6 pt (lab/report/documents.py)."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return {"lab-width-in": f"{fig.get_figwidth():.3f}", "lab-min-font-pt": f"{min(sizes, default=10.0):.2f}"}


def fitted(title: str, fig) -> str:
    """The title wrapped to the figure's width (about 11 characters per inch at the title's size): a long
    title would otherwise run off both edges of a narrow figure."""
    return textwrap.fill(title, width=max(20, int(fig.get_figwidth() * 11)))


def save(fig, path: Path, title: str, caption: str = "", label: str = "") -> Figure:
    """Give the figure its title, lay it out and write a readable PNG (120 dpi). Returns the report's
    figure block: the file's name, the title and a caption (where the figure is drawn, it is described)."""
    fig.suptitle(fitted(title, fig))
    for ax in fig.axes:  # epochs are whole: no 1.2, 1.4 ... ticks on a short run's axis
        if ax.get_xlabel().startswith("epoch"):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata=print_metadata(fig))
    plt.close(fig)
    return Figure(Path(path.name), title, caption, label)
