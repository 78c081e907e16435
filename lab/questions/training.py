"""How questions train: every run goes through ``lab.train.run`` with the question's configs and
changes, then the user's layers (``--config``, ``--accelerator``: tests and SMOKE=1 make runs tiny
this way), and comes back as a ``RunSummary`` that the question's result keeps."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.config import Layer
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


def over_seeds(
    args: Namespace, configs: Sequence[Layer], changes: Mapping[str, Any] | None, name: str
) -> list[RunSummary]:
    """The same run with seeds 0 .. --seeds - 1."""
    return [RunSummary.of(fit(args, configs, changes, name, seed), seed) for seed in range(args.seeds)]


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
