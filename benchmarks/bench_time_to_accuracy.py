"""Time-to-accuracy of the hand-written CNN through the framework, on this machine.

For each budget config, trains with several seeds through `python -m lab fit` (in-process, data
decoded once) and records the training seconds (validation excluded) until validation accuracy first
reaches 80 / 85 / 90 %, the total training time and the final test accuracy of the best checkpoint.

    python -m benchmarks.bench_time_to_accuracy [--configs fast90 fast300 best] [--seeds 3] [--best-seeds 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.results_file import environment, write_section
from lab import train

THRESHOLDS = ("0.80", "0.85", "0.90")
HEADER = (
    "| config | seeds | training time (s) | time to 80% (s) | time to 85% (s) | time to 90% (s) "
    "| best val acc (%) | test acc (%) | test acc per seed (%) |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def run(config: str, seed: int, accelerator: str) -> dict:
    result = train.run(
        [
            config,
            {
                "seed_everything": seed,
                "trainer": {"accelerator": accelerator, "enable_progress_bar": False},
                "run": {"wandb": "disabled"},
            },
        ],
        name=f"bench_cpu/{config}",
    )
    timing = result.time_to_accuracy
    return {
        "seed": seed,
        "test_acc": result.test["test/acc"],
        "train_seconds": timing["history"][-1]["train_seconds"],
        "best_val_acc": max(h["val/acc"] for h in timing["history"]),
        "reached": {k: v["train_seconds"] for k, v in timing["reached"].items()},
        "run_dir": str(result.run_dir),
    }


def _mean_std(values: list[float], fmt: str) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.mean(values), fmt)} ± {format(statistics.stdev(values), fmt)}"


def row(config: str, runs: list[dict]) -> str:
    cells = [config, str(len(runs)), _mean_std([r["train_seconds"] for r in runs], ".1f")]
    for t in THRESHOLDS:
        hits = [r["reached"][t] for r in runs if t in r["reached"]]
        cells.append(f"{_mean_std(hits, '.1f')} ({len(hits)}/{len(runs)})")
    cells.append(_mean_std([100 * r["best_val_acc"] for r in runs], ".2f"))
    cells.append(_mean_std([100 * r["test_acc"] for r in runs], ".2f"))
    cells.append(", ".join(f"{100 * r['test_acc']:.1f}" for r in runs))
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["fast90", "fast300", "best"])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per config")
    parser.add_argument("--best-seeds", type=int, default=1, help="seeds for the 20-minute 'best' config")
    parser.add_argument("--accelerator", default="cpu")
    args = parser.parse_args()
    rows, raw = [], {}
    for config in args.configs:
        seeds = args.best_seeds if config == "best" else args.seeds
        raw[config] = [run(config, seed, args.accelerator) for seed in range(seeds)]
        rows.append(row(config, raw[config]))
        print(rows[-1], flush=True)
    out = Path(__file__).resolve().parent / f"time_to_accuracy_{args.accelerator}.json"
    out.write_text(json.dumps(raw, indent=2) + "\n")
    body = f"""## Time to accuracy, hand-written CNN ({args.accelerator})

`python -m benchmarks.bench_time_to_accuracy --configs {" ".join(args.configs)} --seeds {args.seeds} \
--best-seeds {args.best_seeds} --accelerator {args.accelerator}` — {environment()}.
Training seconds exclude validation; "time to X" is the training time at the end of the first epoch
whose validation accuracy (5,000 held-out training images, flip TTA) reached X, mean ± std over the
seeds that reached it. Test accuracy: the best checkpoint on the 1,000 exact CIFAR-10 test images
(standard error about 1 point). Raw numbers: `benchmarks/{out.name}`.

{HEADER}
{chr(10).join(rows)}
"""
    write_section(f"time_to_accuracy_{args.accelerator}", body)
    print(body)


if __name__ == "__main__":
    main()
