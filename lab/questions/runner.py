"""Running a question: its command line, a fresh results folder, the typed result saved as
result.json, the answer printed, ``latest`` moved and the figures logged to W&B.

    python -m lab.questions <name> [--seeds 3] [--epochs N] [--accelerator gpu] [--config extra.yaml]
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from lab.blocks import to_markdown
from lab.engine import run_cache
from lab.engine.run_record import git_commit
from lab.questions import REGISTRY, Question, discover
from lab.questions.context import RunContext, build, parser_for
from lab.questions.context import parse as parse_options
from lab.questions.results import (
    RESULT_FILE,
    finished,
    latest,
    load,
    new_run_dir,
    point_latest,
    save,
)
from lab.utils import console
from lab.utils.errors import LabError


def parse(question: Question, argv: list[str]) -> tuple[RunContext, Any]:
    """The question's command line: the common switches, then its own options (None if it has none)."""
    kinds = (RunContext, question.options) if question.options else (RunContext,)
    parser = parser_for(
        f"python -m lab.questions {question.name}", f"{question.source}: {question.title}. {question.asks}", *kinds
    )
    ctx, *opts = parse_options(parser, argv, *kinds)
    return ctx, (opts[0] if opts else None)


def split_options(question: Question, given: dict[str, Any]) -> tuple[RunContext, Any]:
    """Keyword arguments -> (context, the question's options); a name that is neither is a TypeError."""
    common = {f.name for f in dataclasses.fields(RunContext)}
    own = {f.name for f in dataclasses.fields(question.options)} if question.options else set()
    unknown = set(given) - common - own
    if unknown:
        raise TypeError(f"question {question.name} takes no option {', '.join(sorted(unknown))}")
    ctx = RunContext.of(**{k: v for k, v in given.items() if k in common})
    return ctx, (build(question.options, given) if question.options else None)


def ask(name: str, **given: Any) -> Any:
    """``lab.questions.ask``: question ``name`` run with keyword arguments for its flags; its typed result."""
    discover()
    question = REGISTRY[name]
    ctx, opts = split_options(question, given)
    return load(question.result_type, execute(question, ctx, opts))


def execute(question: Question, ctx: RunContext, opts: Any = None) -> Path:
    """Run ``question`` into a new results folder; returns the folder once ``latest`` points at it. A
    question that fails or is interrupted (Ctrl-C, SIGTERM) removes its folder; a killed one leaves it
    marked INCOMPLETE (lab.questions.results): no half answer is ever read as one."""
    upstream = inputs(question, ctx.results)  # before the folder: a missing input leaves nothing behind
    out = new_run_dir(question.name, ctx.results, "-quick" if ctx.quick else "")
    try:
        start = time.perf_counter()
        run_cache.LEDGER.reset()
        own = {} if question.options is None else {"opts": opts if opts is not None else question.options()}
        result = question.run(ctx, out, **own, **upstream)
        save(result, out)
        record(out, ctx, time.perf_counter() - start)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    finished(out)
    if run_cache.LEDGER.trained or run_cache.LEDGER.reused:
        console.info(f"[lab] {question.name}: {cache_summary(run_cache.LEDGER)}")
    console.info(f"\n# {question.source}: {question.title}\n\n" + to_markdown(question.render(result, out)))
    point_latest(out)
    log_figures(question.name, out)
    console.info(f"[lab] {question.name}: results in {out}")
    return out


def record(out: Path, ctx: RunContext, seconds: float) -> None:
    """run.json: how the answer was made (switches, layered configs, time, commit), for the report."""
    info = {
        "quick": ctx.quick,
        "seeds": ctx.seeds,
        "epochs": ctx.epochs,
        "configs": [str(c) for c in ctx.configs],
        "workers": ctx.workers,
        "accelerator": ctx.accelerator,
        "seconds": round(seconds, 1),
        "argv": sys.argv,
        "git_commit": git_commit(),
    }
    ledger = run_cache.LEDGER
    info |= {
        "runs_trained": len(ledger.trained),
        "runs_reused": len(ledger.reused),
        "reused_from": sorted(set(ledger.reused)),
    }
    (out / "run.json").write_text(json.dumps(info, indent=1) + "\n")


def cache_summary(ledger: run_cache.Ledger) -> str:
    """One line: how many training runs the question trained and how many it reused from the run cache."""
    total = len(ledger.trained) + len(ledger.reused)
    if not ledger.reused:
        return f"{total} training run(s), all trained"
    return (
        f"{total} training run(s): {len(ledger.trained)} trained, {len(ledger.reused)} reused from earlier "
        "identical runs (RETRAIN=1 trains them again)"
    )


def log_figures(name: str, folder: Path) -> None:
    """The question's figures to W&B (group = question); a W&B failure never loses the results."""
    from lab.engine.loggers import log_figures as log

    try:
        local = log(name, folder)
    except Exception as exc:  # noqa: BLE001 - W&B problems must not fail a finished question
        console.warn(f"[lab] figures not logged to W&B ({type(exc).__name__}: {exc}); results are in {folder}")
        return
    if local:
        console.info(f"[lab] figures logged to W&B run {local}   (upload: make wandb-sync)")


def latest_result(name: str, root: Path) -> Any:
    """Question ``name``'s latest finished typed result under ``root``; None if it has none."""
    folder = latest(name, root)
    if folder is None or not (folder / RESULT_FILE).is_file():
        return None
    discover()  # the reader may run before the module of ``name`` was imported
    return load(REGISTRY[name].result_type, folder)


def missing_input(name: str, root: Path, reader: str) -> LabError:
    """The one line a reader stops with when a question it reads has no results yet."""
    return LabError(
        f"no {name} results under {root}/: run `make {name.replace('_', '-')}` first ({reader} reads them)."
    )


def read_results(root: Path, reads: tuple[str, ...] = (), may_read: tuple[str, ...] = (), reader: str = "") -> dict:
    """name -> latest typed result of each question read (None for a ``may_read`` one not run yet); a
    missing ``reads`` one stops with the command that makes it. Questions get theirs through ``inputs``;
    lab.questions.finetune_start, not a question, calls it itself."""
    found = {name: latest_result(name, root) for name in (*reads, *may_read)}
    for name in reads:
        if found[name] is None:
            raise missing_input(name, root, reader)
    return found


def inputs(question: Question, root: Path) -> dict:
    """The keyword arguments ``question.run`` takes besides (ctx, out[, opts]): the results it declares it reads."""
    return read_results(root, question.reads, question.may_read, question.name)


def main(question: Question, argv: list[str] | None = None) -> Path:
    """``python -m lab.questions <name>``: a LabError or ValueError becomes one line and exit status 2."""
    console.setup()
    ctx, opts = parse(question, sys.argv[1:] if argv is None else argv)
    with console.user_errors(ctx.debug):
        return execute(question, ctx, opts)
