"""The command line: LightningCLI with this project's links, defaults, run folders and clear errors.

    python -m lab fit --config experiments/lenet.yaml --trainer.max_epochs 3
    python -m lab test --config experiments/lenet.yaml --ckpt_path runs/lenet/version_0/checkpoints/last.ckpt
    python -m lab fit --config experiments/lenet.yaml --ckpt_path last      # resume the newest run
    python -m lab test --config experiments/lenet.yaml --ckpt_path last     # test the newest run's last.ckpt

Code trains through the same class and the same call: ``lab.engine.train.run`` builds ``LabCLI(args=<config dict>,
run=False)`` and hands it to ``lab.engine.train.execute``, which the `fit` subcommand runs too.
Every checkpoint is written atomically (lab/engine/checkpoints.py); last.ckpt is the end of the last finished epoch.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.plugins.io import CheckpointIO

from lab.callbacks import EpochHistory, EpochLines, FiniteLossGuard, SeedEachEpoch
from lab.data.base import InMemoryImageDataModule
from lab.engine.checkpoints import AtomicCheckpointIO, LastCheckpoint
from lab.engine.cli_help import CompactHelpFormatter
from lab.engine.loggers import RunConfig, build_loggers
from lab.engine.precision import choose_precision
from lab.engine.resume import Resume
from lab.engine.run_record import RecordRun
from lab.models.head import check_checkpoint_fits
from lab.models.module import ClassifierModule
from lab.models.pretrained import network_config, read_checkpoint
from lab.utils import console
from lab.utils.errors import CheckpointMismatchError, LabError

SUBCOMMANDS = ("fit", "validate", "test", "predict")
CHECKPOINT_DEFAULTS = {
    "checkpoint.monitor": "val/acc",
    "checkpoint.mode": "max",
    "checkpoint.save_last": False,  # LastCheckpoint writes last.ckpt after every epoch, not only after a best one
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
        """``record=False``: no config.yaml / run.json (helpers that only probe, e.g. the LR finder).
        ``run=False`` (code): a bad key raises ``jsonargparse.ArgumentError`` instead of exiting."""
        strict = {"allow_abbrev": False, "formatter_class": CompactHelpFormatter}
        self.resume: Resume | None = None  # set while parsing --ckpt_path last of `fit`
        super().__init__(
            ClassifierModule,
            InMemoryImageDataModule,
            subclass_mode_data=True,
            seed_everything_default=0,
            trainer_defaults={"enable_model_summary": False},
            save_config_callback=RecordRun if record else None,
            save_config_kwargs={"overwrite": False},
            auto_configure_optimizers=False,
            args=args,
            run=run,
            parser_kwargs={
                "prog": program_name(),
                **strict,
                **({} if run else {"exit_on_error": False}),
                **{s: dict(strict) for s in SUBCOMMANDS},
            },
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

    def run_name(self, section=None) -> str:
        section = self.section() if section is None else section
        configs = section.get("config") or []
        name = section["run"].name
        return name or (Path(str(configs[0])).stem if configs else "default")  # the experiment, not an overlay

    def _parse_ckpt_path(self) -> None:
        """--ckpt_path, before LightningCLI reads the network from it: `last` becomes the newest run's
        last.ckpt (`fit`: the run to resume), a checkpoint that cannot be read or holds another network is
        one error, and `test`/`validate`/`predict` without one is refused (they would use random weights)."""
        subcommand = self.config.get("subcommand")
        if subcommand:
            section = self.config[subcommand]
            ckpt = section.get("ckpt_path")
            if ckpt == "last":
                found = Resume.find(
                    section["run"].root, self.run_name(section), "resume" if subcommand == "fit" else subcommand
                )
                self.resume = found if subcommand == "fit" else None
                section["ckpt_path"] = ckpt = str(found.checkpoint)
            if ckpt is None and subcommand != "fit":
                raise LabError(
                    f"{subcommand} needs --ckpt_path: a .ckpt file, or `last` for the newest run of this config "
                    "(without one it would report the untrained network)"
                )
            if ckpt and ckpt not in ("best", "hpc", "registry"):
                _check_same_network(section, ckpt)
        super()._parse_ckpt_path()

    def tags(self) -> list[str]:
        """W&B tags: the network, the dataset and the seed of this run."""
        dataset = type(self.datamodule).__name__.removesuffix("DataModule").removesuffix("Subset").lower()
        seed = self.section()["seed_everything"]
        return [f"network:{type(self.model.net).__name__}", f"dataset:{dataset}", f"seed:{seed}"]

    def before_instantiate_classes(self) -> None:
        trainer = self.section()["trainer"]
        if trainer.get("precision") is None:
            trainer["precision"] = choose_precision(trainer.get("accelerator"))
        if trainer.get("default_root_dir") is None:  # runs without a logger (LR finder, smoke runs) write there too
            trainer["default_root_dir"] = self.section()["run"].root

    def instantiate_trainer(self, **kwargs):
        config = self.section(self.config_init)
        run, trainer_config = config["run"], config["trainer"]
        if self.resume is not None:  # everything checked before the run folder is touched
            self.resume.check(self.model.net, _max_epochs(trainer_config))
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
        trainer = super().instantiate_trainer(**kwargs, callbacks=callbacks, plugins=_with_atomic_saves(trainer_config))
        if trainer.checkpoint_callback is not None:  # appended after --checkpoint's, which stays checkpoint_callback
            trainer.checkpoint_callback.save_last = False  # --checkpoint.save_last true would write last-v1.ckpt
            trainer.callbacks.append(LastCheckpoint())
        return trainer

    def _loggers(self, run: RunConfig):
        if self.resume is None:
            return build_loggers(run, self.run_name(), self.tags())
        self.resume.keep_earlier_metrics()
        console.info(f"[lab] resuming {self.resume.run_dir} from {self.resume.checkpoint.name}")
        return build_loggers(run, self.run_name(), self.tags(), self.resume.version, self.resume.wandb_id)

    # -- subcommand hooks ----------------------------------------------------------------------
    def _check_checkpoint(self) -> None:
        """A --ckpt_path that does not fit the network: one error listing the keys, before Lightning loads it."""
        ckpt = self.section(self.config_init).get("ckpt_path")
        if ckpt and ckpt not in ("last", "best", "hpc", "registry"):
            check_checkpoint_fits(self.model.net, ckpt)

    before_fit = before_validate = before_test = before_predict = _check_checkpoint

    @property
    def test_after_fit(self) -> bool:
        return bool(self.section(self.config_init)["run"].test_after_fit)

    def fit(self, model, datamodule, **kwargs) -> None:
        """The `fit` subcommand is lab.engine.train.execute, the training call code uses too: fit, test the best
        checkpoint if asked, close the run once. Its result stays on the CLI (``cli.result``)."""
        from lab.engine.train import execute

        self.result = execute(self, **kwargs)

    def after_test(self) -> None:
        """`test`/`validate`/`predict`: close the run as `fit` does (confusion matrix, W&B, summary line)."""
        from lab.engine.train import close_run, metrics_of, summary_line

        metrics = metrics_of(self.trainer)
        tested = {k: v for k, v in metrics.items() if k.startswith("test/")}
        console.info(summary_line(self.run_name(), metrics, close_run(self, tested)))

    after_validate = after_predict = after_test


def _check_same_network(section, ckpt: str) -> None:
    """LightningCLI builds the network a checkpoint was trained with, whatever the config says: a checkpoint
    of another network would be tested under this config's name. Also reads the file (truncated: one line)."""
    found = (network_config(read_checkpoint(ckpt)) or {}).get("class_path")
    wanted = getattr(section["model"].get("net"), "class_path", None)
    if found and wanted and found != wanted:
        short = found.rsplit(".", 1)[-1]
        raise CheckpointMismatchError(
            f"checkpoint {ckpt} holds a {short} network but the config builds a {wanted.rsplit('.', 1)[-1]}: "
            f"give a checkpoint of that network, or the config {short} was trained with "
            "(its run folder's config.yaml)"
        )


def _max_epochs(trainer_config) -> int | None:
    """The epoch count Lightning will train to (its default 1000 when neither max_epochs nor max_steps is set)."""
    max_epochs = trainer_config.get("max_epochs")
    if max_epochs is None and trainer_config.get("max_steps") in (None, -1):
        return 1000
    return max_epochs


def _with_atomic_saves(trainer_config) -> list:
    """The configured plugins, plus AtomicCheckpointIO unless one of them already writes checkpoints."""
    plugins = trainer_config.get("plugins") or []
    plugins = list(plugins) if isinstance(plugins, list) else [plugins]
    if not any(isinstance(p, CheckpointIO) for p in plugins):
        plugins.append(AtomicCheckpointIO())
    return plugins


def run_cli(args: list[str] | None = None) -> LabCLI:
    """One command run in this process, returning the CLI (its trainer, model, ...); a LabError becomes one
    line and exit status 2 (``--debug``: traceback)."""
    console.setup()
    if args is None:  # from the command line: jsonargparse reads sys.argv itself
        debug = "--debug" in sys.argv
        sys.argv = [a for a in sys.argv if a != "--debug"]
    else:
        debug, args = "--debug" in args, [a for a in args if a != "--debug"]
    with console.user_errors(debug):
        return LabCLI(args=args)


def main(args: list[str] | None = None) -> int:
    """``lab`` (the console script passes the result to sys.exit) and ``python -m lab``: 0 on success."""
    run_cli(args)
    return 0
