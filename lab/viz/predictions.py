"""A grid of predicted images, each beside a bar chart of its top-3 classes."""

from __future__ import annotations

from pathlib import Path

from lab.blocks import Figure
from lab.viz.style import figure, save


def prediction_grid(data, rows: list, path: Path, title: str, limit: int = 24, cols: int = 4) -> Figure:
    """``rows``: (path, [(class, probability), ...]) in the order of ``data.paths``."""
    shown = rows[:limit]
    lines = max(1, (len(shown) + cols - 1) // cols)
    fig, axes = figure(lines, 2 * cols, size=(4.2 * cols, 2.2 * lines), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for n, (image_path, top) in enumerate(shown):
        picture, bars = axes[n // cols, 2 * (n % cols)], axes[n // cols, 2 * (n % cols) + 1]
        picture.imshow(data.images[data.paths.index(image_path)].permute(1, 2, 0).numpy())
        picture.set_title(Path(image_path).name[:24], fontsize=8)
        top3 = top[:3][::-1]
        bars.axis("on")
        bars.barh([c for c, _ in top3], [100 * p for _, p in top3], color="C0")
        bars.set_xlim(0, 100)
        bars.set_xlabel("probability (%)", fontsize=7)
        bars.tick_params(labelsize=7)
    more = f" (first {limit} of {len(rows)})" if len(rows) > limit else ""
    return save(fig, path, f"{title}{more}", "Each image as the model saw it, with its three most probable classes.")
