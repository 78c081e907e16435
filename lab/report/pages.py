"""``make report-pages``: how many A4 pages the CV1 report (CV1.md) takes when printed (the text
allows 10), measured by printing it to PDF with a headless Chromium.

    python -m lab.report.pages [--results DIR] [--limit 10]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lab.questions import CV1, questions
from lab.questions.results import default_root
from lab.report.build import build_section
from lab.utils import console
from lab.utils.errors import LabError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def count_pdf_pages(data: bytes) -> int:
    """Pages of a PDF: its /Type /Page objects (not the /Pages tree nodes)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", data))


def browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def print_to_pdf(html: Path, pdf: Path) -> None:
    found = browser()
    if found is None:
        raise LabError("no Chromium found to print the report; install it (Debian: apt-get install chromium).")
    subprocess.run(
        [
            found,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),  # a relative --results folder too
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def cv1_pages(results: Path) -> int:
    """A4 pages of the CV1 report (CV1.md as lab.report.documents prints it; its appendix is a separate file)."""
    from lab.report.documents import PAGE_LIMIT, cv1_document, html_page, measure_pages

    sections = [build_section(q, results) for q in questions() if q.text == CV1]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        return measure_pages(html_page(cv1_document(sections, out, True, PAGE_LIMIT).markdown, "CV1"), out)


def main(argv: list[str] | None = None) -> None:
    console.setup()
    parser = argparse.ArgumentParser(prog="python -m lab.report.pages", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=default_root())
    parser.add_argument("--limit", type=int, default=10, help="the text's page limit (default 10)")
    args = parser.parse_args(argv)
    with console.user_errors():
        pages = cv1_pages(args.results)
    console.info(f"[report] the CV1 part's main body prints on {pages} A4 page(s) (limit {args.limit})")
    if pages > args.limit:
        sys.exit(1)


if __name__ == "__main__":
    main()
