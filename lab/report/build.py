"""``make report``: results/REPORT.md and a self-contained results/REPORT.html from the latest results.

    python -m lab.report [--results DIR]

Sections follow the questions of the two texts; tables and figures are numbered in order. The HTML
embeds every figure (base64), so the one file can be mailed or uploaded as it is.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import platform
from datetime import datetime
from pathlib import Path

from lab.report.blocks import Figure, Missing, Table, Text
from lab.report.results import Results
from lab.report.sections import SECTIONS, build
from lab.run_record import git_commit, versions

CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
body{color:#222}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #bbb;padding:.25rem .5rem}
th{background:#eee}img{max-width:100%;border:1px solid #ddd}
.missing{color:#a00}code{background:#f4f4f4;padding:0 .2rem}"""


def environment() -> list[tuple[str, str]]:
    """Versions, hardware, date and commit: what a reader needs to reproduce the numbers."""
    import torch

    v = versions()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return [
        ("date", datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("git commit", git_commit()),
        ("python", v["python"]),
        (
            "torch / lightning / torchmetrics / numpy",
            f"{v['torch']} / {v['lightning']} / {v['torchmetrics']} / {v['numpy']}",
        ),
        ("CPU", f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores"),
        ("GPU", gpu),
    ]


def collect(results: Results) -> list[tuple]:
    """(section, blocks) for every section, in the texts' order."""
    return [(section, build(section, results)) for section in SECTIONS]


def to_markdown(collected: list[tuple], results: Results, out_dir: Path) -> str:
    lines = [
        "# lab report: CNN image classification coursework",
        "",
        "Built by `make report` from `results/<question>/latest` only; a missing result is listed as missing.",
        "The two texts: *CV1 Lab Project Part 2: CNNs for Image Classification* (Part 2) and *Introduction "
        "to Computer Vision 2023, Assignment 2* (batch normalization, a CNN on CIFAR-10).",
        "",
        "| environment | |",
        "| :--- | :--- |",
        *(f"| {k} | {v} |" for k, v in environment()),
        "",
    ]
    missing, n_table, n_figure = [], 0, 0
    for i, (section, blocks) in enumerate(collected, 1):
        lines += [
            f"## {i}. {section.title} ({section.source}, {section.number})",
            "",
            f"*Question.* {section.question}",
            "",
            f"*Made by* `{section.command}` *from* {section.configs}; results: "
            + ", ".join(f"`{_folder(results.latest(q), out_dir)}`" for q in section.questions),
            "",
        ]
        for block in blocks:
            if isinstance(block, Text):
                lines += [block.body, ""]
            elif isinstance(block, Table):
                n_table += 1
                lines += [f"**Table {n_table}. {block.title}.** {block.caption}", "", block.markdown.strip(), ""]
            elif isinstance(block, Figure):
                n_figure += 1
                rel = os.path.relpath(block.path, out_dir)
                lines += [
                    f"![Figure {n_figure}]({rel})",
                    "",
                    f"**Figure {n_figure}. {block.title}.** {block.caption}",
                    "",
                ]
            elif isinstance(block, Missing):
                missing.append((section, block))
                lines += [f"**Missing:** {block.what} does not exist; run `{block.command}`.", ""]
    lines += ["## Missing results", ""]
    lines += [f"- {s.number} {s.title}: `{b.command}`" for s, b in missing] or ["None: every section has results."]
    return "\n".join(lines) + "\n"


def _folder(path: Path | None, out_dir: Path) -> str:
    return "missing" if path is None else os.path.relpath(path, out_dir)


def to_html(markdown_text: str, out_dir: Path) -> str:
    """Markdown -> one HTML page with every image inlined as a data URI."""
    import re

    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])

    def inline(match: re.Match) -> str:
        src = re.search(r'src="([^"]+)"', match.group(0)).group(1)
        path = out_dir / html.unescape(src)
        if not path.exists():
            return f'<p class="missing">figure file missing: {html.escape(str(path))}</p>'
        data = base64.b64encode(path.read_bytes()).decode()
        return match.group(0).replace(f'src="{src}"', f'src="data:image/png;base64,{data}"')

    body = re.sub(r"<img [^>]*>", inline, body)
    body = body.replace("<p><strong>Missing:", '<p class="missing"><strong>Missing:')
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>lab report</title><style>{CSS}</style>"
        f"</head><body>{body}</body></html>\n"
    )


def write_report(results_root: Path) -> tuple[Path, Path, int]:
    """Write REPORT.md and REPORT.html; return their paths and the number of missing results."""
    results = Results(results_root)
    collected = collect(results)
    results_root.mkdir(parents=True, exist_ok=True)
    text = to_markdown(collected, results, results_root)
    md, page = results_root / "REPORT.md", results_root / "REPORT.html"
    md.write_text(text)
    page.write_text(to_html(text, results_root))
    missing = sum(isinstance(block, Missing) for _, blocks in collected for block in blocks)
    return md, page, missing


def main(argv: list[str] | None = None) -> None:
    from lab.questions.common import RESULTS_ROOT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS_ROOT, help="results folder (default: results/)")
    args = parser.parse_args(argv)
    md, page, missing = write_report(args.results)
    print(f"[report] {md}\n[report] {page} ({page.stat().st_size / 1e6:.1f} MB, figures embedded)")
    print(
        f"[report] {len(SECTIONS)} sections, {missing} missing result(s)"
        + (": see the end of the report" if missing else "")
    )
