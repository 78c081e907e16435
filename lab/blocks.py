"""What a question's answer is made of. ``render`` functions return these; the runner prints them,
the report numbers them (Table 3, Figure 7) and README quotes the headline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass
class Text:
    """A paragraph (Markdown)."""

    body: str


@dataclass
class Table:
    """A numbered table: ``markdown`` is the table itself (header, rule, rows)."""

    title: str
    markdown: str
    caption: str
    appendix: bool = False  # long study tables go to the report's appendix


@dataclass
class Figure:
    """A numbered figure: an image file written by a question. ``label`` names it as a text does
    (e.g. "A2 Figure 2") beside the report's own number."""

    path: Path
    title: str
    caption: str
    label: str = ""


@dataclass
class Missing:
    """A result that does not exist yet: said so, with the command that makes it, never invented."""

    what: str
    command: str


Block = Text | Table | Figure | Missing


def placed(figures: Sequence[Figure], folder: Path) -> list[Figure]:
    """A result's figures (kept as file names) as blocks whose files are in ``folder``."""
    return [replace(f, path=folder / f.path.name) for f in figures]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table; ``align`` holds one letter per column, l or r (default: first l, rest r)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *([str(c) for c in row] for row in rows)]
    return "\n".join("| " + " | ".join(map(str, line)) + " |" for line in lines) + "\n"


def to_markdown(blocks: Sequence[Block]) -> str:
    """Blocks as plain Markdown, unnumbered (what a question prints when it finishes)."""
    parts = []
    for block in blocks:
        if isinstance(block, Text):
            parts.append(block.body)
        elif isinstance(block, Table):
            parts.append(f"**{block.title}.** {block.caption}\n\n{block.markdown.strip()}")
        elif isinstance(block, Figure):
            parts.append(f"Figure: {block.path.name} ({block.title})")
        elif isinstance(block, Missing):
            parts.append(f"Missing: {block.what}; run `{block.command}`.")
    return "\n\n".join(parts) + "\n"
