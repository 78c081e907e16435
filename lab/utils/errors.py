"""Errors a user can act on.

Each carries one message that names the problem and the fix; the CLI prints it without a
traceback (pass ``--debug`` for one) and exits non-zero.
"""


class LabError(Exception):
    """Base class of every error the CLI reports as a one-line message."""


class DataNotFoundError(LabError, FileNotFoundError):
    """A dataset was looked for in every place and found in none."""


class CorruptDataError(LabError, ValueError):
    """A data file exists but does not hold what its format promises."""


class CheckpointMismatchError(LabError, ValueError):
    """A checkpoint does not fit the network it is loaded into."""


class NonFiniteLossError(LabError, FloatingPointError):
    """Training produced a NaN or infinite loss."""

    run_dir = None  # the folder of the run that diverged, when known (a study records the divergence)


class CheckpointWriteError(LabError):
    """A checkpoint could not be written (disk full, no permission); the previous one is intact."""


class RunInterrupted(LabError):
    """The user stopped a run (Ctrl-C); the message says where and how to continue."""

    exit_code = 130  # the shell's status for a process ended by SIGINT
    prefix = "interrupted"
