"""What the framework prints: our messages through the ``lab`` logger (rank zero only), and the
libraries' per-run chatter (device banners, tips, known deprecations) turned down once per process."""

from __future__ import annotations

import logging
import sys
import warnings
from contextlib import contextmanager

from lightning.pytorch.utilities import rank_zero_only

log = logging.getLogger("lab")

# Lightning's per-run info lines ("GPU available", "Seed set to", advertisements, checkpoint loading
# notes): our own one-line summaries replace them; its warnings still show. And the warnings about
# choices this project makes on purpose (in-memory data needs no workers; short epochs).
_QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric")
_EXPECTED_WARNINGS = (
    r".*does not have many workers.*",
    r".*smaller than the logging interval.*",
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    r".*Experiment logs directory .* exists and is not empty.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*Checkpoint directory .* exists and is not empty.*",
    r".*The `srun` command is available on your system but is not used.*",
    r".*The dirpath has changed from .* won't be reloaded.*",  # testing a checkpoint from another run folder
    # FreezeUnfreeze with train_bn: BatchNorm layers of the frozen body train from the start, so they are in
    # the optimizer already when their block is unfrozen (Lightning then adds the rest of the block)
    r"(?s).*The provided params to be frozen already exist within another group.*",
)


class _CurrentStdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (test runners and notebooks replace it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup(level: int = logging.INFO) -> None:
    """Entry points call this once: ``lab`` messages to stdout as plain lines, library chatter off."""
    if not log.handlers:
        handler = _CurrentStdout()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(level)
        log.propagate = False
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in _EXPECTED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


@rank_zero_only
def info(message: str) -> None:
    """A message for the user, printed once (on rank zero) when an entry point has called ``setup``."""
    log.info(message)


@rank_zero_only
def warn(message: str) -> None:
    log.warning(message)


@contextmanager
def user_errors(debug: bool = False):
    """Errors a user can act on (LabError, and ValueError from bad arguments) become one line on stderr
    and exit status 2 (130 for Ctrl-C); ``debug`` lets them through with their traceback."""
    from lab.utils.errors import LabError, RunInterrupted

    try:
        yield
    except (LabError, ValueError) as exc:
        if debug:
            raise
        prefix, code = getattr(exc, "prefix", "error"), getattr(exc, "exit_code", 2)
        hint = "" if code == 130 else "\n(run again with --debug for the traceback)"
        print(f"{prefix}: {exc}{hint}", file=sys.stderr)
        sys.exit(code)
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted: stopped by Ctrl-C; what was finished is kept, the rest was not written", file=sys.stderr)
        sys.exit(RunInterrupted.exit_code)
