"""``make report``: results/REPORT.md and a self-contained REPORT.html from every registered question's
latest results; ``make publish``: the same report with its figures as files in docs/report/.

    python -m lab.report [--results DIR] [--out DIR] [--copy-figures]

One section per question (lab.questions registry), in the order of the two texts; tables and figures
numbered in order (figures the A2 text numbers carry its label too); long study tables in an appendix;
a missing result is listed as missing with the command that makes it, never invented.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import platform
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lab.blocks import Block, Figure, Missing, Table, Text
from lab.engine.run_record import git_commit, versions
from lab.questions import BEYOND, TEXTS, Question, questions
from lab.questions.results import default_root, latest, load
from lab.utils import console

CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
body{color:#222}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}th,td{border:1px solid #bbb;padding:.2rem .45rem}
th{background:#eee}img{max-width:100%;border:1px solid #ddd}.missing{color:#a00}code{background:#f4f4f4;padding:0 .2rem}
@media print{@page{size:A4;margin:12mm}body{max-width:none;margin:0;font-size:9pt;line-height:1.3}
table{font-size:7.5pt}img{max-height:6.3cm;width:auto;max-width:100%}h2{break-before:auto}
.appendix{break-before:page}}"""


@dataclass
class Section:
    question: Question
    folder: Path | None
    blocks: list[Block] = field(default_factory=list)


def build_section(question: Question, root: Path) -> Section:
    """The question's blocks from its latest result, or one Missing block naming its command when there is
    no readable result; a render that fails (a renamed key, a bug) raises rather than hide as "Missing"."""
    folder = latest(question.name, root)
    if folder is None or not (folder / "result.json").is_file():
        return Section(question, None, [Missing(f"results/{question.name}/latest", question.command)])
    try:
        result = load(question.result_type, folder)
    except (TypeError, ValueError) as exc:  # unreadable, or written by an older version of the question
        what = f"a complete result of {question.name} ({type(exc).__name__}: {exc})"
        return Section(question, folder, [Missing(what, question.command)])
    return Section(question, folder, question.render(result, folder))  # an error here is a bug: it is raised


def environment() -> list[tuple[str, str]]:
    """Versions, hardware, date and commit: what a reader needs to reproduce the numbers."""
    import torch

    v = versions()
    return [
        ("date", datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("git commit", git_commit()),
        ("python", v["python"]),
        (
            "torch / lightning / torchmetrics / numpy",
            f"{v['torch']} / {v['lightning']} / {v['torchmetrics']} / {v['numpy']}",
        ),
        ("CPU", f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores"),
        ("GPU", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"),
    ]


class Numbering:
    """Tables and figures numbered in reading order; figure files placed where the report can show them."""

    def __init__(self, out_dir: Path, copy_figures: bool):
        self.out_dir, self.copy_figures = out_dir, copy_figures
        self.tables = self.figures = 0

    def table(self, block: Table) -> list[str]:
        self.tables += 1
        return [f"**Table {self.tables}. {block.title}.** {block.caption}", "", block.markdown.strip(), ""]

    def place(self, block: Figure, question: str) -> str:
        """Count the figure and return its path relative to the output folder (copied there if asked)."""
        self.figures += 1
        path = block.path
        if self.copy_figures:
            path = self.out_dir / "figures" / f"{question}_{block.path.name}"
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(block.path, path)
        return os.path.relpath(path, self.out_dir)

    def caption(self, block: Figure) -> str:
        label = f" ({block.label})" if block.label else ""
        return f"**Figure {self.figures}{label}. {block.title}.** {block.caption}"

    def figure(self, block: Figure, section: Section) -> list[str]:
        rel = self.place(block, section.question.name)
        return [f"![Figure {self.figures}]({rel})", "", self.caption(block), ""]


def answer_budget(folder: Path | None) -> str | None:
    """How an answer was made, from its run.json: smoke (SMOKE=1), quick (QUICK=1) or None (a full answer)."""
    info = json.loads((folder / "run.json").read_text()) if folder and (folder / "run.json").is_file() else {}
    if any("smoke.yaml" in c for c in info.get("configs", [])):
        return "smoke"
    return "quick" if info.get("quick") else None


def budget_note(folder: Path | None) -> list[str]:
    """A warning line when the answer was made with reduced budgets (QUICK=1) or tiny runs (SMOKE=1)."""
    notes = {
        "smoke": "**SMOKE run (SMOKE=1): tiny runs of a few batches; these numbers say nothing about the question.**",
        "quick": "**Quick run (QUICK=1): one seed and shortened budgets; the full answer comes from `make all`.**",
    }
    budget = answer_budget(folder)
    return [notes[budget], ""] if budget else []


def cache_note(folder: Path | None) -> str:
    """What the "made by" line adds when the run cache served some of the question's runs."""
    info = json.loads((folder / "run.json").read_text()) if folder and (folder / "run.json").is_file() else {}
    reused, trained = info.get("runs_reused", 0), info.get("runs_trained", 0)
    if not reused:
        return ""
    folders = ", ".join(
        f"`{Path(f).parent.parent.name}/{Path(f).parent.name}/{Path(f).name}`" for f in info.get("reused_from", [])[:3]
    )
    more = ", ..." if len(info.get("reused_from", [])) > 3 else ""
    return f"; {reused} of its {reused + trained} training runs reused from earlier identical runs ({folders}{more})"


def section_markdown(i: int, section: Section, numbering: Numbering, appendix: list) -> list[str]:
    """The section's Markdown; its appendix tables are collected in ``appendix`` (numbered after the body)."""
    q = section.question
    where = f"`{q.name}/{section.folder.name}`" if section.folder else "missing"  # a name: results/ is not shipped
    lines = [
        f'<a id="s{i}"></a>',
        f"## {i}. {q.title} ({q.source})",
        "",
        f"*Question.* {q.asks}",
        "",
        f"*Made by* `{q.command}` *from* {q.configs}; results: {where}{cache_note(section.folder)}",
        "",
        *budget_note(section.folder),
    ]
    for block in section.blocks:
        if isinstance(block, Text):
            lines += [block.body, ""]
        elif isinstance(block, Table) and block.appendix:
            lines += [f"*The full table ({block.title.lower()}) is in the appendix.*", ""]
            appendix.append((i, q, block))
        elif isinstance(block, Table):
            lines += numbering.table(block)
        elif isinstance(block, Figure):
            lines += numbering.figure(block, section)
        elif isinstance(block, Missing):
            lines += [f"**Missing:** {block.what} does not exist; run `{block.command}`.", ""]
    return lines


def to_markdown(sections: list[Section], out_dir: Path, copy_figures: bool = False, appendix: bool = True) -> str:
    texts = ", ".join(f"*{name}* ({short})" for name, short in TEXTS.items() if name != BEYOND)
    lines = [
        "# lab report: CNN image classification coursework",
        "",
        "Built by `make report` from the latest results of every question; a missing result is listed as "
        f"missing. The two texts: {texts}.",
        "",
        "| environment | |",
        "| :--- | :--- |",
        *(f"| {k} | {v} |" for k, v in environment()),
        "",
    ]
    numbering, tables = Numbering(out_dir, copy_figures), []
    for i, section in enumerate(sections, 1):
        lines += section_markdown(i, section, numbering, tables)
    if tables and appendix:
        lines += ['<div class="appendix"></div>', "", "## Appendix: full tables", ""]
        for i, q, block in tables:
            lines += [f"### Section {i}: {q.title}", "", *numbering.table(block)]
    missing = [(i, s.question, b) for i, s in enumerate(sections, 1) for b in s.blocks if isinstance(b, Missing)]
    lines += ["## Missing results", ""]
    lines += [f"- {i}. {q.title}: `{b.command}`" for i, q, b in missing] or ["None: every section has results."]
    return "\n".join(lines) + "\n"


def to_html(markdown_text: str, out_dir: Path) -> str:
    """Markdown -> one HTML page with every image inlined as a data URI."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])

    def inline(match: re.Match) -> str:
        src = re.search(r'src="([^"]+)"', match.group(0)).group(1)
        path = out_dir / html.unescape(src)
        if not path.exists():
            return f'<p class="missing">figure file missing: {html.escape(str(path))}</p>'
        data = base64.b64encode(path.read_bytes()).decode()
        return match.group(0).replace(f'src="{src}"', f'src="data:image/png;base64,{data}"')

    body = re.sub(r"<img [^>]*>", inline, body).replace("<p><strong>Missing:", '<p class="missing"><strong>Missing:')
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>lab report</title><style>{CSS}</style>"
        f"</head><body>{body}</body></html>\n"
    )


def export_deliverables(sections: list[Section], root: Path) -> Path:
    """results/pku/: the files the A2 text asks for, copied from the latest runs (bn_loss.txt, Lenna*.png, ...)."""
    target = root / "pku"
    target.mkdir(parents=True, exist_ok=True)
    for section in sections:
        for source, name in section.question.exports if section.folder else ():
            if (section.folder / source).is_file():
                shutil.copyfile(section.folder / source, target / name)
    return target


def write_report(results: Path, out_dir: Path | None = None, copy_figures: bool = False) -> tuple[Path, Path, int]:
    """Write REPORT.md and REPORT.html into ``out_dir`` (default: the results folder); returns their paths
    and the number of missing results."""
    out_dir = out_dir or results
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = [build_section(q, results) for q in questions()]
    text = to_markdown(sections, out_dir, copy_figures)
    md, page = out_dir / "REPORT.md", out_dir / "REPORT.html"
    md.write_text(text)
    page.write_text(to_html(text, out_dir))
    export_deliverables(sections, results)
    return md, page, sum(isinstance(b, Missing) for s in sections for b in s.blocks)


def main(argv: list[str] | None = None) -> None:
    console.setup()
    parser = argparse.ArgumentParser(prog="python -m lab.report", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=default_root(), help="results folder (default: results/)")
    parser.add_argument(
        "--out", type=Path, default=None, help="where to write the report (default: the results folder)"
    )
    parser.add_argument("--copy-figures", action="store_true", help="copy the figures next to the report (publishing)")
    args = parser.parse_args(argv)
    md, page, missing = write_report(args.results, args.out, args.copy_figures)
    from lab.report.documents import write_documents
    from lab.report.pages import browser

    documents = write_documents(args.results, args.out or args.results, args.copy_figures, measure=bool(browser()))
    console.info(
        f"[report] {', '.join(n for n in documents if n != 'pages')} in {md.parent}; CV1 prints on "
        f"{documents['pages']} A4 pages"
    )
    console.info(f"[report] {md}\n[report] {page} ({page.stat().st_size / 1e6:.1f} MB, figures embedded)")
    console.info(
        f"[report] {len(questions())} sections, {missing} missing result(s)" + (": see its end" if missing else "")
    )
