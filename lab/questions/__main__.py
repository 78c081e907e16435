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

from lab.questions import REGISTRY, finetune_start, questions, run_order
from lab.questions.context import RunContext, parse, parser_for
from lab.questions.results import latest
from lab.questions.runner import execute
from lab.questions.runner import main as run_one
from lab.utils import console
from lab.utils.bench_results import environment, write_section
from lab.utils.paths import REPO_ROOT


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
        if question.name == "finetune" and finetune_start.refresh(ctx):  # fine-tuning starts from the final ConvNet
            console.info(f"[all] {finetune_start.TARGET.relative_to(REPO_ROOT)}: now the final ConvNet of make final")
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


def training_answer(folder: Path | None, quick: bool) -> dict | None:
    """Of a question's answers made the same way as its latest, the one that trained the most runs (the latest
    among equals): a FORCE=1 rebuild or a rerun that reused its runs does not hide what training them cost."""
    latest_info = measured(folder, quick)
    if latest_info is None or latest_info.get("runs_trained", 0) == 0 and latest_info.get("runs_reused", 0) == 0:
        return latest_info
    answers = [(a, measured(a, quick)) for a in sorted(folder.resolve().parent.iterdir()) if a.name != "latest"]
    made = [(a, i) for a, i in answers if i is not None]
    return max(made, key=lambda ai: (ai[1].get("runs_trained", 0), ai[0].name))[1] if made else latest_info


def record_wall_times(ctx: RunContext) -> None:
    """benchmarks/results.md, once every question has an answer made the same way (full or QUICK=1; SMOKE and
    test runs are not measurements): the wall time of each question's answer that trained its runs, and,
    after a FORCE=1 rebuild (nothing trained), the rebuild's own times in a section of their own."""
    latest_infos = {q.target: measured(latest(q.name, ctx.results), ctx.quick) for q in questions()}
    if None in latest_infos.values():
        return
    training = {q.target: training_answer(latest(q.name, ctx.results), ctx.quick) for q in questions()}
    if sum(i.get("runs_trained", 0) for i in training.values()) > 0:
        write_wall_times(ctx, training, rebuilt=False)
    if sum(i.get("runs_trained", 0) for i in latest_infos.values()) == 0:
        write_wall_times(ctx, latest_infos, rebuilt=True)


def write_wall_times(ctx: RunContext, infos: dict[str, dict], rebuilt: bool) -> None:
    total = sum(i["seconds"] for i in infos.values())
    rows = "\n".join(
        f"| `make {t}` | {i['seconds']:.0f} | {i['seconds'] / 60:.1f} | {i['workers']} | "
        f"{i.get('runs_trained', '-')} | {i.get('runs_reused', '-')} |"
        for t, i in infos.items()
    )
    trained, reused = (sum(i.get(k, 0) for i in infos.values()) for k in ("runs_trained", "runs_reused"))
    quick = (" QUICK=1" if ctx.quick else "") + (" FORCE=1" if rebuilt else "")
    what = "every answer rebuilt from cached runs" if rebuilt else "wall time per question"
    rows_are = (
        "each question's latest answer"
        if rebuilt
        else "each question's answer that trained the most runs, so that a later rerun reusing them does not hide "
        "their cost; a run one question reuses from another is counted where it was trained"
    )
    body = (
        f"## `make all{quick}`: {what}\n\n`make all{quick}` (`python -m lab.questions all`; {rows_are}; its time "
        f"from its run.json), {ctx.seeds} seed(s) per compared setting — {environment()}.\n\n"
        "| question | wall time (s) | (min) | workers | runs trained | runs reused |\n"
        f"| --- | ---: | ---: | ---: | ---: | ---: |\n{rows}\n"
        f"| **all questions** | **{total:.0f}** | **{total / 60:.1f}** | | **{trained}** | **{reused}** |\n"
        "\nRuns reused: a training run whose identity (resolved config, seed, training code, data) had already "
        "finished, taken from the run cache (lab/engine/run_cache.py) instead of trained again.\n"
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
