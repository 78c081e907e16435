"""The deliverables, one per text, built from the same results as REPORT.md (``make report``, ``make publish``):

- CV1.md + CV1.html: the CV1 report, §2.1-3.3 only, no build provenance, the figures that carry an answer,
  each sized so that no text prints below 6 pt; its printed A4 page count (headless Chromium) is stated in it.
- A2.md: A2's results (its Figures 1-4), the hand-written code as listings read from the source, the batch
  norm backward derivation, the gradient check and the cross-entropy's agreement with PyTorch (lab.report.a2).
- BEYOND.md: robustness, transfer and the benchmarks.
- APPENDIX.md: full tables and supporting figures of every document.
- REPRODUCE.md: commands, configs, results folders and the commits the results were made at (each named once).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lab.blocks import Block, Figure, Missing, Table, Text
from lab.questions import A2, BEYOND, CV1, questions
from lab.report.build import Numbering, Section, answer_budget, build_section, environment
from lab.utils.errors import LabError

PAGE_LIMIT = 10  # CV1: "The maximum number of pages is 10"
MIN_PRINTED_PT = 6.0  # the smallest text a printed figure may carry
TARGET_PT = 6.5  # what figures are sized for (a margin above MIN_PRINTED_PT)
TEXT_WIDTH_CM = 18.6  # A4 (21 cm) less two 12 mm margins
PLACEHOLDER = "@@PAGES@@"
OUTPUTS = ("docs/report/", "README.md", "benchmarks/results.md")  # what make all and make publish write

# figures that support an answer rather than carry it: the appendix shows them (file names in the results folder)
SUPPORTING = {
    "hparams": {"lr_finder.png", "best_curves.png", "acc_vs_epochs.png"},
    "deeper": {"curves.png"},
    "compare_nets": {"compare.png"},  # its panels repeat the finals' curves and the study's two sweeps
    "stl10_samples": {"samples_32px.png"},
    "finetune_bonus": {"confusion.png", "misclassified.png"},
}

CSS = """body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
body{color:#222}
table{border-collapse:collapse;margin:.4rem 0;font-size:.85rem}th,td{border:1px solid #bbb;padding:.15rem .4rem}
th{background:#eee}img{max-width:100%;height:auto;display:block;margin:.3rem auto}code{background:#f4f4f4}
pre{background:#f6f6f6;padding:.4rem;font-size:.8rem;overflow-x:auto}.missing{color:#a00}
@media print{@page{size:A4;margin:12mm}body{max-width:none;margin:0;font-size:9pt;line-height:1.3}
table{font-size:7.5pt;break-inside:avoid}img{break-inside:avoid}pre{font-size:7pt;white-space:pre-wrap}
h2{break-after:avoid;margin:.6rem 0 .3rem}p{margin:.3rem 0}}"""


@dataclass
class Printed:
    """How a figure prints: its width on the page and the size its smallest text prints at (None: unknown)."""

    number: int
    width_cm: float
    smallest_pt: float | None


@dataclass
class Document:
    """One deliverable's Markdown, the supporting material it sends to the appendix and how its figures print."""

    name: str
    markdown: str
    appendix: list[tuple[str, Block, str]] = field(default_factory=list)  # (where from, block, question)
    printed: list[Printed] = field(default_factory=list)


def figure_print_size(path: Path) -> tuple[float | None, float | None]:
    """(width in inches, smallest font in points) a figure was drawn with (lab.viz.style keeps them in the PNG)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            info = getattr(image, "text", {}) or {}
    except OSError:
        return None, None
    if "lab-width-in" not in info:
        return None, None
    return float(info["lab-width-in"]), float(info["lab-min-font-pt"])


def printed_width(width_in: float | None, font_pt: float | None) -> tuple[float, float | None]:
    """The printed width (cm) that makes the smallest text TARGET_PT (at most the text width), and the
    size that text then prints at."""
    if width_in is None or font_pt is None:
        return TEXT_WIDTH_CM, None
    drawn_cm = width_in * 2.54
    width = min(TEXT_WIDTH_CM, drawn_cm * TARGET_PT / font_pt)
    return width, font_pt * width / drawn_cm


class Numbered(Numbering):
    """The report's numbering, with figures as <img> tags sized for print (their print sizes kept)."""

    def __init__(self, out_dir: Path, copy_figures: bool):
        super().__init__(out_dir, copy_figures)
        self.printed: list[Printed] = []

    def figure(self, block: Figure, question: str) -> list[str]:
        rel = self.place(block, question)
        width, smallest = printed_width(*figure_print_size(block.path))
        self.printed.append(Printed(self.figures, width, smallest))
        image = f'<img src="{rel}" alt="Figure {self.number()}" style="width:{width:.1f}cm">'
        return [image, "", self.caption(block), ""]

    def number(self) -> str:
        return str(self.figures)


class TextNumbered(Numbered):
    """The A2 document's numbering: a figure the text asks for keeps the text's number ("A2 Figure 4" is
    Figure 4), every other figure is a supplementary S1, S2, ... so no number means two figures."""

    def __init__(self, out_dir: Path, copy_figures: bool):
        super().__init__(out_dir, copy_figures)
        self.supplementary = 0
        self.shown = ""

    def figure(self, block: Figure, question: str) -> list[str]:
        match = re.fullmatch(r"A2 Figure (\d+)", block.label or "")
        if match:
            self.shown = match.group(1)
        else:
            self.supplementary += 1
            self.shown = f"S{self.supplementary}"
        return super().figure(block, question)

    def number(self) -> str:
        return self.shown

    def caption(self, block: Figure) -> str:
        note = " (numbered as in the A2 text)" if block.label else ""
        return f"**Figure {self.shown}{note}. {block.title}.** {block.caption}"


def is_supporting(section: Section, block: Block) -> bool:
    if isinstance(block, Table):
        return block.appendix
    return isinstance(block, Figure) and block.path.name in SUPPORTING.get(section.question.name, set())


def quick_budget() -> str:
    """What QUICK=1 layers onto every run, read from experiments/quick.yaml (so the draft line cannot drift)."""
    from lab.engine.config import compose

    quick = compose(["quick"])
    data = quick.get("data", {}).get("init_args", {})
    parts = ["one seed", f"{quick['trainer']['max_epochs']} epochs"]
    if "train_subset" in data:
        parts.append(f"{data['train_subset']:,} training images")
    return ", ".join(parts)


def budget_line(folder: Path | None) -> list[str]:
    """A bold line under a section whose answer was made with reduced budgets (QUICK=1) or tiny runs (SMOKE=1):
    a reader of a draft document must not take its numbers for the full answer."""
    lines = {
        "smoke": "**Draft from SMOKE runs (a few batches each): these numbers say nothing about the question.**",
        "quick": f"**Draft with reduced budgets (QUICK=1: {quick_budget()}): these numbers are not the full answer.**",
    }
    budget = answer_budget(folder)
    return [lines[budget], ""] if budget else []


def section_body(i: int, section: Section, numbered: Numbered, appendix: list) -> list[str]:
    """A section without build provenance (that is REPRODUCE.md's); supporting blocks go to ``appendix``."""
    q = section.question
    lines = [f'<a id="{q.name}"></a>', f"## {i}. {q.title} ({q.number})", "", f"*Question.* {q.asks}", ""]
    lines += budget_line(section.folder)
    supporting = []
    for block in section.blocks:
        if is_supporting(section, block):
            appendix.append((f"{q.title} ({q.source})", block, q.name))
            supporting.append(block.title)
        elif isinstance(block, Text):
            lines += [block.body, ""]
        elif isinstance(block, Table):
            lines += numbered.table(block)
        elif isinstance(block, Figure):
            lines += numbered.figure(block, q.name)
        elif isinstance(block, Missing):
            lines += [f"**Missing:** {block.what} does not exist; run `{block.command}`.", ""]
    if supporting:
        lines += [f"*Also in APPENDIX.md: {'; '.join(supporting)}.*", ""]
    return lines


def document(
    name: str, title: str, intro: str, sections: list[Section], out_dir: Path, copy: bool, extra: list[str] = ()
) -> Document:
    numbered, appendix = (TextNumbered if name == "A2" else Numbered)(out_dir, copy), []
    lines = [f"# {title}", "", intro, ""]
    for i, section in enumerate(sections, 1):
        lines += section_body(i, section, numbered, appendix)
    lines += list(extra)
    return Document(name, "\n".join(lines) + "\n", appendix, numbered.printed)


def appendix_document(documents: list[Document], out_dir: Path, copy: bool) -> str:
    numbered = Numbered(out_dir, copy)
    lines = [
        "# Appendix: full tables and supporting figures",
        "",
        "Full tables and supporting figures the documents point to, numbered on their own.",
        "",
    ]
    for doc in documents:
        if doc.appendix:
            lines += [f"## {doc.name}", ""]
        for where, block, question in doc.appendix:
            lines += [f"*From {where}.*", ""]
            lines += numbered.table(block) if isinstance(block, Table) else numbered.figure(block, question)
    return "\n".join(lines) + "\n"


def results_commits(results: Path) -> dict[str, list[str]]:
    """commit -> the questions whose latest results were made at it."""
    from lab.questions.results import latest

    commits: dict[str, list[str]] = {}
    for q in questions():
        folder = latest(q.name, results)
        info = folder / "run.json" if folder else None
        if info is not None and info.is_file():
            commits.setdefault(json.loads(info.read_text()).get("git_commit", "unknown"), []).append(q.target)
    return commits


def reproduce_document(results: Path, sections: list[Section]) -> str:
    """Commands, configs, results folders and commits: everything the other documents leave out."""
    from lab.report.build import cache_note

    lines = [
        "# Reproduction and provenance",
        "",
        "Every number of CV1.md, A2.md and BEYOND.md comes from one set of results, made by `make all` "
        "(each question in the texts' order) and published by `make publish`, which refuses missing, "
        "QUICK=1 or SMOKE=1 results and a git tree with uncommitted changes.",
        "",
        "## Commits the results were made at",
        "",
    ]
    merged: dict[str, tuple[list[str], bool]] = {}  # a commit and its +dirty variant named once
    for commit, targets in results_commits(results).items():
        clean = commit.removesuffix("+dirty")
        found, dirty = merged.get(clean, ([], False))
        merged[clean] = (found + targets, dirty or commit.endswith("+dirty"))
    for commit, (targets, dirty) in merged.items():
        note = " (some with uncommitted changes on top)" if dirty else ""
        lines.append(f"- `{commit[:12]}`{note}: " + ", ".join(f"`make {t}`" for t in targets))
    lines += [
        "",
        "## Environment",
        "",
        "| | |",
        "| :--- | :--- |",
        *(f"| {k} | {v} |" for k, v in environment() if k != "git commit"),
        "",
        "## One row per question",
        "",
        "Results folders are written by the command under `results/` and are not part of the repository.",
        "",
        "| section | command | configs | results folder | runs |",
        "| --- | --- | --- | --- | --- |",
    ]
    for section in sections:
        q = section.question
        folder = f"`{q.name}/{section.folder.name}`" if section.folder else "missing"
        runs = cache_note(section.folder).removeprefix("; ").split(" (")[0] or "-"
        lines.append(f"| {q.source}: {q.title} | `{q.command}` | {q.configs or '-'} | {folder} | {runs} |")
    return "\n".join(lines) + "\n"


def html_page(markdown_text: str, title: str) -> str:
    """Markdown -> a printable HTML page whose images stay files next to it (relative paths)."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{CSS}</style>"
        f"</head><body>{body}</body></html>\n"
    )


def print_statement(pages: int | str, printed: list[Printed]) -> str:
    """What the CV1 report says about its printed size: pages, and how small its figures' text prints."""
    known = [p for p in printed if p.smallest_pt is not None]
    text = (
        f"Printed on A4 (headless Chromium, 12 mm margins), this report takes **{pages} "
        f"pages** (the text allows {PAGE_LIMIT}); full tables and supporting figures are in APPENDIX.md, "
        "commands and commits in REPRODUCE.md."
    )
    if known:
        small = min(known, key=lambda p: p.smallest_pt)
        text += f" Each figure is printed so that its smallest text is at least {small.smallest_pt:.1f} pt"
        low = [p for p in known if p.smallest_pt < MIN_PRINTED_PT]
        text += (
            f"; Figures {', '.join(str(p.number) for p in low)} fall below {MIN_PRINTED_PT:g} pt."
            if low
            else f" (Figure {small.number})."
        )
    return text


def cv1_document(sections: list[Section], out_dir: Path, copy: bool, pages: int | str) -> Document:
    intro = (
        "Answers to *CV1 Lab Project Part 2: CNNs for Image Classification*, §2.1-3.3, computed from one set of "
        "results. Uncertainties: ± is the standard deviation over seeds unless it says standard error (s.e.). "
        + PLACEHOLDER
    )
    doc = document("CV1", "CV1 Lab Project Part 2: CNNs for image classification", intro, sections, out_dir, copy)
    doc.markdown = doc.markdown.replace(PLACEHOLDER, print_statement(pages, doc.printed))
    return doc


def measure_pages(html: str, out_dir: Path) -> int:
    """A4 pages the HTML prints on (headless Chromium), printed from ``out_dir`` so its figures resolve."""
    from lab.report.pages import count_pdf_pages, print_to_pdf

    page, pdf = out_dir / ".pages.html", out_dir / ".pages.pdf"
    page.write_text(html)
    try:
        print_to_pdf(page, pdf)
        return count_pdf_pages(pdf.read_bytes())
    finally:
        page.unlink(missing_ok=True)
        pdf.unlink(missing_ok=True)


def cifar10_split(results: Path) -> str:
    """The CIFAR-10 split every task-2 run uses, from `make cifar10-classes` (nothing when it was not run)."""
    from lab.questions.cifar10_classes import ClassesResult
    from lab.questions.results import latest, load

    folder = latest("cifar10_classes", results)
    if folder is None:
        return ""
    sizes = load(ClassesResult, folder).split_sizes
    return (
        f" Task 2's data: CIFAR-10, {sizes['train']:,} training and {sizes['validation']:,} validation images (a "
        f"seeded split of the training files) and {sizes['test']:,} official test images."
    )


def a2_files(results: Path, out_dir: Path) -> list[str]:
    """Lenna_aug1.png and Lenna_aug2.png (the augmented images A2 asks to submit) next to A2.md, under a2/, with
    the original Lenna.png they were made from."""
    from lab.questions.augment import LENNA_FILES
    from lab.questions.results import latest

    folder = latest("augment", results)
    shipped = []
    for name in LENNA_FILES:
        if folder is not None and (folder / name).is_file():
            (out_dir / "a2").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / name, out_dir / "a2" / name)
            shipped.append(f"[{name}](a2/{name})")
    what = ", ".join(shipped) if shipped else "none yet (`make augment` writes them)"
    sentence = f"Lenna as given, with position and with colour augmentation, full size: {what}."
    return ["## Files A2 asks for", "", sentence, ""]


def benchmarks_part() -> list[str]:
    from lab.report.readme import BENCH_RESULTS, benchmark_summary

    summary = benchmark_summary(BENCH_RESULTS.read_text()) if BENCH_RESULTS.is_file() else "No benchmark has run.\n"
    return [
        "## Benchmarks",
        "",
        "Measured on the machine below by `make bench`, `make bench-cpu` and `make all` "
        "(benchmarks/results.md holds every table, with its command, date and spread):",
        "",
        summary.rstrip(),
        "",
    ]


def write_documents(results: Path, out_dir: Path, copy_figures: bool = False, measure: bool = True) -> dict[str, Path]:
    """Write CV1.md, CV1.html, A2.md, BEYOND.md, APPENDIX.md and REPRODUCE.md into ``out_dir``; returns
    name -> path, and the CV1 page count under "pages" (0 when not measured)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = [build_section(q, results) for q in questions()]
    by_text = {text: [s for s in sections if s.question.text == text] for text in (CV1, A2, BEYOND)}
    pages: int | str = "not measured"
    if measure:
        draft = cv1_document(by_text[CV1], out_dir, copy_figures, PAGE_LIMIT)
        pages = measure_pages(html_page(draft.markdown, "CV1"), out_dir)
    cv1 = cv1_document(by_text[CV1], out_dir, copy_figures, pages)
    from lab.report.a2 import code_part

    a2 = document(
        "A2",
        "Introduction to Computer Vision 2023, Assignment 2: batch norm and a CNN",
        "Results of tasks 1 and 2 (the text's Figures 1-4), then the code it asks for. Uncertainties: ± is "
        "the standard deviation over seeds unless it says standard error (s.e.)." + cifar10_split(results),
        by_text[A2],
        out_dir,
        copy_figures,
        [*a2_files(results, out_dir), *code_part()],
    )
    beyond = document(
        "BEYOND",
        "Beyond the texts: robustness, transfer, benchmarks",
        "What a user asks after the two courseworks, measured with the same code.",
        by_text[BEYOND],
        out_dir,
        copy_figures,
        benchmarks_part(),
    )
    written = {
        "CV1.md": cv1.markdown,
        "CV1.html": html_page(cv1.markdown, "CV1"),
        "A2.md": a2.markdown,
        "BEYOND.md": beyond.markdown,
        "APPENDIX.md": appendix_document([cv1, a2, beyond], out_dir, copy_figures),
        "REPRODUCE.md": reproduce_document(results, sections),
    }
    for name, text in written.items():
        (out_dir / name).write_text(text)
    paths = {name: out_dir / name for name in written}
    paths["pages"] = pages
    return paths


def check_pages(pages: int | str, staging: Path) -> None:
    """Refuse a CV1 report that prints on more pages than the text allows (the staged copy is removed)."""
    if isinstance(pages, int) and pages > PAGE_LIMIT:
        shutil.rmtree(staging, ignore_errors=True)
        raise LabError(
            f"not publishing: CV1.md prints on {pages} A4 pages, more than the text's {PAGE_LIMIT}; "
            "move a figure or table to the appendix (SUPPORTING in lab/report/documents.py)."
        )


def check_clean_tree(repo: Path) -> None:
    """Refuse to publish from a git tree with uncommitted changes to tracked files: the documents name the
    commits their results were made at, and the code beside them must be that code."""
    from lab.engine.run_record import changed_files

    changed = [path for path in changed_files(repo) or [] if not path.startswith(OUTPUTS)]
    if changed:
        raise LabError(
            f"not publishing: the git tree has uncommitted changes ({', '.join(changed[:3])}"
            f"{', ...' if len(changed) > 3 else ''}); commit or stash them, then run `make publish`."
        )
