"""The coursework questions, one module each, found by a registry.

A question module defines a result dataclass, registers itself right below it, and defines
``run(args, out) -> result`` (trains or computes, writes its figures into ``out``), ``render(result,
folder) -> blocks`` (what the report says about it), ``headline(result) -> str`` (README's one line)
and, if it has options of its own, ``add_arguments(parser)``::

    QUESTION = register(Question(__name__, "Two more layers", CV1, "§2.4b", order=40, result_type=DeeperResult,
                                 asks="Add 2 layers to TwoLayerNet and ConvNet: higher performance? Why?"))

``make <name>`` (underscores as hyphens) runs it, ``make all`` runs every registered question in order,
and the report and README list it: adding a question is writing its module and its test.
"""

from __future__ import annotations

import importlib
import pkgutil
from argparse import ArgumentParser, Namespace
from collections.abc import Callable
from dataclasses import dataclass
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
    order: float  # position in `make all` and in the report
    result_type: type  # the dataclass ``run`` returns and result.json holds
    asks: str  # the question, in one or two sentences
    configs: str = ""  # the experiments it trains, for the report's "made by" line
    reads: tuple[str, ...] = ()  # questions whose results it reads
    exports: tuple[tuple[str, str], ...] = ()  # (file in its results folder, name in results/pku/): A2's deliverables

    @property
    def name(self) -> str:
        return self.module.rsplit(".", 1)[-1]

    def _function(self, name: str) -> Callable | None:
        return getattr(importlib.import_module(self.module), name, None)

    @property
    def run(self) -> Callable[[Namespace, Path], Any]:
        return self._function("run")

    @property
    def render(self) -> Callable[[Any, Path], list]:
        return self._function("render")

    @property
    def headline(self) -> Callable[[Any], str]:
        return self._function("headline")

    @property
    def add_arguments(self) -> Callable[[ArgumentParser], None] | None:
        return self._function("add_arguments")

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
    """Every registered question, in the order of the two texts."""
    discover()
    return sorted(REGISTRY.values(), key=lambda q: q.order)
