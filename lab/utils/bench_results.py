"""benchmarks/results.md is shared by every benchmark (and `make all`, which records its wall times):
each owns one marked section and rewrites only it."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime

import torch

from lab.utils.paths import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results.md"
HEADER = (
    "# Benchmark results\n\n"
    "Written by `make bench` (and `make bench-*`); each section is replaced when its bench runs again.\n"
)


def cpu_name() -> str:
    """The CPU's model name (timings differ several-fold between 2-core machines of one arch)."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0]}, {platform.machine()}" if names else platform.processor() or platform.machine()


def environment() -> str:
    cpu = cpu_name()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads ({cpu}), "
        f"{'GPU ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}"
    )


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of results.md with ``body``."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    block = f"<!-- bench:{name} -->\n{body.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
