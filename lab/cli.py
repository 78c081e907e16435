"""The command line: LightningCLI with run folders, default callbacks and readable errors.

python -m lab fit --config experiments/lenet.yaml --trainer.max_epochs 3
python -m lab test --config experiments/lenet.yaml --ckpt_path runs/lenet/version_0/checkpoints/last.ckpt
"""

from __future__ import annotations

import sys
from pathlib import Path

from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from lab.callbacks.epoch_seed import SeedEachEpoch
from lab.data.base import InMemoryImageDataModule
from lab.errors import LabError
from lab.loggers import RunConfig, build_loggers, finish_wandb, wandb_run_dir
from lab.models.transfer import check_checkpoint_fits
from lab.module import ClassifierModule
from lab.resume import Resume, find_resume, keep_earlier_metrics
from lab.run_record import RecordRun


class LabCLI(LightningCLI):
    """LightningCLI that links data.num_classes -> model.num_classes and names run folders."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.add_class_arguments(RunConfig, "run")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/acc",
                "checkpoint.mode": "max",
                "checkpoint.save_last": True,
                "checkpoint.filename": "best-{epoch:03d}",
            }
        )

    def _run_name(self) -> str:
        run: RunConfig = self._get(self.config_init, "run")
        if run.name:
            return run.name
        configs = self._get(self.config, "config") or []
        return Path(str(configs[-1])).stem if configs else "default"

    def _tags(self) -> list[str]:
        """W&B tags: the network, the dataset and the seed of this run."""
        backbone = getattr(self.model, "backbone", None)
        dataset = type(self.datamodule).__name__.removesuffix("DataModule").removesuffix("Subset").lower()
        tags = [f"dataset:{dataset}", f"seed:{self._get(self.config, 'seed_everything')}"]
        return ([f"network:{type(backbone).__name__}"] if backbone is not None else []) + tags

    def _resume(self) -> Resume | None:
        """`fit --ckpt_path last`: the run folder to continue (see lab/resume.py)."""
        if self.subcommand != "fit" or self._get(self.config, "ckpt_path") != "last":
            return None
        return find_resume(self._get(self.config_init, "run").root, self._run_name())

    def instantiate_trainer(self, **kwargs):
        trainer_cfg = self._get(self.config_init, "trainer")
        self.resume = self._resume()
        seed = self._get(self.config, "seed_everything")
        callbacks = trainer_cfg.get("callbacks") or []
        callbacks = list(callbacks) if isinstance(callbacks, list) else [callbacks]
        if trainer_cfg.get("logger") is None and not trainer_cfg.get("fast_dev_run"):
            resume = self.resume
            if resume:
                keep_earlier_metrics(resume)
                print(f"[lab] resuming {resume.run_dir} from {resume.checkpoint.name}")
            kwargs["logger"] = build_loggers(
                self._get(self.config_init, "run"), self._run_name(), self._tags(),
                version=resume.version if resume else None, wandb_id=resume.wandb_id if resume else None,
            )  # fmt: skip
            callbacks.append(LearningRateMonitor(logging_interval="epoch"))
        if isinstance(seed, int) and not isinstance(seed, bool):
            callbacks.append(SeedEachEpoch(seed))  # epoch k's randomness depends on (seed, k) only
        kwargs["callbacks"] = callbacks
        trainer = super().instantiate_trainer(**kwargs)
        if trainer_cfg.get("fast_dev_run"):  # a smoke run leaves no checkpoint behind
            trainer.callbacks = [c for c in trainer.callbacks if not isinstance(c, ModelCheckpoint)]
        for callback in trainer.callbacks:
            if isinstance(callback, RecordRun) and self.resume:
                callback.resume_index = self.resume.index
        return trainer

    def _prepare_subcommand_kwargs(self, subcommand: str) -> dict:
        kwargs = super()._prepare_subcommand_kwargs(subcommand)
        if getattr(self, "resume", None) and kwargs.get("ckpt_path") == "last":
            kwargs["ckpt_path"] = str(self.resume.checkpoint)
        ckpt = kwargs.get("ckpt_path")
        if ckpt and ckpt not in ("last", "best", "hpc", "registry") and hasattr(self.model, "backbone"):
            check_checkpoint_fits(self.model.backbone, ckpt)  # a clear error, not a load_state_dict traceback
        return kwargs

    def after_fit(self) -> None:
        run: RunConfig = self._get(self.config_init, "run")
        self._fit_metrics = self._metrics()
        if run.test_after_fit:
            best = self.trainer.checkpoint_callback.best_model_path if self.trainer.checkpoint_callback else ""
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best or None)
        self.print_summary()
        finish_wandb(self.trainer.loggers)

    def after_test(self) -> None:
        self.print_summary()
        finish_wandb(self.trainer.loggers)

    def after_validate(self) -> None:
        finish_wandb(self.trainer.loggers)

    def after_predict(self) -> None:
        finish_wandb(self.trainer.loggers)

    def _metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.trainer.callback_metrics.items() if v.numel() == 1}

    def print_summary(self) -> None:
        log_dir = self.trainer.log_dir if self.trainer.loggers else None  # a collective under DDP: every rank
        if not self.trainer.is_global_zero:
            return
        metrics = {**getattr(self, "_fit_metrics", {}), **self._metrics()}
        lines = ["", "=" * 60]
        for key in ("val/acc", "test/acc"):
            if key in metrics:
                lines.append(f"{key:<10} {metrics[key]:.4f}")
        if self.trainer.loggers:
            lines.append(f"run dir    {log_dir}")
        ckpt = self.trainer.checkpoint_callback
        if ckpt is not None and ckpt.best_model_path:
            lines.append(f"best ckpt  {ckpt.best_model_path}")
        wandb_dir = wandb_run_dir(self.trainer.loggers)
        if wandb_dir:
            lines.append(f"W&B run    {wandb_dir}   (upload: make wandb-sync)")
        lines.append("=" * 60)
        print("\n".join(lines))


def build_cli(args: list[str], run: bool = True, save_config: bool = True) -> LabCLI:
    """The LabCLI for ``args``; with ``run=False`` (no subcommand in args) it only instantiates.
    ``save_config=False`` writes no config.yaml (helpers that train nothing of their own)."""
    return LabCLI(
        ClassifierModule,
        InMemoryImageDataModule,
        subclass_mode_data=True,
        seed_everything_default=0,
        trainer_defaults={"default_root_dir": "runs"},
        save_config_kwargs={"overwrite": False},
        save_config_callback=RecordRun if save_config else None,
        args=args,
        run=run,
    )


def main(args: list[str] | None = None) -> LabCLI:
    """Entry point of ``python -m lab``; ``--debug`` shows the traceback of a LabError."""
    argv = list(sys.argv[1:] if args is None else args)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        return build_cli(argv)
    except (LabError, ValueError) as exc:
        if debug:
            raise
        print(f"error: {exc}\n(run again with --debug for the traceback)", file=sys.stderr)
        sys.exit(2)
