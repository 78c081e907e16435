"""Fixed cost of a training run once the process is up: everything `lab.engine.train.run` does besides the
training and validation loops (building the CLI and the run folder, W&B offline start and finish,
config.yaml and run.json, checkpoint writes, the test of the best checkpoint, the summary).

    python -m benchmarks.bench_fixed_cost [--repeats 5]

A LeNet-5 fit of 1 epoch on 5,000 images, repeated in one process after a warm-up run (imports and the
dataset decoded once, as in a question's process); W&B as a user gets it (offline unless logged in).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import lightning as L

from lab.engine.train import run
from lab.utils.bench_results import environment, write_section


class LoopTimer(L.Callback):
    """Seconds spent inside the training and validation loops."""

    def __init__(self):
        self.seconds, self._start = 0.0, 0.0

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):  # validation runs inside the training epoch
        self.seconds += time.perf_counter() - self._start


def one_run(root: str, index: int) -> tuple[float, float]:
    timer = LoopTimer()
    layers = {
        "trainer": {"max_epochs": 1, "enable_progress_bar": False},
        "run": {"root": root},
        "data": {"init_args": {"train_subset": 5000}},
    }
    start = time.perf_counter()
    result = run(["lenet", layers, {"trainer": {"callbacks": [timer]}}], name=f"fixed_cost/{index}")
    wall = time.perf_counter() - start
    loops = next(c for c in result.trainer.callbacks if isinstance(c, LoopTimer)).seconds
    return wall, loops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        one_run(root, -1)  # warm-up: imports, the dataset decoded, W&B's service started
        measured = [one_run(root, i) for i in range(args.repeats)]
    fixed = [wall - loops for wall, loops in measured]
    rows = "\n".join(f"| {i + 1} | {w:.2f} | {lp:.2f} | {w - lp:.2f} |" for i, (w, lp) in enumerate(measured))
    body = f"""## Fixed cost of a training run (process already up)

`python -m benchmarks.bench_fixed_cost --repeats {args.repeats}` — {environment()}.
`lab.engine.train.run` of LeNet-5 for 1 epoch on 5,000 images (W&B offline); fixed cost = wall time of the
run minus the time inside the training and validation loops.

| run | wall (s) | loops (s) | fixed cost (s) |
| ---: | ---: | ---: | ---: |
{rows}

**Fixed cost: median {statistics.median(fixed):.2f} s** (range {min(fixed):.2f}-{max(fixed):.2f} s; target: <= 2 s).
"""
    write_section("fixed_cost", body)
    print(body)


if __name__ == "__main__":
    main()
