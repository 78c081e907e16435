"""How close a training step comes to the machine's limit: achieved GFLOP/s of one SGD step of the best CNN
and of LeNet-5 against a large matmul on the same device, in the same precision.

FLOPs of a step (forward + backward) are counted by ``torch.utils.flop_counter.FlopCounterMode`` (matmuls
and convolutions; elementwise work is not counted, so the ratio is a lower bound of the busy fraction).
The precision is the one runs train with on this device (lab/engine/precision.py). The three timings are
interleaved in every repeat.

    python -m benchmarks.bench_utilization [--repeats 5] [--steps 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.bench_precision import best_net
from lab.engine.precision import choose_precision
from lab.models import ConvNet
from lab.utils.bench_results import environment, write_section

MATMUL_SIZE = {"cpu": 4096, "cuda": 8192}  # square matmul large enough to reach the device's sustained peak


def autocast(device: str, precision: str):
    return torch.autocast(device, dtype=torch.bfloat16) if precision == "bf16-mixed" else nullcontext()


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def make_step(net: torch.nn.Module, batch: int, device: str, precision: str):
    """One SGD step on random channels-last 32 px images, as a callable."""
    net = net.to(device, memory_format=torch.channels_last).train()
    x = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)

    def step() -> None:
        with autocast(device, precision):
            loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def make_matmul(device: str, precision: str):
    dtype = torch.bfloat16 if precision == "bf16-mixed" else torch.float32
    size = MATMUL_SIZE[device]
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    return lambda: a @ b


def flops_of(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def median_seconds(fn, steps: int, device: str) -> float:
    times = []
    for _ in range(steps):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(args: argparse.Namespace, precision: str) -> tuple[dict[str, int], dict[str, list[float]]]:
    work = {
        f"matmul {MATMUL_SIZE[args.device]}x{MATMUL_SIZE[args.device]}": make_matmul(args.device, precision),
        "best CNN (batch 1024)": make_step(best_net(), 1024, args.device, precision),
        "LeNet-5 (batch 128)": make_step(ConvNet(), 128, args.device, precision),
    }
    flops = {name: flops_of(fn) for name, fn in work.items()}
    for fn in work.values():
        median_seconds(fn, 2, args.device)  # warm-up: kernels chosen, memory allocated
    gflops: dict[str, list[float]] = {name: [] for name in work}
    for r in range(args.repeats):
        print(f"repeat {r + 1}/{args.repeats}", flush=True)
        for name, fn in work.items():
            gflops[name].append(flops[name] / median_seconds(fn, args.steps, args.device) / 1e9)
    return flops, gflops


def report(args: argparse.Namespace, precision: str, flops: dict[str, int], gflops: dict[str, list[float]]) -> str:
    peak_name = next(iter(gflops))
    peak = statistics.median(gflops[peak_name])
    rows, shares = [], []
    for name, values in gflops.items():
        share = statistics.median(values) / peak
        spread = f"{min(values):.0f}-{max(values):.0f}"
        rows.append(f"| {name} | {flops[name] / 1e9:.2f} | {statistics.median(values):.0f} | {spread} | {share:.0%} |")
        if name != peak_name:
            shares.append(f"{name.split(' (')[0]} {statistics.median(values):.0f} GFLOP/s = {share:.0%}")
    return f"""## Utilization: achieved GFLOP/s of a training step against the device's matmul peak ({args.device})

`python -m benchmarks.bench_utilization --device {args.device} --steps {args.steps} --repeats {args.repeats}`
— {environment()}; precision {precision} (what runs train with here). FLOPs of one SGD step (forward and
backward) from `torch.utils.flop_counter` (matmuls and convolutions only); GFLOP/s from the median of
{args.steps} steps per repeat, {args.repeats} repeats interleaved. "of peak" is against the median of the
{peak_name} row, the same cores in the same precision.

| work | GFLOP per step | GFLOP/s (median) | repeats (min-max) | of peak |
| --- | ---: | ---: | --- | ---: |
{chr(10).join(rows)}

**Training step against the {peak:.0f} GFLOP/s {precision} matmul peak: {"; ".join(shares)}**
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat (median taken)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be >= 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here; use --device cpu")
    precision = choose_precision("gpu" if args.device == "cuda" else "cpu")
    flops, gflops = measure(args, precision)
    body = report(args, precision, flops, gflops)
    write_section(f"utilization-{args.device}", body)
    print(body)


if __name__ == "__main__":
    main()
