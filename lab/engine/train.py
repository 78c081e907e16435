"""Training from code: ``run(configs, overrides, name) -> RunResult``.

    from lab.engine.train import run
    result = run(["lenet"], {"model": {"optimizer": {"init_args": {"lr": 0.01}}}}, name="study/lr_0.01")
    result.history[-1]["val/acc"], result.test["test/acc"], result.run_dir

The configs (experiments/<name>.yaml, paths or dicts) and the overrides are merged in Python
(lab/engine/config.py) and handed to the same ``LabCLI`` that ``python -m lab fit`` uses, with ``run=False``;
the run then fits, tests its best checkpoint and ends exactly as the command does, and its folder
holds the resolved config.yaml that repeats it: ``python -m lab fit --config <run>/config.yaml``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch

from lab.callbacks import EpochHistory, TimeToAccuracy
from lab.callbacks.history import saved_history
from lab.data.base import InMemoryImageDataModule
from lab.engine.config import Layer, compose, merge
from lab.engine.loggers import finish_wandb, log_confusion
from lab.engine.resume import interrupted
from lab.inference.load import load_trained
from lab.models.module import ClassifierModule
from lab.utils import console
from lab.utils.errors import LabError, NonFiniteLossError


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
    from lab.engine.cli import LabCLI

    return _build(LabCLI, build_config(configs, overrides, name, test), record)


def parse_only(config: Mapping[str, Any]) -> str:
    """``config`` as ``lab fit`` resolves it (YAML, every default filled in, precision chosen), with nothing
    built, seeded or written: what identifies a run (lab/engine/run_cache.py)."""
    from lab.engine.cli import LabCLI

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
    return execute(prepare(configs, overrides, name, test))


def execute(cli, **fit_kwargs) -> RunResult:
    """The one training call, for ``run`` and for ``python -m lab fit``: fit, test the best checkpoint when
    --run.test_after_fit asks, then close the run once (confusion matrix logged, W&B finished, summary line),
    also when it fails. ``fit_kwargs``: what LightningCLI passes to ``trainer.fit`` besides the model and data
    (``ckpt_path`` of a resume)."""
    trainer, tested, seconds = cli.trainer, {}, float("nan")
    try:
        start = time.perf_counter()
        with interrupted(trainer):
            trainer.fit(cli.model, datamodule=cli.datamodule, **fit_kwargs)
        seconds = time.perf_counter() - start
        fit_metrics = metrics_of(trainer)
        tested = test_best(cli) if cli.test_after_fit else {}
    except NonFiniteLossError as exc:
        exc.run_dir = Path(trainer.log_dir) if trainer.loggers else None
        raise
    finally:
        closed = close_run(cli, tested)
    console.info(summary_line(cli.run_name(), {**fit_metrics, **tested}, closed))
    return result_of(cli, tested, seconds)


def test_best(cli) -> dict[str, float]:
    """The test metrics of the best checkpoint by val/acc (the last weights when no checkpoint was kept)."""
    trainer = cli.trainer
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if not best and trainer.global_step == 0:
        raise LabError(
            "--run.test_after_fit: no training step ran (--trainer.max_epochs 0?), so there is no trained "
            "network to test; train at least one epoch"
        )
    trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path=best or None, verbose=False)
    return {k: v for k, v in metrics_of(trainer).items() if k.startswith("test/")}


def metrics_of(trainer: L.Trainer) -> dict[str, float]:
    return {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}


def close_run(cli, tested: Mapping[str, float]) -> dict[str, str | None]:
    """The one place a run's loggers are closed: the test confusion matrix (when tested) goes to metrics'
    folder and W&B, then the W&B run is finished. Returns the run folder and the local W&B folder."""
    loggers = cli.trainer.loggers
    if tested and test_confusion(cli.model) is not None:
        log_confusion(loggers, test_confusion(cli.model), list(cli.datamodule.classes))
    run_dir = cli.trainer.log_dir if loggers else None  # a collective under DDP: every rank calls it
    return {"run_dir": run_dir, "wandb": finish_wandb(loggers)}


def summary_line(name: str, metrics: Mapping[str, float], closed: Mapping[str, str | None]) -> str:
    shown = "  ".join(f"{k} {metrics[k]:.4f}" for k in ("val/acc", "test/acc") if k in metrics)
    line = f"[lab] {name}: {shown or 'done'}" + (f"  -> {closed['run_dir']}" if closed["run_dir"] else "")
    return line + (f"\n[lab] W&B run {closed['wandb']}   (upload: make wandb-sync)" if closed["wandb"] else "")


def test_confusion(module: ClassifierModule) -> torch.Tensor | None:
    """The confusion matrix of the module's last test epoch (None: it was not tested)."""
    return getattr(module, "confusion", None)


def result_of(cli, tested: dict[str, float], seconds: float) -> RunResult:
    trainer = cli.trainer
    history = next(c for c in trainer.callbacks if isinstance(c, EpochHistory)).epochs
    checkpoint = trainer.checkpoint_callback
    return RunResult(
        history=list(history),
        test=tested,
        confusion=test_confusion(cli.model) if tested else None,
        run_dir=Path(trainer.log_dir) if trainer.loggers else None,
        best_checkpoint=(checkpoint.best_model_path or None) if checkpoint else None,
        fit_seconds=seconds,
        module=cli.model,
        datamodule=cli.datamodule,
        trainer=trainer,
        timing=timing_of(trainer),
    )


def reload(run_dir: str | Path, accelerator: str = "auto", checkpoint: str | None = None) -> RunResult:
    """A finished run folder's best checkpoint (or ``checkpoint``), rebuilt by the loader of trained networks
    (lab/inference/load.py) with its data module, and tested again (nothing is trained); its history is the one
    its EpochHistory saved in checkpoints/last.ckpt."""
    run_dir = Path(run_dir)
    checkpoints = [Path(checkpoint)] if checkpoint else sorted((run_dir / "checkpoints").glob("best-*.ckpt"))
    if not checkpoints or not checkpoints[-1].is_file():
        raise LabError(f"{run_dir}: has no checkpoints/best-*.ckpt; give a run folder written by `fit`.")
    best = str(checkpoints[-1])
    history = run_history(run_dir, best)
    trained = load_trained(best)
    module, datamodule = trained.module, trained.datamodule()
    trainer = L.Trainer(accelerator=accelerator, logger=False, enable_progress_bar=False, enable_model_summary=False)
    tested = trainer.test(module, datamodule=datamodule, verbose=False)[0]
    return RunResult(
        history=history,
        test=tested,
        confusion=module.confusion,
        run_dir=run_dir,
        best_checkpoint=best,
        fit_seconds=float("nan"),
        module=module,
        datamodule=datamodule,
        trainer=trainer,
    )


def run_history(run_dir: Path, tested: str) -> list[dict[str, float]]:
    """Every epoch of a run folder, from checkpoints/last.ckpt; when that file is gone or cannot be read, the
    epochs up to the ``tested`` checkpoint's (said in a warning: the later ones are then not known)."""
    try:
        return saved_history(run_dir / "checkpoints" / "last.ckpt")
    except LabError as exc:
        history = saved_history(tested)
        console.warn(f"{exc} The history is {tested}'s: {len(history)} epoch(s), those after it are not known.")
        return history
