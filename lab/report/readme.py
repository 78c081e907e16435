"""``make readme``: refresh README.md's generated blocks: the questions table (between ``<!-- questions -->``
and ``<!-- /questions -->``) from the registry and the results the shipped report was built from, and the
benchmark summary (``<!-- benchmarks -->``) from benchmarks/results.md, so README states no number of its own.

    python -m lab.report.readme [--results DIR] [--readme README.md] [--report docs/report/REPORT.md]

One row per registered question: its Make target, the text and number, the headline of its latest
result and a link to its section of the report. Like ``make publish`` (the same ``check_complete``),
it refuses results that are missing or were made with QUICK=1 or SMOKE=1, and leaves README as it is:
the tracked README quotes only what a full ``make all`` produced.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from lab.blocks import markdown_table
from lab.questions import Question, questions
from lab.questions.results import default_root, latest, load
from lab.utils import console
from lab.utils.errors import LabError
from lab.utils.paths import REPO_ROOT

START, END = "<!-- questions -->", "<!-- /questions -->"
BENCH_RESULTS = REPO_ROOT / "benchmarks" / "results.md"


def check_complete(results: Path, chosen: list[Question] | None = None, refusing: str = "not publishing") -> list[str]:
    """The commits the results were made at; a LabError naming what is missing or reduced. The one guard
    of everything that writes results into the repository (make publish, make readme)."""
    problems, commits = [], set()
    for q in questions() if chosen is None else chosen:
        folder = latest(q.name, results)
        info_file = folder / "run.json" if folder else None
        if info_file is None or not info_file.is_file():
            problems.append(f"{q.name} has no complete result (`{q.command}`)")
            continue
        info = json.loads(info_file.read_text())
        if info.get("quick") or any("smoke.yaml" in c for c in info.get("configs", [])):
            problems.append(f"{q.name} was made with QUICK=1 or SMOKE=1 (`{q.command}` without them)")
        commits.add(info.get("git_commit", "unknown"))
    if problems:
        raise LabError(f"{refusing}: " + "; ".join(problems) + ". Run `make all` (FORCE=1 reruns all).")
    return sorted(commits)


def headline(question, results: Path) -> str:
    folder = latest(question.name, results)
    if folder is None or not (folder / "result.json").is_file():
        return "not run yet"
    try:
        return question.headline(load(question.result_type, folder))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return "incomplete result"


HEADER = ["command", "text", "question", "latest result", "report"]


def section_number(question) -> int:
    """The question's section in the report (1-based, registry order)."""
    return next(i for i, q in enumerate(questions(), 1) if q is question)


def row(i: int, q, results: Path, report: str) -> list[str]:
    return [f"`make {q.target}`", q.source, q.title, headline(q, results), f"[§{i}]({report}#s{i})"]


def questions_table(results: Path, report: str) -> str:
    rows = [row(i, q, results, report) for i, q in enumerate(questions(), 1)]
    return markdown_table(HEADER, rows, "lllll")


def benchmark_summary(text: str) -> str:
    """One line per benchmark of results.md: its title and its bold conclusion (the time-to-accuracy and
    make-all tables in short)."""
    lines = []
    for name, body in re.findall(r"<!-- bench:(\S+) -->\n(.*?)<!-- /bench:\1 -->", text, re.S):
        rows = body.splitlines()
        title = next((r[3:] for r in rows if r.startswith("## ")), name)
        found = [r for r in rows if r.startswith("**")]
        for total in (r for r in rows if "**all questions**" in r):  # make all's table: its total row
            cells = [c.strip(" *") for c in total.strip("|").split("|")]
            runs = f", {cells[4]} runs trained, {cells[5]} reused" if len(cells) >= 6 and cells[4] else ""
            found.append(f"**all questions: {cells[1]} s ({cells[2]} min){runs}**")
        if name.startswith("time_to_accuracy"):
            cells = [
                [c.strip() for c in r.strip("|").split("|")] for r in rows if r.startswith("| ") and "---" not in r
            ]
            found += [
                f"{c[0]}: test {c[5]}% in {c[3]} s of training ({c[1]}; met: {c[9]})" for c in cells[1:] if len(c) >= 10
            ]
        if found:
            lines.append(f"- {title}: " + "; ".join(f.strip("| ") for f in found))
    return "\n".join(lines) + "\n" if lines else "No benchmark has run yet (`make bench`).\n"


def replace_block(readme: str, start: str, end: str, body: str) -> str:
    pattern = re.compile(rf"({re.escape(start)}\n).*?({re.escape(end)})", re.S)
    if not pattern.search(readme):
        raise ValueError(f"README has no {start} ... {end} markers; add them where the block goes")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), readme)


def refresh_benchmarks(readme: str, bench: Path = BENCH_RESULTS) -> str:
    if "<!-- benchmarks -->" in readme and bench.is_file():
        readme = replace_block(
            readme, "<!-- benchmarks -->", "<!-- /benchmarks -->", benchmark_summary(bench.read_text())
        )
    return readme


def refresh(readme: str, results: Path, report: str = "docs/report/REPORT.md", bench: Path = BENCH_RESULTS) -> str:
    return refresh_benchmarks(replace_block(readme, START, END, questions_table(results, report)), bench)


def main(argv: list[str] | None = None) -> None:
    console.setup()
    parser = argparse.ArgumentParser(prog="python -m lab.report.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=default_root())
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    parser.add_argument("--report", default="docs/report/REPORT.md", help="link target of the report column")
    args = parser.parse_args(argv)
    with console.user_errors():
        check_complete(args.results, refusing="README not refreshed")
        args.readme.write_text(refresh(args.readme.read_text(), args.results, args.report))
    console.info(f"[readme] {args.readme}: questions table refreshed from {args.results}")


if __name__ == "__main__":
    main()
