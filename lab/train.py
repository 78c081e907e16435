"""Training from code: ``run(configs, overrides, name) -> RunResult``.

    from lab.train import run
    result = run(["lenet"], {"model": {"optimizer": {"init_args": {"lr": 0.01}}}}, name="study/lr_0.01")
    result.history[-1]["val/acc"], result.test["test/acc"], result.run_dir

The configs (experiments/<name>.yaml, paths or dicts) and the overrides are merged in Python
(lab/config.py) and handed to the same ``LabCLI`` that ``python -m lab fit`` uses, with ``run=False``;
the run then fits, tests its best checkpoint and ends exactly as the command does, and its folder
holds the resolved config.yaml that repeats it: ``python -m lab fit --config <run>/config.yaml``.
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch

from lab import console
from lab.callbacks import EpochHistory, TimeToAccuracy
from lab.callbacks.history import read_epoch_metrics
from lab.config import Layer, compose, merge
from lab.data.base import InMemoryImageDataModule
from lab.errors import LabError, NonFiniteLossError
from lab.loggers import finish_wandb
from lab.module import ClassifierModule
from lab.resume import interrupted


@dataclass
class RunResult:
    """What one training run produced, in memory."""

    history: list[dict[str, float]]  # one row per epoch: epoch, train/loss, train/acc, val/loss, val/acc, lr
    test: dict[str, float]  # test/acc, test/loss, test/acc/<class> of the best checkpoint (empty: not tested)
    confusion: torch.Tensor | None  # test confusion matrix (rows: true class)
    run_dir: Path | None
    best_checkpoint: str | None
    fit_seconds: float  # wall time of trainer.fit (validation included)
    module: ClassifierModule
    datamodule: InMemoryImageDataModule
    trainer: L.Trainer
    timing: dict | None = None  # TimeToAccuracy's record, when the run had that callback

    @property
    def best_val_acc(self) -> float:
        return max((e["val/acc"] for e in self.history if "val/acc" in e), default=float("nan"))

    @property
    def time_to_accuracy(self) -> dict | None:
        return self.timing


def timing_of(trainer: L.Trainer) -> dict | None:
    timer = next((c for c in trainer.callbacks if isinstance(c, TimeToAccuracy)), None)
    return None if timer is None else {"reached": timer.reached, "history": timer.history}


def build_config(configs: Sequence[Layer], overrides: Mapping[str, Any] | None, name: str | None, test: bool):
    """configs merged in order, then overrides, then the run's name (folder and W&B group) and test switch."""
    run: dict[str, Any] = {"test_after_fit": test}
    if name:
        run |= {"name": name, "group": name.split("/")[0]}
    return merge(merge(compose(configs), overrides or {}), {"run": run})


def prepare(
    configs: Sequence[Layer],
    overrides: Mapping[str, Any] | None = None,
    name: str | None = None,
    test: bool = True,
    record: bool = True,
):
    """The LabCLI of a run, built but not run: its ``model``, ``datamodule`` and ``trainer``. As quiet as the
    command line; a key that no class takes (a typo) is a LabError naming it."""
    from lab.cli import LabCLI

    return _build(LabCLI, build_config(configs, overrides, name, test), record)


def parse_only(config: Mapping[str, Any]) -> str:
    """``config`` as ``lab fit`` resolves it (YAML, every default filled in, precision chosen), with nothing
    built, seeded or written: what identifies a run (lab/run_cache.py)."""
    from lab.cli import LabCLI

    class Parsed(LabCLI):
        def _set_seed(self) -> None:
            pass

        def instantiate_classes(self) -> None:
            pass

    cli = _build(Parsed, dict(config), record=False)
    return cli.parser.dump(cli.config, skip_validation=True)


def _build(cli_class: type, config: dict[str, Any], record: bool):
    from jsonargparse import ArgumentError

    console.setup()
    with warnings.catch_warnings():  # Lightning warns when a process that has its own argv passes args: this is
        warnings.filterwarnings("ignore", message=".*LightningCLI's args parameter is intended.*")  # that use
        try:
            return cli_class(args=config, run=False, record=record)
        except ArgumentError as exc:
            raise LabError("bad configuration: " + " ".join(str(exc).split()).split(" Got value:")[0]) from None


def build_datamodule(configs: Sequence[Layer]) -> InMemoryImageDataModule:
    """The data module that a run of ``configs`` trains on, set up, without building the rest."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(InMemoryImageDataModule, "data")
    datamodule = parser.instantiate(parser.parse_object({"data": compose(configs)["data"]})).data
    datamodule.setup()
    return datamodule


def run(
    configs: Sequence[Layer], overrides: Mapping[str, Any] | None = None, name: str | None = None, test: bool = True
) -> RunResult:
    """Fit ``configs`` + ``overrides`` as ``python -m lab fit`` would; ``name`` (e.g. "deeper/ConvNet")
    sets the run folder under runs/ and the W&B group (its first part). Raises LabError subclasses
    (e.g. NonFiniteLossError) after closing the run's W&B log."""
    cli = prepare(configs, overrides, name, test)
    start = time.perf_counter()
    try:
        with interrupted(cli.trainer):
            cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        seconds = time.perf_counter() - start
        cli.after_fit()
    except NonFiniteLossError as exc:
        exc.run_dir = Path(cli.trainer.log_dir) if cli.trainer.loggers else None
        raise
    finally:
        finish_wandb(cli.trainer.loggers)
    history = next(c for c in cli.trainer.callbacks if isinstance(c, EpochHistory)).epochs
    tested = {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("test/")}
    checkpoint = cli.trainer.checkpoint_callback
    return RunResult(
        history=list(history),
        test=tested,
        confusion=getattr(cli.model, "confusion", None) if test else None,
        run_dir=Path(cli.trainer.log_dir) if cli.trainer.loggers else None,
        best_checkpoint=(checkpoint.best_model_path or None) if checkpoint else None,
        fit_seconds=seconds,
        module=cli.model,
        datamodule=cli.datamodule,
        trainer=cli.trainer,
        timing=timing_of(cli.trainer),
    )


def reload(run_dir: str | Path, accelerator: str = "auto", checkpoint: str | None = None) -> RunResult:
    """A finished run folder's best checkpoint (or ``checkpoint``), rebuilt by ``load_from_checkpoint`` and
    tested again (nothing is trained); its history is read from the folder's metrics.csv."""
    run_dir = Path(run_dir)
    checkpoints = [Path(checkpoint)] if checkpoint else sorted((run_dir / "checkpoints").glob("best-*.ckpt"))
    if not checkpoints or not checkpoints[-1].is_file():
        raise LabError(f"{run_dir}: has no checkpoints/best-*.ckpt; give a run folder written by `fit`.")
    best = str(checkpoints[-1])
    module = ClassifierModule.load_from_checkpoint(best, map_location="cpu")
    saved = torch.load(best, map_location="cpu", weights_only=False)["datamodule_hyper_parameters"]
    module_name, _, class_name = saved["_class_path"].rpartition(".")
    datamodule_class = getattr(importlib.import_module(module_name), class_name)  # the base class would drop it
    datamodule = datamodule_class.load_from_checkpoint(best)
    trainer = L.Trainer(accelerator=accelerator, logger=False, enable_progress_bar=False, enable_model_summary=False)
    tested = trainer.test(module, datamodule=datamodule, verbose=False)[0]
    return RunResult(
        history=read_epoch_metrics(run_dir),
        test=tested,
        confusion=module.confusion,
        run_dir=run_dir,
        best_checkpoint=best,
        fit_seconds=float("nan"),
        module=module,
        datamodule=datamodule,
        trainer=trainer,
    )
