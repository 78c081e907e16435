"""The command line: LightningCLI with this project's links, defaults, run folders and clear errors.

    python -m lab fit --config experiments/lenet.yaml --trainer.max_epochs 3
    python -m lab test --config experiments/lenet.yaml --ckpt_path runs/lenet/version_0/checkpoints/last.ckpt
    python -m lab fit --config experiments/lenet.yaml --ckpt_path last      # resume the newest run

Code trains through the same class: ``lab.train.run`` builds ``LabCLI(args=<config dict>, run=False)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from lab import console
from lab.callbacks import EpochHistory, EpochLines, FiniteLossGuard, SeedEachEpoch
from lab.cli_help import CompactHelpFormatter
from lab.data.base import InMemoryImageDataModule
from lab.loggers import RunConfig, build_loggers, finish_wandb, log_confusion
from lab.models.transfer import check_checkpoint_fits
from lab.module import ClassifierModule
from lab.precision import choose_precision
from lab.resume import Resume
from lab.run_record import RecordRun

SUBCOMMANDS = ("fit", "validate", "test", "predict")
CHECKPOINT_DEFAULTS = {
    "checkpoint.monitor": "val/acc",
    "checkpoint.mode": "max",
    "checkpoint.save_last": True,
    "checkpoint.filename": "best-{epoch:03d}",
}


def program_name() -> str:
    """What usage lines show: `lab` for the console script, `python -m lab` otherwise."""
    return "lab" if Path(sys.argv[0]).name == "lab" else "python -m lab"


class LabCLI(LightningCLI):
    """Links data.num_classes -> model.net.init_args.num_classes, adds the run options (--run.*) and the
    checkpoint options (--checkpoint.*), picks the precision from the hardware when none is set, and
    gives every run a folder, loggers and the standard callbacks. The optimizer is the model's own
    argument (``model.optimizer``), so LightningCLI's separate --optimizer option is switched off."""

    def __init__(self, args=None, run: bool = True, record: bool = True) -> None:
        """``record=False``: no config.yaml / run.json (helpers that only probe, e.g. the LR finder)."""
        strict = {"allow_abbrev": False, "formatter_class": CompactHelpFormatter}
        super().__init__(
            ClassifierModule,
            InMemoryImageDataModule,
            subclass_mode_data=True,
            seed_everything_default=0,
            trainer_defaults={"default_root_dir": "runs", "enable_model_summary": False},
            save_config_callback=RecordRun if record else None,
            save_config_kwargs={"overwrite": False},
            auto_configure_optimizers=False,
            args=args,
            run=run,
            parser_kwargs={"prog": program_name(), **strict, **{s: dict(strict) for s in SUBCOMMANDS}},
        )

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.num_classes", "model.net.init_args.num_classes", apply_on="instantiate")
        parser.add_class_arguments(RunConfig, "run")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(CHECKPOINT_DEFAULTS)

    # -- the pieces every run gets ---------------------------------------------------------------
    def section(self, config=None):
        """The subcommand's part of a config (the whole config when run=False)."""
        config = self.config if config is None else config
        return config[self.subcommand] if self.subcommand else config

    def run_name(self) -> str:
        run = self.section(self.config_init)["run"]
        configs = self.section().get("config") or []
        return run.name or (Path(str(configs[0])).stem if configs else "default")  # the experiment, not an overlay

    def tags(self) -> list[str]:
        """W&B tags: the network, the dataset and the seed of this run."""
        dataset = type(self.datamodule).__name__.removesuffix("DataModule").removesuffix("Subset").lower()
        seed = self.section()["seed_everything"]
        return [f"network:{type(self.model.net).__name__}", f"dataset:{dataset}", f"seed:{seed}"]

    def before_instantiate_classes(self) -> None:
        trainer = self.section()["trainer"]
        if trainer.get("precision") is None:
            trainer["precision"] = choose_precision(trainer.get("accelerator"))

    def instantiate_trainer(self, **kwargs):
        config = self.section(self.config_init)
        run, trainer_config = config["run"], config["trainer"]
        self.resume = None
        if self.subcommand == "fit" and config.get("ckpt_path") == "last":
            self.resume = Resume.find(run.root, self.run_name())
            self.save_config_kwargs["config_filename"] = self.resume.config_filename
        user = trainer_config.get("callbacks") or []
        callbacks = [*(user if isinstance(user, list) else [user]), EpochHistory(), FiniteLossGuard()]
        seed = config["seed_everything"]
        if isinstance(seed, int) and not isinstance(seed, bool):
            callbacks.append(SeedEachEpoch(seed))  # epoch k's randomness depends on (seed, k) only
        if trainer_config.get("enable_progress_bar") is not False and not sys.stdout.isatty():
            callbacks.append(EpochLines(f"[{run.name}] " if run.name else ""))
        if trainer_config.get("fast_dev_run"):
            kwargs["logger"] = False  # a smoke run of a few batches leaves no run folder
        elif trainer_config.get("logger") is None:
            kwargs["logger"] = self._loggers(run)
            callbacks.append(LearningRateMonitor(logging_interval="epoch"))
        return super().instantiate_trainer(**kwargs, callbacks=callbacks)

    def _loggers(self, run: RunConfig):
        if self.resume is None:
            return build_loggers(run, self.run_name(), self.tags())
        self.resume.keep_earlier_metrics()
        console.info(f"[lab] resuming {self.resume.run_dir} from {self.resume.checkpoint.name}")
        return build_loggers(run, self.run_name(), self.tags(), self.resume.version, self.resume.wandb_id)

    # -- subcommand hooks ----------------------------------------------------------------------
    def _check_checkpoint(self) -> None:
        """A --ckpt_path that does not fit the network: one error listing the keys, before Lightning loads it."""
        config = self.section(self.config_init)
        if self.resume is not None:
            config["ckpt_path"] = str(self.resume.checkpoint)
        ckpt = config.get("ckpt_path")
        if ckpt and ckpt not in ("last", "best", "hpc", "registry"):
            check_checkpoint_fits(self.model.net, ckpt)

    before_fit = before_validate = before_test = before_predict = _check_checkpoint

    def after_fit(self) -> None:
        """Test the best checkpoint if asked (--run.test_after_fit), print the summary, end the W&B run."""
        self.fit_metrics = self._metrics()
        if self.section(self.config_init)["run"].test_after_fit:
            best = self.trainer.checkpoint_callback.best_model_path if self.trainer.checkpoint_callback else ""
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best or None, verbose=False)
        self.after_test()

    def _metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.trainer.callback_metrics.items() if v.numel() == 1}

    def after_test(self) -> None:
        confusion = getattr(self.model, "confusion", None)
        if confusion is not None:
            log_confusion(self.trainer.loggers, confusion, list(self.datamodule.classes))
        self.after_validate()

    def after_validate(self) -> None:
        log_dir = self.trainer.log_dir if self.trainer.loggers else None  # a collective under DDP: every rank
        local = finish_wandb(self.trainer.loggers)
        metrics = {**getattr(self, "fit_metrics", {}), **self._metrics()}
        shown = "  ".join(f"{k} {metrics[k]:.4f}" for k in ("val/acc", "test/acc") if k in metrics)
        console.info(f"[lab] {self.run_name()}: {shown or 'done'}" + (f"  -> {log_dir}" if log_dir else ""))
        if local:
            console.info(f"[lab] W&B run {local}   (upload: make wandb-sync)")

    after_predict = after_validate


def main(args: list[str] | None = None) -> LabCLI:
    """``python -m lab`` / ``lab``; a LabError becomes one line and exit status 2 (``--debug``: traceback)."""
    console.setup()
    if args is None:  # from the command line: jsonargparse reads sys.argv itself
        debug = "--debug" in sys.argv
        sys.argv = [a for a in sys.argv if a != "--debug"]
    else:
        debug, args = "--debug" in args, [a for a in args if a != "--debug"]
    with console.user_errors(debug):
        return LabCLI(args=args)
