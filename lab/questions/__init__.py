"""The coursework questions, one module each, found by a registry.

A question module defines a result dataclass, ``run(ctx, out, **inputs) -> result`` (trains or computes,
writes its figures into ``out``), ``render(result, folder) -> blocks`` (what the report says about it),
``headline(result) -> str`` (README's one line) and, if it has options of its own, a frozen dataclass of them
(``options=Options``: its fields are its flags, ``run`` gets an instance as ``opts``; lab/questions/context.py);
at its end it registers them (the registry holds the callables, as timm's ``register_model`` does)::

    QUESTION = register(Question(__name__, "TwoLayerNet vs ConvNet", CV1, "§2.4d", order=50,
                                 result_type=CompareResult, asks="Compare the two networks.",
                                 reads=("hparams",), may_read=("deeper", "final"),
                                 run=run, render=render, headline=headline))

``reads`` and ``may_read`` name the questions whose results it takes: the runner hands ``run`` each one's
latest typed result as a keyword argument (``run(ctx, out, hparams=..., deeper=None, final=...)``; a
``may_read`` one not run yet is None, a missing ``reads`` one stops with the command that makes it), and
``make all`` runs every question after those it reads. ``make <name>`` (underscores as hyphens) runs it,
the report and README list it: adding a question is writing its module and its test.
"""

from __future__ import annotations

import heapq
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any

CV1 = "CV1 Lab Project Part 2: CNNs for Image Classification"
A2 = "Introduction to Computer Vision 2023, Assignment 2"
BEYOND = "Beyond the texts"
TEXTS = {CV1: "CV1 part 2", A2: "A2", BEYOND: "Beyond the texts:"}


@dataclass(frozen=True)
class Question:
    module: str  # the module that answers it (its __name__); its last part names the question
    title: str  # "CIFAR-10 classes"
    text: str  # which coursework text asks it (CV1 or A2)
    number: str  # its number in that text: "§2.1", "task 1"
    order: float  # position in the report (and in `make all`, where its inputs allow)
    result_type: type  # the dataclass ``run`` returns and result.json holds
    asks: str  # the question, in one or two sentences
    configs: str = ""  # the experiments it trains, for the report's "made by" line
    reads: tuple[str, ...] = ()  # questions whose results it needs: ``run`` gets each one's latest result
    may_read: tuple[str, ...] = ()  # questions whose results it uses when they exist (None when not run)
    exports: tuple[tuple[str, str], ...] = ()  # (file in its results folder, name in results/pku/): A2's deliverables
    _: KW_ONLY
    run: Callable[..., Any] | None = None  # (ctx, out[, opts], **inputs) -> result
    render: Callable[[Any, Path], list] | None = None  # (result, folder) -> report blocks
    headline: Callable[[Any], str] | None = None  # result -> README's one line
    options: type | None = None  # its own options, a frozen dataclass (its flags; ``run`` gets it as ``opts``)

    def __post_init__(self) -> None:
        missing = [f for f in ("run", "render", "headline") if not callable(getattr(self, f))]
        if missing:
            raise TypeError(f"question {self.name} registers without {', '.join(missing)}: pass them to Question")

    @property
    def name(self) -> str:
        return self.module.rsplit(".", 1)[-1]

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every question it reads, needed or not: the ones `make all` runs before it."""
        return (*self.reads, *self.may_read)

    @property
    def target(self) -> str:
        return self.name.replace("_", "-")

    @property
    def command(self) -> str:
        return f"make {self.target}"

    @property
    def source(self) -> str:
        return f"{TEXTS.get(self.text, self.text)} {self.number}"


REGISTRY: dict[str, Question] = {}


def register(question: Question) -> Question:
    REGISTRY[question.name] = question
    return question


def discover() -> None:
    """Import every module of this package, so that each registers its question."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def questions() -> list[Question]:
    """Every registered question, in the order of the two texts (the report's); their inputs checked."""
    discover()
    found = sorted(REGISTRY.values(), key=lambda q: q.order)
    run_order(found)
    return found


def run_order(found: list[Question]) -> list[Question]:
    """``found`` with every question after the ones it reads, otherwise in their order (`make all`'s). A
    question reading one that is not registered, or a cycle of reads, is a programming error: it raises."""
    names = {q.name for q in found}
    for q in found:
        unknown = [n for n in q.inputs if n not in names]
        if unknown:
            raise ValueError(f"question {q.name} reads {', '.join(unknown)}: no question of that name is registered")
    waiting = {q.name: set(q.inputs) for q in found}
    ready = [(q.order, i, q) for i, q in enumerate(found) if not waiting[q.name]]
    heapq.heapify(ready)
    ordered: list[Question] = []
    while ready:
        _, _, done = heapq.heappop(ready)
        ordered.append(done)
        for i, q in enumerate(found):
            if done.name in waiting[q.name]:
                waiting[q.name].discard(done.name)
                if not waiting[q.name]:
                    heapq.heappush(ready, (q.order, i, q))
    if len(ordered) < len(found):
        stuck = sorted(n for n, w in waiting.items() if w)
        raise ValueError(f"the reads of questions {', '.join(stuck)} form a cycle: none of them can run first")
    return ordered


def ask(name: str, **options: Any) -> Any:
    """Run question ``name`` from Python (a notebook) through the same runner as ``python -m lab.questions``:
    keyword arguments are the flags (``ask("hparams", seeds=1, epochs=2, configs=["experiments/smoke.yaml"])``);
    returns its typed result."""
    from lab.questions.runner import ask as run_question

    return run_question(name, **options)
