"""bf16 autocast vs float32 on this CPU: one training step (forward, backward, SGD) of the `make best`
network and of LeNet-5, the two alternated in one process.

lab/engine/precision.py picks ``bf16-mixed`` on any CPU with AVX-512 BF16 or AMX; this bench checks that choice
on the machine at hand (without AMX, oneDNN may not run bf16 convolutions faster than float32).

    python -m benchmarks.bench_precision [--steps 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext

import torch
import yaml

from lab.engine.precision import CPU_BF16_FLAGS, cpu_flags
from lab.models import ConvNet, CourseCNN
from lab.utils.bench_results import environment, write_section
from lab.utils.paths import REPO_ROOT

PRECISIONS = ("32-true", "bf16-mixed")


def best_net() -> CourseCNN:
    options = yaml.safe_load((REPO_ROOT / "experiments" / "best.yaml").read_text())["model"]["net"]["init_args"]
    return CourseCNN(**options)


def step_seconds(net: torch.nn.Module, batch: int, precision: str, steps: int) -> float:
    """Median seconds of one SGD step over ``steps`` steps (channels-last input, as the runs train)."""
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    cast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16-mixed" else nullcontext()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        with cast:
            loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(args: argparse.Namespace) -> dict[tuple[str, str], list[float]]:
    nets = {"best CNN (batch 1024)": (best_net(), 1024), "LeNet-5 (batch 128)": (ConvNet(), 128)}
    for net, _ in nets.values():
        net.to(memory_format=torch.channels_last).train()
    times = {(name, p): [] for name in nets for p in PRECISIONS}
    for net, batch in nets.values():
        for p in PRECISIONS:
            step_seconds(net, batch, p, 2)  # warm-up: oneDNN picks its kernels per precision
    for r in range(args.repeats):
        print(f"repeat {r + 1}/{args.repeats}", flush=True)
        for name, (net, batch) in nets.items():
            for p in PRECISIONS:
                times[name, p].append(step_seconds(net, batch, p, args.steps))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat (median taken)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = measure(args)
    rows, verdicts = [], []
    for name in dict.fromkeys(n for n, _ in times):
        fp32, bf16 = (times[name, p] for p in PRECISIONS)
        ratios = [b / f for f, b in zip(fp32, bf16, strict=True)]
        for p in PRECISIONS:
            ms = [1e3 * x for x in times[name, p]]
            rows.append(f"| {name} | {p} | {statistics.median(ms):.1f} | {', '.join(f'{x:.1f}' for x in ms)} |")
        verdicts.append(
            f"{name}: bf16 / fp32 = {statistics.median(ratios):.2f}x (per repeat {min(ratios):.2f}-{max(ratios):.2f}x)"
        )
    flags = sorted(f for f in CPU_BF16_FLAGS if f in cpu_flags()) or ["none"]
    body = f"""## bf16 autocast vs float32 on the CPU (one training step)

`python -m benchmarks.bench_precision --steps {args.steps} --repeats {args.repeats}` — {environment()};
bf16 flags of this CPU: {", ".join(flags)}. One SGD step (forward, backward, update) on random
channels-last 32 px images, median of {args.steps} steps per repeat; precisions and networks alternated
in each repeat after a warm-up. A ratio below 1 means bf16 autocast is faster.

| network | precision | median step (ms) | repeats (ms) |
| --- | --- | ---: | --- |
{chr(10).join(rows)}

**{"; ".join(verdicts)}**
"""
    write_section("precision", body)
    print(body)


if __name__ == "__main__":
    main()
