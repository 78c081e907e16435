"""What a report section is made of. Sections return these; the writers number and render them."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class Figure:
    """A numbered figure: an image file written by a question."""

    path: Path
    title: str
    caption: str


@dataclass
class Missing:
    """A result that does not exist yet: said so, with the command that makes it, never invented."""

    what: str
    command: str


Block = Text | Table | Figure | Missing
