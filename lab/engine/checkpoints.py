"""Checkpoints that can be trusted: last.ckpt is the end of the last finished epoch, and a save never leaves a
truncated file in place of a good one. What a checkpoint holds, and reading it with one clear error when it
cannot be, is lab/models/pretrained.py's.

- ``LastCheckpoint``: last.ckpt after every training epoch (Lightning's ``save_last`` writes it only when
  the best checkpoint improves, so it would freeze at the best epoch).
- ``AtomicCheckpointIO``: writes beside the target, fsyncs, then renames over it; a failed write (disk
  full) removes its temporary file and leaves the previous checkpoint as it was.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from lab.utils.errors import CheckpointWriteError


class LastCheckpoint(ModelCheckpoint):
    """checkpoints/last.ckpt, rewritten at the end of every training epoch (after validation and after the
    other callbacks' epoch-end hooks, so that their state, e.g. the epoch history, includes the epoch)."""

    def __init__(self) -> None:
        super().__init__(
            filename="last", monitor=None, save_top_k=1, save_on_train_epoch_end=True, enable_version_counter=False
        )


class AtomicCheckpointIO(TorchCheckpointIO):
    """Saves through a temporary file in the checkpoint's own folder, renamed over the target only once it
    is complete and on disk: the target is always either the previous checkpoint or the new one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            return super().save_checkpoint(checkpoint, path, storage_options)
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(buffer.getbuffer(), target, self.write_bytes)
        except OSError as exc:
            raise CheckpointWriteError(_write_failure(target, exc)) from exc

    @staticmethod
    def write_bytes(data: memoryview, file) -> None:
        """Writes ``data`` to the open temporary ``file`` (tests replace it to simulate a full disk)."""
        file.write(data)


def write_atomically(data: memoryview, target: Path, write) -> None:
    """``write(data, file)`` into a temporary file beside ``target``, fsync, then os.replace; the temporary
    file is removed when anything fails."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with open(temporary, "wb") as file:
            write(data, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_failure(target: Path, exc: OSError) -> str:
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    problem = "the disk is full" if full else exc.strerror or str(exc)
    kept = f"{target} still holds the previous checkpoint" if target.exists() else "no checkpoint was written"
    folder = target.parent
    fix = f"free space in {folder} (or give --run.root another disk)" if full else f"make {folder} writable"
    return f"could not save checkpoint {target}: {problem}; {kept}. Then {fix} and resume with --ckpt_path last."
