"""How questions train: every run goes through ``lab.engine.train.run`` with the question's configs and
changes, then the user's layers (``--config``, ``--accelerator``: tests and SMOKE=1 make runs tiny
this way), and comes back as a ``RunSummary`` that the question's result keeps.

Independent runs (seeds, the settings of a study) can train side by side: ``--workers 2`` runs two at a
time in their own processes, each with its share of the CPU threads. Small networks use two cores
poorly within one process, so this is 1.2-1.4x faster for them on a 2-core machine (benchmarks/results.md).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from lab.engine import run_cache
from lab.engine.config import Layer
from lab.engine.train import RunResult, reload, run
from lab.models import count_parameters
from lab.questions.context import RunContext
from lab.questions.results import from_json, to_json
from lab.questions.stats import Spread
from lab.utils.errors import NonFiniteLossError


@dataclass
class RunSummary:
    """One training run, as a question keeps it."""

    seed: int
    val_acc: float  # best validation accuracy over the epochs (the checkpoint that is tested)
    test_acc: float  # test accuracy of that checkpoint
    epochs: int
    seconds: float  # wall time of the fit, validation included
    run_dir: str
    parameters: int = 0
    train_images: int = 0
    val_images: int = 0
    test_images: int = 0
    history: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def of(cls, result: RunResult, seed: int) -> RunSummary:
        return cls(
            seed=seed,
            val_acc=result.best_val_acc,
            test_acc=result.test.get("test/acc", float("nan")),
            epochs=len(result.history),
            seconds=result.fit_seconds,
            run_dir=str(result.run_dir),
            parameters=count_parameters(result.module.net, trainable_only=False),
            train_images=len(result.datamodule.train_set),
            val_images=len(result.datamodule.val_set),
            test_images=len(result.datamodule.test_set),
            history=result.history,
        )

    @property
    def last(self) -> dict[str, float]:
        return self.history[-1] if self.history else {}


def user_layers(ctx: RunContext) -> list[Layer]:
    """What the user asked for every run of a question: --config files, then --accelerator."""
    return [*ctx.configs, {"trainer": {"accelerator": ctx.accelerator}}]


def run_layers(
    ctx: RunContext, configs: Sequence[Layer], changes: Mapping[str, Any] | None = None, seed: int | None = None
) -> list[Layer]:
    """``configs`` + ``--epochs`` + ``changes`` (+ seed), then the user's layers on top."""
    layers: list[Layer] = list(configs)
    if ctx.epochs:
        layers.append({"trainer": {"max_epochs": ctx.epochs}})
    layers.append(dict(changes or {}))
    if seed is not None:
        layers.append({"seed_everything": seed})
    return [*layers, *user_layers(ctx)]


def fit(
    ctx: RunContext,
    configs: Sequence[Layer],
    changes: Mapping[str, Any] | None = None,
    name: str | None = None,
    seed: int | None = None,
) -> RunResult:
    """Train ``configs`` + ``--epochs`` + ``changes`` (+ seed) + the user's layers, or, when a run of the same
    identity already finished (lab/engine/run_cache.py), rebuild that run from its folder instead of training."""
    layers = run_layers(ctx, configs, changes, seed)
    identity = run_cache.identify(layers)
    entry = None if identity is None or ctx.retrain else run_cache.lookup(identity)
    if entry is not None:
        run_cache.LEDGER.reused.append(entry["run_dir"])
        return cached_result(entry, ctx.accelerator)
    result = run(layers, name=name)
    run_cache.LEDGER.trained.append(str(result.run_dir))
    if identity is not None and result.run_dir is not None:
        run_cache.store(identity, result.run_dir, result_payload(result, seed or 0))
    return result


def result_payload(result: RunResult, seed: int) -> dict[str, Any]:
    """What a cache entry keeps of a finished run: its summary and what ``cached_result`` restores."""
    return {
        "summary": to_json(RunSummary.of(result, seed)),
        "test": result.test,
        "confusion": None if result.confusion is None else result.confusion.tolist(),
        "time_to_accuracy": result.time_to_accuracy,
        "best_checkpoint": result.best_checkpoint,
    }


def cached_result(entry: Mapping[str, Any], accelerator: str) -> RunResult:
    """A cached run rebuilt from its best checkpoint, with the numbers it produced when it trained."""
    import torch

    summary = from_json(RunSummary, entry["summary"])
    result = reload(entry["run_dir"], accelerator, entry.get("best_checkpoint"))
    result.history, result.test, result.fit_seconds = summary.history, dict(entry["test"]), summary.seconds
    if entry.get("confusion") is not None:
        result.confusion = torch.tensor(entry["confusion"])
    result.timing = entry.get("time_to_accuracy")
    return result


@dataclass(frozen=True)
class Job:
    """One training run of a question, to be run here or in a worker process."""

    configs: tuple[Layer, ...]
    changes: Mapping[str, Any]
    name: str
    seed: int = 0


@dataclass(frozen=True)
class PlannedJob:
    """A job with its layers and its identity (None: cannot be cached), worked out once in the parent."""

    job: Job
    layers: tuple[Layer, ...]
    identity: run_cache.RunIdentity | None

    @classmethod
    def of(cls, ctx: RunContext, job: Job) -> PlannedJob:
        layers = run_layers(ctx, job.configs, job.changes, job.seed)
        return cls(job, tuple(layers), run_cache.identify(layers))

    def reused(self) -> RunSummary | NonFiniteLossError | None:
        """The outcome of the finished run of the same identity, if there is one."""
        entry = None if self.identity is None else run_cache.lookup(self.identity)
        if entry is None:
            return None
        run_cache.LEDGER.reused.append(entry["run_dir"])
        return NonFiniteLossError(entry["diverged"]) if "diverged" in entry else from_json(RunSummary, entry["summary"])


def attempt(planned: PlannedJob) -> RunSummary | NonFiniteLossError:
    """Train the job; its summary, or the error of a run whose loss diverged (a result of a study, not its
    end). Either outcome is stored in the run cache."""
    try:
        result = run(list(planned.layers), name=planned.job.name)
    except NonFiniteLossError as exc:
        if planned.identity is not None and exc.run_dir is not None:
            run_cache.store(planned.identity, exc.run_dir, {"diverged": str(exc)})
        return exc
    summary = RunSummary.of(result, planned.job.seed)
    if planned.identity is not None and result.run_dir is not None:
        run_cache.store(planned.identity, result.run_dir, result_payload(result, planned.job.seed))
    return summary


def _die_with(parent: int) -> None:
    """End this worker when ``parent`` ends, even by SIGKILL: Linux's parent-death signal, elsewhere a
    thread that watches the parent id (an orphan would go on training, even start the next run)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    else:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent ended before the signal was set up
        os._exit(1)


def _start_worker(threads: int, parent: int) -> None:
    """A worker ignores Ctrl-C, which reaches the whole process group (the parent decides and stops it),
    and dies with its parent. It was born with SIGINT and SIGTERM held (_held), so that neither cut its
    start-up short with a traceback."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # drops a Ctrl-C held since birth
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    import torch

    from lab.utils import console

    torch.set_num_threads(threads)
    console.setup()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stopped(BaseException):
    """SIGINT or SIGTERM reached the parent while its workers trained."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _signals_stop():
    """SIGINT and SIGTERM raise _Stopped here (in the main thread) instead of ending the process at once,
    so that the workers can be stopped first; the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise _Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _held():
    """SIGINT and SIGTERM wait (not lost) while workers start: the workers inherit the held mask."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stopped(pool: ProcessPoolExecutor, futures: list[Future], signum: int) -> SystemExit:
    """Stop every worker now (they hold no answer, only their own run folders), say where the runs stood
    and how to go on; exit status 128 + the signal (130 for Ctrl-C, 143 for SIGTERM), as a shell reports it."""
    for s in STOP_SIGNALS:  # a second Ctrl-C must not cut this short
        signal.signal(s, signal.SIG_IGN)
    finished = sum(f.done() and not f.cancelled() and f.exception() is None for f in futures)
    for future in futures:
        future.cancel()  # the runs not started yet
    for worker in multiprocessing.active_children():
        worker.kill()
        worker.join()
    # joins the pool's thread, which sees its workers gone (not wait=False: a pool thread still running at
    # exit can write to a pipe it has just closed, a traceback at exit)
    pool.shutdown(wait=True)
    print(
        f"stopped by {signal.Signals(signum).name}: {finished} of {len(futures)} training runs had finished and "
        "every worker is stopped; no answer was written. Run the same command again: it reuses the finished runs.",
        file=sys.stderr,
    )
    return SystemExit(128 + signum)


def fit_many(ctx: RunContext, jobs: Sequence[Job]) -> list[RunSummary | NonFiniteLossError]:
    """Every job's outcome, in order. A job whose identity already finished is reused (unless --retrain), and
    jobs of one identity train once; the rest train ``--workers`` at a time."""
    planned = [PlannedJob.of(ctx, job) for job in jobs]
    keys = [p.identity.key if p.identity else f"uncached-{i}" for i, p in enumerate(planned)]
    outcomes: dict[str, RunSummary | NonFiniteLossError] = {}
    to_train: dict[str, PlannedJob] = {}
    for key, plan in zip(keys, planned):
        if key in outcomes or key in to_train:
            continue
        reused = None if ctx.retrain else plan.reused()
        if reused is not None:
            outcomes[key] = reused
        else:
            to_train[key] = plan
    outcomes.update(zip(to_train, train_all(ctx, list(to_train.values()))))
    run_cache.LEDGER.trained.extend(str(p.job.name) for p in to_train.values())
    return [outcomes[key] for key in keys]


def train_all(ctx: RunContext, planned: Sequence[PlannedJob]) -> list[RunSummary | NonFiniteLossError]:
    """Train every planned job; ``--workers`` at a time, each worker with cores / workers threads."""
    workers = min(ctx.workers, len(planned))
    if workers <= 1:
        return [attempt(plan) for plan in planned]
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = get_context("spawn")  # a fresh interpreter: no CUDA or thread state copied from this one
    futures: list[Future] = []
    start = {"initializer": _start_worker, "initargs": (threads, os.getpid())}
    with _signals_stop(), ProcessPoolExecutor(workers, mp_context=context, **start) as pool:
        try:
            with _held():  # every worker starts here, at its job's submit
                futures = [pool.submit(attempt, plan) for plan in planned]
            return [future.result() for future in futures]
        except _Stopped as stop:
            raise _stopped(pool, futures, stop.signum) from None


Setting = tuple[Sequence[Layer], Mapping[str, Any], str]  # (configs, changes, run name)


def over_seeds(ctx: RunContext, settings: Mapping[Any, Setting]) -> dict[Any, list[RunSummary]]:
    """Every setting with seeds 0 .. --seeds - 1, all runs in one pool; key -> its runs in seed order."""
    jobs = [Job(tuple(c), dict(ch), n, seed) for c, ch, n in settings.values() for seed in range(ctx.seeds)]
    results = iter(raise_diverged(r) for r in fit_many(ctx, jobs))
    return {key: [next(results) for _ in range(ctx.seeds)] for key in settings}


def raise_diverged(result: RunSummary | NonFiniteLossError) -> RunSummary:
    if isinstance(result, NonFiniteLossError):
        raise result
    return result


@dataclass
class Variant:
    """One compared setting: its runs over seeds and their spread."""

    label: str
    runs: list[RunSummary]
    network: str = ""
    change: dict[str, Any] = field(default_factory=dict)

    @property
    def test(self) -> Spread:
        return Spread.of([r.test_acc for r in self.runs])

    @property
    def val(self) -> Spread:
        return Spread.of([r.val_acc for r in self.runs])
