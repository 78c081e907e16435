"""``python -m lab.questions <name> [options]`` runs one question (``make <name>``, hyphens for
underscores); ``list`` prints the Make targets of the questions, ``targets`` their names on one line (the
Makefile's question targets); ``all`` runs every question in one process, each after the questions it
reads (done ones skipped unless --force).

    make lr-curves      # = python -m lab.questions lr_curves
    make all            # = python -m lab.questions all, then make report
    make all SMOKE=1    # every question with experiments/smoke.yaml layered on its runs (seconds each)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab import console
from lab.bench_results import environment, write_section
from lab.paths import REPO_ROOT
from lab.questions import REGISTRY, pretrain, questions, run_order
from lab.questions.context import RunContext, parse, parser_for
from lab.questions.results import latest
from lab.questions.runner import execute
from lab.questions.runner import main as run_one


def list_targets() -> None:
    for q in questions():
        print(f"  {q.target:<16} {q.source}: {q.title}")


@dataclass(frozen=True)
class AllOptions:
    """What ``all`` takes besides the common switches.

    Attributes:
        force: rerun questions that already have results
    """

    force: bool = False


def run_all(argv: list[str]) -> None:
    parser = parser_for(
        "python -m lab.questions all", "every question, each after the ones it reads", RunContext, AllOptions
    )
    ctx, opts = parse(parser, argv, RunContext, AllOptions)
    with console.user_errors(ctx.debug):
        run_every(ctx, opts.force)


def run_every(ctx: RunContext, force: bool) -> None:
    """Every question in `make all`'s order, each with its own default options; done ones skipped unless ``force``."""
    start = time.perf_counter()
    for question in run_order(questions()):
        if not force and latest(question.name, ctx.results) is not None:
            console.info(
                f"[all] {question.target}: done ({ctx.results}/{question.name}/latest), skipped; --force reruns it"
            )
            continue
        console.info(f"[all] {question.target}")
        if question.name == "finetune" and pretrain.refresh(ctx):  # fine-tuning starts from the final ConvNet
            console.info(f"[all] {pretrain.TARGET.relative_to(REPO_ROOT)}: now the final ConvNet of make final")
        q_start = time.perf_counter()
        execute(question, ctx)
        console.info(f"[all] {question.target}: {time.perf_counter() - q_start:.0f} s")
    console.info(f"[all] finished in {time.perf_counter() - start:.0f} s")
    record_wall_times(ctx)


def measured(folder: Path | None, quick: bool) -> dict | None:
    """A question's run.json if its latest answer was made plainly (full or QUICK=1, no layered configs)."""
    info = json.loads((folder / "run.json").read_text()) if folder and (folder / "run.json").is_file() else None
    plain = info is not None and not [c for c in info["configs"] if not c.endswith("quick.yaml")]
    return info if plain and info["quick"] == quick else None


def record_wall_times(ctx: RunContext) -> None:
    """benchmarks/results.md: the wall time of every question's latest answer (from its run.json), once
    every question has one made the same way (full or QUICK=1); SMOKE and test runs are not measurements."""
    infos = {q.target: measured(latest(q.name, ctx.results), ctx.quick) for q in questions()}
    if None in infos.values():
        return
    total = sum(i["seconds"] for i in infos.values())
    rows = "\n".join(
        f"| `make {t}` | {i['seconds']:.0f} | {i['seconds'] / 60:.1f} | {i['workers']} | "
        f"{i.get('runs_trained', '-')} | {i.get('runs_reused', '-')} |"
        for t, i in infos.items()
    )
    trained, reused = (sum(i.get(k, 0) for i in infos.values()) for k in ("runs_trained", "runs_reused"))
    rebuilt = trained == 0 and reused > 0  # FORCE=1 after a full make: every run came from the run cache
    quick = (" QUICK=1" if ctx.quick else "") + (" FORCE=1" if rebuilt else "")
    what = "every answer rebuilt from cached runs" if rebuilt else "wall time per question"
    header = (
        "| question | wall time (s) | (min) | workers | runs trained | runs reused |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    body = (
        f"## `make all{quick}`: {what}\n\n`make all{quick}` (`python -m lab.questions all`; each "
        f"question's time from its results' run.json), {ctx.seeds} seed(s) per compared setting — "
        f"{environment()}.\n\n{header}\n{rows}\n"
        f"| **all questions** | **{total:.0f}** | **{total / 60:.1f}** | | **{trained}** | **{reused}** |\n"
        "\nRuns reused: a training run whose identity (resolved config, seed, training code, data) had already "
        "finished, taken from the run cache (lab/run_cache.py) instead of trained again.\n"
    )
    write_section(("make_all_quick" if ctx.quick else "make_all") + ("_rebuilt" if rebuilt else ""), body)


def main(argv: list[str] | None = None) -> None:
    console.setup()
    argv = sys.argv[1:] if argv is None else argv
    names = {q.name for q in questions()}
    if argv[:1] == ["list"]:
        return list_targets()
    if argv[:1] == ["targets"]:
        return print(" ".join(q.target for q in questions()))
    if argv[:1] and argv[0].replace("-", "_") in names:
        run_one(REGISTRY[argv[0].replace("-", "_")], argv[1:])
        return None
    if argv[:1] != ["all"]:
        targets = ", ".join(q.target for q in questions())
        given = f"no question named {argv[0]!r}" if argv else "no question given"
        print(
            f"error: {given}: python -m lab.questions takes one of {targets}, or list, targets or all.", file=sys.stderr
        )
        sys.exit(2)
    run_all(argv[1:])


if __name__ == "__main__":
    main()
