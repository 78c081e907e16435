"""NumPy batch norm vs nn.BatchNorm1d: forward + backward time on the CPU, float32.

The two are timed alternately in one process; each number is the median of REPEATS rounds, each
round the mean of enough calls to take about 0.2 s.

    python -m benchmarks.bench_numpy_bn [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from lab.numpy_bn import BatchNormState, batchnorm_backward, batchnorm_forward_train
from lab.utils.bench_results import environment, write_section

SHAPES = [(256, 512), (4096, 1024)]


def numpy_step(x, dy, gamma, beta, state):
    _, cache = batchnorm_forward_train(x, gamma, beta, state)
    batchnorm_backward(dy, cache)


def torch_step(x, dy, layer):
    x.grad = None
    layer(x).backward(dy)


def _time(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def bench(shape, repeats: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)
    gamma, beta = np.ones(shape[1], np.float32), np.zeros(shape[1], np.float32)
    state = BatchNormState.create(shape[1], dtype=np.float32)
    layer = torch.nn.BatchNorm1d(shape[1]).train()
    xt, dyt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dy)
    ours = lambda: numpy_step(x, dy, gamma, beta, state)  # noqa: E731
    theirs = lambda: torch_step(xt, dyt, layer)  # noqa: E731
    calls = max(3, int(0.2 / max(_time(ours, 3), 1e-6)))
    times_np, times_torch = [], []
    for _ in range(repeats):
        times_np.append(_time(ours, calls))
        times_torch.append(_time(theirs, calls))
    return statistics.median(times_np), statistics.median(times_torch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rows, ratios = [], []
    for shape in SHAPES:
        t_np, t_torch = bench(shape, args.repeats)
        ratios.append(t_np / t_torch)
        rows.append(f"| {shape[0]} x {shape[1]} | {t_np * 1e3:.3f} | {t_torch * 1e3:.3f} | **{t_np / t_torch:.2f}x** |")
    body = f"""## NumPy batch norm vs nn.BatchNorm1d (forward + backward, float32, CPU)

`python -m benchmarks.bench_numpy_bn --repeats {args.repeats}` — {environment()}; NumPy {np.__version__}.

| input (B x C) | NumPy (ms) | PyTorch (ms) | NumPy / PyTorch |
| --- | ---: | ---: | ---: |
{chr(10).join(rows)}

**NumPy / PyTorch: {min(ratios):.2f}-{max(ratios):.2f}x** (medians of {args.repeats} repeats per size; target <= 2x).
"""
    write_section("numpy_bn", body)
    print(body)


if __name__ == "__main__":
    main()
