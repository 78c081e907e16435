"""``make publish``: the latest complete report, with its figures as PNG files, into docs/report/ (for
the repository: at most 5 MiB in all; figures over 0.5 MiB palette-compressed), and README's questions
table refreshed from the same results.

    python -m lab.report.publish [--results DIR] [--to docs/report] [--section QUESTION]

Refuses a report with missing results, or results made with QUICK=1 or SMOKE=1: what is published is
what a full `make all` produced. The previous docs/report/ is replaced only once the new one is complete.
``--section transfer`` (``make publish SECTION=transfer``) replaces one question's section, its figures
and its README row after that question alone was rerun; the other sections, the numbering of tables and
figures and the appendix stay as published, and the report's header says which section came later.
"""

from __future__ import annotations

import argparse
import re
import shutil
from datetime import date
from pathlib import Path

from lab import console
from lab.errors import LabError
from lab.paths import REPO_ROOT
from lab.questions import Question, questions
from lab.questions.results import default_root
from lab.report.build import Numbering, build_section, section_markdown, write_report
from lab.report.documents import check_clean_tree, check_pages, write_documents
from lab.report.readme import check_complete, refresh, refresh_row, section_number

LIMIT = 5 * 1024 * 1024
LARGE_FIGURE = 512 * 1024  # bytes: photo-like figures above this are stored with a 256-colour palette


def compact_png(path: Path) -> None:
    """Store a large PNG with an adaptive 256-colour palette (photos shrink about 3x, same pixel size):
    the repository's copy only; results/ keeps the full-colour figure."""
    from PIL import Image

    if path.stat().st_size <= LARGE_FIGURE:
        return
    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    palette.save(path, optimize=True)


def publish(results: Path, target: Path) -> tuple[Path, int]:
    commits = check_complete(results)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    md, page, missing = write_report(results, staging, copy_figures=True)
    page.unlink()  # the self-contained HTML repeats every figure: the repository keeps the Markdown only
    check_pages(write_documents(results, staging, copy_figures=True)["pages"], staging)
    for figure in (staging / "figures").rglob("*.png"):  # a2/'s Lenna files ship as they were made
        compact_png(figure)
    made = f"Published by `make publish` from results made at commit(s) {', '.join(c[:12] for c in commits)}; built"
    md.write_text(md.read_text().replace("Built by `make report`", f"{made} by `make report`", 1))
    return swap(staging, target)


def find_question(name: str) -> Question:
    """The question named by its module name or Make target."""
    found = [q for q in questions() if name in (q.name, q.target)]
    if not found:
        names = ", ".join(q.target for q in questions())
        raise LabError(f"no question named {name!r}: SECTION takes one of {names}.")
    return found[0]


def counted(text: str) -> tuple[int, int]:
    """How many tables and figures a stretch of the report numbers."""
    return len(re.findall(r"^\*\*Table \d+\.", text, re.M)), len(re.findall(r"^!\[Figure \d+\]", text, re.M))


def section_span(text: str, i: int) -> tuple[int, int]:
    """Where section ``i`` starts and ends in a report's Markdown."""
    start = text.find(f'<a id="s{i}"></a>')
    if start < 0:
        raise LabError(f"the published report has no section {i}: run `make publish` to publish it whole.")
    ends = (f'<a id="s{i + 1}"></a>', '<div class="appendix">', "## Missing results")
    return start, min((at for at in (text.find(end, start) for end in ends) if at >= 0), default=len(text))


def figure_files(text: str) -> set[str]:
    """The figure files (relative to the report) a stretch of the report shows."""
    return set(re.findall(r"^!\[Figure \d+\]\(([^)]+)\)", text, re.M))


def section_body(text: str, span: tuple[int, int], i: int, q: Question, results: Path, staging: Path) -> str:
    """Section ``i`` rebuilt from the latest result, numbered where the old one was (figures copied in)."""
    start, end = span
    numbering = Numbering(staging, copy_figures=True)
    numbering.tables, numbering.figures = counted(text[:start])
    appendix: list = []
    body = "\n".join(section_markdown(i, build_section(q, results), numbering, appendix)) + "\n"
    if appendix:
        raise LabError(f"{q.name}'s section has appendix tables: run `make publish` to publish the whole report.")
    if counted(body) != counted(text[start:end]) and counted(text[end:]) != (0, 0):
        raise LabError(f"{q.name}'s section changed its number of tables or figures: run `make publish` whole.")
    return body


def stamp(text: str, i: int, q: Question, commits: list[str]) -> str:
    """The header line saying that section ``i`` was republished alone, and from what."""
    line = (f"Section {i} was republished alone on {date.today():%Y-%m-%d} by `make publish SECTION={q.target}` "
            f"from results made at commit(s) {', '.join(c[:12] for c in commits)}.")  # fmt: skip
    text = re.sub(rf"^Section {i} was republished alone .*\n\n", "", text, flags=re.M)
    first = text.index("\n\n", text.index("\n\n") + 2) + 2  # after the paragraph below the title
    return text[:first] + line + "\n\n" + text[first:]


def publish_section(results: Path, target: Path, q: Question) -> tuple[Path, int]:
    """Replace one question's section of the published report; nothing changes unless all of it succeeds."""
    i = section_number(q)
    commits = check_complete(results, [q])
    if not (target / "REPORT.md").is_file():
        raise LabError(f"no published report in {target}: run `make publish` first.")
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(target, staging)
    md = staging / "REPORT.md"
    text = md.read_text()
    start, end = section_span(text, i)
    body = section_body(text, (start, end), i, q, results, staging)
    for gone in figure_files(text[start:end]) - figure_files(body):  # only this section's own files
        (staging / gone).unlink(missing_ok=True)
    for shown in figure_files(body):
        compact_png(staging / shown)
    md.write_text(stamp(text[:start] + body + text[end:], i, q, commits))
    return swap(staging, target)


def swap(staging: Path, target: Path) -> tuple[Path, int]:
    """Put the staged report in place if it fits the size limit (else keep the published one)."""
    size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
    if size > LIMIT:
        shutil.rmtree(staging)
        raise LabError(f"not publishing: the report and its figures take {size / 2**20:.1f} MiB, more than 5 MiB.")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target / "REPORT.md", size


def main(argv: list[str] | None = None) -> None:
    console.setup()
    parser = argparse.ArgumentParser(prog="python -m lab.report.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=default_root())
    parser.add_argument("--to", type=Path, default=REPO_ROOT / "docs" / "report")
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    parser.add_argument("--section", default=None, help="republish only this question's section (e.g. transfer)")
    args = parser.parse_args(argv)
    with console.user_errors():
        check_clean_tree(REPO_ROOT)
        question = None if args.section is None else find_question(args.section)
        if question is None:
            md, size = publish(args.results, args.to)
        else:
            md, size = publish_section(args.results, args.to, question)
        link = str(md.relative_to(args.readme.parent) if md.is_relative_to(args.readme.parent) else md)
        readme = args.readme.read_text()
        if question is None:
            args.readme.write_text(refresh(readme, args.results, link))
        else:
            args.readme.write_text(refresh_row(readme, args.results, question, link))
    console.info(f"[publish] {md} ({size / 2**20:.1f} MiB with its figures); {args.readme} refreshed")


if __name__ == "__main__":
    main()
