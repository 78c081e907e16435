"""One option grammar: the switches every question takes, as a typed, frozen ``RunContext``, and the command
line of every entry point generated from such dataclasses (their fields' types and docstrings).

A question's own options are a small frozen dataclass registered with it (``Question(..., options=Options)``).
``python -m lab.questions <name>``, ``... all`` and ``python -m lab.questions.finetune_start`` build their parsers
with ``add_options`` from these dataclasses, and ``lab.questions.ask`` builds the same objects from keyword
arguments, so a flag and a keyword argument are the same thing. The flags keep argparse's shapes that Make
and ``ARGS`` pass (``--quick``, ``--config A --config B``, ``--lrs 1e-3 1e-4``, ``--per-class 3``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import docstring_parser
from jsonargparse import ArgumentParser

from lab.engine.config import EXPERIMENTS, Layer
from lab.engine.precision import uses_gpu
from lab.questions.results import default_root
from lab.utils.errors import LabError

ACCELERATORS = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class RunContext:
    """The switches of a question's run, resolved once (``RunContext.of``); a changed copy is made with
    ``dataclasses.replace``, never by mutation, so that what a question was given is what run.json records.

    Attributes:
        configs: run config layered onto every training run of the question, last (e.g.
            experiments/smoke.yaml for tiny runs); repeatable
        accelerator: where to train
        seeds: seeds per compared setting
        epochs: epochs per training run (default: the config's)
        results: results folder
        workers: training runs side by side, in their own processes (default: 2 on a CPU with 2 or more
            cores, 1 on a GPU)
        quick: reduced budgets: one seed, experiments/quick.yaml on every run (QUICK=1)
        retrain: train runs again even when an identical run finished (RETRAIN=1)
        debug: show the traceback of an error
    """

    configs: tuple[Layer, ...] = field(default=(), metadata={"flag": "--config", "repeat": True, "metavar": "YAML"})
    accelerator: Literal["auto", "cpu", "gpu"] = "auto"
    seeds: int = 3
    epochs: int | None = None
    results: Path = field(default_factory=default_root)
    workers: int = 1
    quick: bool = False
    retrain: bool = False
    debug: bool = False

    def __post_init__(self) -> None:
        if self.seeds < 1 or (self.epochs is not None and self.epochs < 1) or self.workers < 1:
            raise LabError(f"seeds, epochs and workers must be >= 1 (got {self.seeds}, {self.epochs}, {self.workers})")
        if self.accelerator not in ACCELERATORS:
            raise LabError(f"accelerator must be one of {', '.join(ACCELERATORS)}, not {self.accelerator!r}")

    @classmethod
    def of(cls, **given: Any) -> RunContext:
        """The context the user asked for, with the defaults that depend on the machine filled in once: the
        workers for this accelerator and CPU, and QUICK's one seed and experiments/quick.yaml."""
        configs = tuple(Path(c) if isinstance(c, str) else c for c in given.pop("configs", ()))
        accelerator = given.get("accelerator", "auto")
        if given.get("workers") is None:
            given["workers"] = 1 if uses_gpu(accelerator) or (os.cpu_count() or 1) < 2 else 2
        if given.get("quick"):
            given["seeds"], configs = 1, (EXPERIMENTS / "quick.yaml", *configs)
        if "results" in given:
            given["results"] = Path(given["results"])
        return cls(configs=configs, **given)


def field_help(cls: type) -> dict[str, str]:
    """Each documented field's help: the Attributes section of the dataclass's docstring."""
    return {p.arg_name: " ".join((p.description or "").split()) for p in docstring_parser.parse(cls.__doc__).params}


def option_shape(hint: Any) -> dict[str, Any]:
    """argparse's keywords for a field of type ``hint``: a flag for a bool, several values for a tuple or
    list, choices for a Literal; None in ``X | None`` is the default, not a value."""
    if hint is bool:
        return {"action": "store_true"}
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return option_shape(args[0])
    if typing.get_origin(hint) in (tuple, list):
        return {**option_shape(args[0]), "nargs": "+"}
    if typing.get_origin(hint) is Literal:
        return {"choices": args} | ({} if isinstance(args[0], str) else {"type": type(args[0])})
    return {"type": hint if hint in (int, float, Path) else str}


def add_options(parser: ArgumentParser, cls: type) -> None:
    """One flag per field of the dataclass ``cls`` (``per_class`` -> ``--per-class``), its help from the
    docstring. Defaults stay the dataclass's: a flag not given is left out of the parsed namespace."""
    hints, helps = typing.get_type_hints(cls), field_help(cls)
    for f in dataclasses.fields(cls):
        flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
        shape = {"action": "append", "type": str} if f.metadata.get("repeat") else option_shape(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        text = helps.get(f.name, "")
        shown = f" (default: {default})" if default not in (None, False, ()) and "default" not in text else ""
        flags = [flag] + ([f"--{f.name}"] if "_" in f.name else [])
        if "metavar" in f.metadata:
            shape["metavar"] = f.metadata["metavar"]
        parser.add_argument(*flags, dest=f.name, default=argparse.SUPPRESS, help=text + shown, **shape)


def build(cls: type, given: dict[str, Any], make: Any = None) -> Any:
    """An instance of ``cls`` from the values in ``given`` that are its fields (through ``make``, e.g.
    ``RunContext.of``); sequences become tuples, so that the instance stays immutable."""
    names = {f.name for f in dataclasses.fields(cls)}
    own = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items() if k in names}
    return (make or cls)(**own)


def parser_for(prog: str, description: str, *option_types: type) -> ArgumentParser:
    """The command line of an entry point: the flags of each dataclass in ``option_types``."""
    parser = ArgumentParser(prog=prog, description=description)
    for cls in option_types:
        add_options(parser, cls)
    return parser


def parse(parser: ArgumentParser, argv: list[str], *option_types: type) -> list[Any]:
    """``argv`` parsed into one instance per dataclass (RunContext resolved by ``RunContext.of``); a bad
    value stops with one ``error:`` line and exit status 2, as argparse's own errors do."""
    given = parser.parse_args(argv).as_dict()
    try:
        return [build(cls, given, RunContext.of if cls is RunContext else None) for cls in option_types]
    except (LabError, ValueError, TypeError) as exc:
        parser.error(str(exc))
