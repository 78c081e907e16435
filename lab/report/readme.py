"""``make readme``: refresh README.md's questions table (between ``<!-- questions -->`` and
``<!-- /questions -->``) from the registry and the results the shipped report was built from.

    python -m lab.report.readme [--results DIR] [--readme README.md] [--report docs/report/REPORT.md]

One row per registered question: its Make target, the text and number, the headline of its latest
result (or "not run yet") and a link to its section of the report.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from lab import console
from lab.paths import REPO_ROOT
from lab.questions import questions
from lab.questions.results import default_root, latest, load
from lab.report.blocks import markdown_table

START, END = "<!-- questions -->", "<!-- /questions -->"


def headline(question, results: Path) -> str:
    folder = latest(question.name, results)
    if folder is None or not (folder / "result.json").is_file():
        return "not run yet"
    try:
        return question.headline(load(question.result_type, folder))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return "incomplete result"


def questions_table(results: Path, report: str) -> str:
    rows = [
        [f"`make {q.target}`", q.source, q.title, headline(q, results), f"[§{i}]({report}#s{i})"]
        for i, q in enumerate(questions(), 1)
    ]
    return markdown_table(["command", "text", "question", "latest result", "report"], rows, "lllll")


def refresh(readme: str, results: Path, report: str = "docs/report/REPORT.md") -> str:
    pattern = re.compile(rf"({re.escape(START)}\n).*?({re.escape(END)})", re.S)
    if not pattern.search(readme):
        raise ValueError(f"README has no {START} ... {END} markers; add them where the questions table goes")
    return pattern.sub(lambda m: m.group(1) + questions_table(results, report) + m.group(2), readme)


def main(argv: list[str] | None = None) -> None:
    console.setup()
    parser = argparse.ArgumentParser(prog="python -m lab.report.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=default_root())
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    parser.add_argument("--report", default="docs/report/REPORT.md", help="link target of the report column")
    args = parser.parse_args(argv)
    args.readme.write_text(refresh(args.readme.read_text(), args.results, args.report))
    console.info(f"[readme] {args.readme}: questions table refreshed from {args.results}")


if __name__ == "__main__":
    main()
