"""The numeric precision a run trains in, when its config does not say: bf16 autocast where the
hardware computes bf16 natively, else the safe choice of the device.

- CPU with AVX-512 BF16 or AMX: ``bf16-mixed``; any other CPU: ``32-true`` (bf16 would be emulated, slower).
- GPU with bf16 (Ampere and newer): ``bf16-mixed``; older GPUs: ``16-mixed``.
"""

from __future__ import annotations

from pathlib import Path

import torch

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (Linux); empty elsewhere, which chooses float32."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def uses_gpu(accelerator: str | None) -> bool:
    accelerator = str(accelerator or "auto")
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def choose_precision(accelerator: str | None, flags: set[str] | None = None, gpu_bf16: bool | None = None) -> str:
    """``flags`` and ``gpu_bf16`` default to this machine's (tests pass fakes)."""
    if uses_gpu(accelerator):
        bf16 = torch.cuda.is_bf16_supported() if gpu_bf16 is None else gpu_bf16
        return "bf16-mixed" if bf16 else "16-mixed"
    flags = cpu_flags() if flags is None else flags
    return "bf16-mixed" if any(f in flags for f in CPU_BF16_FLAGS) else "32-true"
