"""``python -m lab.questions <name> [options]`` runs one question (``make <name>``, hyphens for
underscores); ``list`` prints the Make targets of the questions; ``all`` runs every question in order in
one process (done ones skipped unless --force).

    make lr-curves      # = python -m lab.questions lr_curves
    make all            # = python -m lab.questions all, then make report
    make all SMOKE=1    # every question with experiments/smoke.yaml layered on its runs (seconds each)
"""

from __future__ import annotations

import argparse
import sys
import time

from lab import console
from lab.bench_results import environment, write_section
from lab.questions import REGISTRY, questions
from lab.questions.results import latest
from lab.questions.runner import common_arguments, execute, resolve
from lab.questions.runner import main as run_one


def list_targets() -> None:
    for q in questions():
        print(f"  {q.target:<16} {q.source}: {q.title}")


def run_all(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.questions all", description="every question in order")
    common_arguments(parser)
    parser.add_argument("--force", action="store_true", help="rerun questions that already have results")
    args = resolve(parser, parser.parse_args(argv))
    start, seconds = time.perf_counter(), {}
    for question in questions():
        if not args.force and latest(question.name, args.results) is not None:
            console.info(
                f"[all] {question.target}: done ({args.results}/{question.name}/latest), skipped; --force reruns it"
            )
            continue
        console.info(f"[all] {question.target}")
        q_start = time.perf_counter()
        own = argparse.ArgumentParser(add_help=False)
        if question.add_arguments:
            question.add_arguments(own)
        execute(question, argparse.Namespace(**{**vars(own.parse_args([])), **vars(args)}))
        seconds[question.target] = time.perf_counter() - q_start
        console.info(f"[all] {question.target}: {seconds[question.target]:.0f} s")
    total = time.perf_counter() - start
    console.info(f"[all] finished in {total:.0f} s")
    if seconds and len(seconds) == len(questions()):
        record_wall_times(args, seconds, total)


def record_wall_times(args: argparse.Namespace, seconds: dict[str, float], total: float) -> None:
    """benchmarks/results.md: the wall time of each question of a complete `make all` (QUICK separately)."""
    extra = [str(c) for c in args.config if "quick.yaml" not in str(c)]
    if extra:  # tests and SMOKE=1 layer their own configs: not a measurement of the real thing
        return
    mode = "QUICK=1" if args.quick else "full"
    rows = "\n".join(f"| `make {target}` | {s:.0f} | {s / 60:.1f} |" for target, s in seconds.items())
    body = (f"## `make all` ({mode}): wall time per question\n\n`python -m lab.questions all --force"
            f"{' --quick' if args.quick else ''}` (what `make all FORCE=1{' QUICK=1' if args.quick else ''}` runs "
            f"before the report), {args.workers} worker(s), {args.seeds} seed(s) per compared setting — "
            f"{environment()}.\n\n"
            f"| question | wall time (s) | (min) |\n| --- | ---: | ---: |\n{rows}\n"
            f"| **all questions** | **{total:.0f}** | **{total / 60:.1f}** |\n")  # fmt: skip
    write_section("make_all_quick" if args.quick else "make_all", body)


def main(argv: list[str] | None = None) -> None:
    console.setup()
    argv = sys.argv[1:] if argv is None else argv
    names = {q.name for q in questions()}
    if argv[:1] == ["list"]:
        return list_targets()
    if argv[:1] and argv[0].replace("-", "_") in names:
        run_one(REGISTRY[argv[0].replace("-", "_")], argv[1:])
        return None
    if argv[:1] != ["all"]:
        sys.exit(
            f"usage: python -m lab.questions <question> [options] | list | all [--force] ...\n"
            f"questions: {', '.join(sorted(names))}"
        )
    with console.user_errors("--debug" in argv):
        run_all(argv[1:])


if __name__ == "__main__":
    main()
