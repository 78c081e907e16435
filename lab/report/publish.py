"""``make publish``: the latest complete report, with its figures as PNG files, into docs/report/ (for
the repository: at most 5 MiB in all; figures over 0.5 MiB palette-compressed), and README's questions
table refreshed from the same results.

    python -m lab.report.publish [--results DIR] [--to docs/report]

Refuses a report with missing results, or results made with QUICK=1 or SMOKE=1: what is published is
what a full `make all` produced. The previous docs/report/ is replaced only once the new one is complete.
After one question is rerun, publish regenerates every document from the results (the run cache makes the
other questions' answers cheap to rebuild): published Markdown is never edited in place.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from lab.questions.results import default_root
from lab.report.build import write_report
from lab.report.documents import check_clean_tree, check_pages, write_documents
from lab.report.readme import check_complete, refresh
from lab.utils import console
from lab.utils.errors import LabError
from lab.utils.paths import REPO_ROOT

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
    args = parser.parse_args(argv)
    with console.user_errors():
        check_clean_tree(REPO_ROOT)
        md, size = publish(args.results, args.to)
        link = str(md.relative_to(args.readme.parent) if md.is_relative_to(args.readme.parent) else md)
        args.readme.write_text(refresh(args.readme.read_text(), args.results, link))
    console.info(f"[publish] {md} ({size / 2**20:.1f} MiB with its figures); {args.readme} refreshed")


if __name__ == "__main__":
    main()
