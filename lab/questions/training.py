"""How questions train: every run goes through ``lab.train.run`` with the question's configs and
changes, then the user's layers (``--config``, ``--accelerator``: tests and SMOKE=1 make runs tiny
this way), and comes back as a ``RunSummary`` that the question's result keeps.

Independent runs (seeds, the settings of a study) can train side by side: ``--workers 2`` runs two at a
time in their own processes, each with its share of the CPU threads. Small networks use two cores
poorly within one process, so this is 1.2-1.4x faster for them on a 2-core machine (benchmarks/results.md).
"""

from __future__ import annotations

import os
from argparse import Namespace
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from typing import Any

from lab.config import Layer
from lab.errors import NonFiniteLossError
from lab.models import count_parameters
from lab.questions.stats import Spread
from lab.train import RunResult, run


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


def user_layers(args: Namespace) -> list[Layer]:
    """What the user asked for every run of a question: --config files, then --accelerator."""
    return [*args.config, {"trainer": {"accelerator": args.accelerator}}]


def fit(
    args: Namespace,
    configs: Sequence[Layer],
    changes: Mapping[str, Any] | None = None,
    name: str | None = None,
    seed: int | None = None,
) -> RunResult:
    """Train ``configs`` + ``--epochs`` + ``changes`` (+ seed), then the user's layers on top."""
    layers: list[Layer] = list(configs)
    if args.epochs:
        layers.append({"trainer": {"max_epochs": args.epochs}})
    layers.append(dict(changes or {}))
    if seed is not None:
        layers.append({"seed_everything": seed})
    return run([*layers, *user_layers(args)], name=name)


@dataclass(frozen=True)
class Job:
    """One training run of a question, to be run here or in a worker process."""

    configs: tuple[Layer, ...]
    changes: Mapping[str, Any]
    name: str
    seed: int = 0


def attempt(args: Namespace, job: Job) -> RunSummary | NonFiniteLossError:
    """The job's summary, or the error of a run whose loss diverged (a result of a study, not its end)."""
    try:
        return RunSummary.of(fit(args, job.configs, job.changes, job.name, job.seed), job.seed)
    except NonFiniteLossError as exc:
        return exc


def _start_worker(threads: int) -> None:
    import torch

    from lab import console

    torch.set_num_threads(threads)
    console.setup()


def fit_many(args: Namespace, jobs: Sequence[Job]) -> list[RunSummary | NonFiniteLossError]:
    """Every job, in order; ``--workers`` of them at a time, each worker with cores / workers threads."""
    workers = min(args.workers, len(jobs))
    if workers <= 1:
        return [attempt(args, job) for job in jobs]
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = get_context("spawn")  # a fresh interpreter: no CUDA or thread state copied from this one
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(threads,)) as pool:
        return list(pool.map(partial(attempt, args), jobs))


Setting = tuple[Sequence[Layer], Mapping[str, Any], str]  # (configs, changes, run name)


def over_seeds(args: Namespace, settings: Mapping[Any, Setting]) -> dict[Any, list[RunSummary]]:
    """Every setting with seeds 0 .. --seeds - 1, all runs in one pool; key -> its runs in seed order."""
    jobs = [Job(tuple(c), dict(ch), n, seed) for c, ch, n in settings.values() for seed in range(args.seeds)]
    results = iter(raise_diverged(r) for r in fit_many(args, jobs))
    return {key: [next(results) for _ in range(args.seeds)] for key in settings}


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
