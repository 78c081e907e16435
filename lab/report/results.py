"""Read the latest finished results of each question (results/<question>/latest -> its run folder)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Results:
    """The results tree: ``latest(q)`` is the run folder `latest` points at, or None if there is none."""

    root: Path

    def latest(self, question: str) -> Path | None:
        link = self.root / question / "latest"
        return link.resolve() if link.exists() else None

    def load(self, question: str, name: str):
        """A JSON file of the latest run (raises FileNotFoundError when the run or file is missing)."""
        folder = self.latest(question)
        if folder is None:
            raise FileNotFoundError(self.root / question / "latest")
        return json.loads((folder / name).read_text())

    def text(self, question: str, name: str) -> str:
        folder = self.latest(question)
        if folder is None:
            raise FileNotFoundError(self.root / question / "latest")
        return (folder / name).read_text()


def split_markdown(text: str) -> tuple[list[str], list[str]]:
    """A question's .md file -> (its tables, its paragraphs), dropping headings."""
    tables, paragraphs = [], []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in chunk.strip().splitlines() if not ln.startswith("#")]
        if not lines:
            continue
        block = "\n".join(lines)
        (tables if lines[0].startswith("|") else paragraphs).append(block)
    return tables, paragraphs


def table_rows(markdown: str) -> list[list[str]]:
    """The body cells of a Markdown table (header and rule dropped), stripped of ** marks."""
    rows = [ln for ln in markdown.strip().splitlines() if ln.startswith("|")][2:]
    return [[c.strip().replace("**", "") for c in ln.strip().strip("|").split("|")] for ln in rows]
