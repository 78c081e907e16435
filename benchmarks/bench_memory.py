"""Peak memory of the in-memory CIFAR-10 data module at 50,000 and 500,000 training images.

Each size runs in a fresh process: generated files in the official layout are loaded, split, and
one whole training epoch is served and prepared (float, flip + translate, normalize) on the CPU.
Peak RSS minus the same process's RSS after imports is what the data costs; memory use is
proportional when that cost per image stays the same at 10x the images.

    python -m benchmarks.bench_memory [--sizes 50000 500000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab.utils.bench_results import environment, write_section

IMAGE_BYTES = 3 * 32 * 32


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM; unlike ru_maxrss it does not start from the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(data_dir: str) -> None:
    """Load, split and serve one epoch; print the RSS numbers as JSON."""
    import torch

    from lab.data import CIFAR10DataModule
    from lab.data.augment import AugmentConfig

    torch.set_num_threads(2)
    baseline = _peak_mb()
    dm = CIFAR10DataModule(
        data_dir=data_dir, batch_size=512, val_size=5000, download=False, augment=AugmentConfig(flip=True, translate=4)
    )
    start = time.perf_counter()
    dm.setup("fit")
    loaded = _peak_mb()
    batches = 0
    for images, _ in dm.train_dataloader():
        dm.prepare_batch(images, training=True)
        batches += 1
    print(
        json.dumps(
            {
                "train_images": len(dm.train_set),
                "baseline_mb": baseline,
                "after_setup_mb": loaded,
                "peak_mb": _peak_mb(),
                "batches": batches,
                "seconds": time.perf_counter() - start,
            }
        )
    )


def measure(size: int) -> dict:
    from tests.synthetic import write_cifar10

    with tempfile.TemporaryDirectory() as tmp:
        write_cifar10(tmp, per_batch=size // 5, test_count=1000)
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_memory", "--child", tmp],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["images"] = size
    result["data_mb"] = size * IMAGE_BYTES / 2**20
    result["cost_mb"] = result["peak_mb"] - result["baseline_mb"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 500_000])
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    rows = []
    for size in args.sizes:
        r = measure(size)
        rows.append(r)
        ratio = r["cost_mb"] / r["data_mb"]
        print(
            f"{size:>9,} images: peak RSS {r['peak_mb']:.0f} MB (after imports {r['baseline_mb']:.0f} MB), "
            f"data {r['data_mb']:.0f} MB uint8, cost {r['cost_mb']:.0f} MB = {ratio:.2f}x the data"
        )
    lines = [
        "## Memory: in-memory CIFAR-10 data module",
        "",
        f"`make bench-memory` ({environment()}). Fresh process per size: load the generated official-layout files, "
        "split, serve and prepare one training epoch (batch 512, flip + translate) on the CPU.",
        "",
        "| training files (images) | uint8 data (MB) | RSS after imports (MB) | peak RSS (MB) "
        "| data cost: peak - imports (MB) | cost / data |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['images']:,} | {r['data_mb']:.0f} | {r['baseline_mb']:.0f} | {r['peak_mb']:.0f} | "
            f"{r['cost_mb']:.0f} | {r['cost_mb'] / r['data_mb']:.2f}x |"
        )
    if len(rows) >= 2:
        growth = rows[-1]["cost_mb"] / rows[0]["cost_mb"]
        lines += ["", f"**{rows[-1]['images'] // rows[0]['images']}x the images cost {growth:.1f}x the memory.**"]
    write_section("memory", "\n".join(lines))


if __name__ == "__main__":
    main()
