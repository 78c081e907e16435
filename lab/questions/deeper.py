"""Coursework part 2, section 2.4: add 2 layers to TwoLayerNet and to ConvNet and compare.

    make deeper         # or: python -m lab.questions.deeper [--seeds 3] [--epochs N]

Both networks train with the best configuration of the latest `make hparams` run (its config and
overrides), against a deeper version with 2 more layers, over several seeds (mean ± std):
- TwoLayerNet: hidden sizes [512] -> [512, 256, 128] (two more Linear + ReLU layers);
- ConvNet: 2 extra 3x3 convolutions (64 channels, one after C1 and one after C3, within the
  coursework's limit of 3) -> 2 more conv layers.
Writes results/deeper/<run>/: deeper.json, table.md, curves.png.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from lab.models import count_parameters
from lab.questions import common
from lab.questions.common import base_parser, fit, new_run_dir, publish, run_main, write_json
from lab.viz.curves import plot_curves
from lab.viz.metrics import read_epoch_metrics

DEEPER = {
    "TwoLayerNet": ["--model.backbone.init_args.hidden_sizes", "[512, 256, 128]"],
    "ConvNet": ["--model.backbone.init_args.extra_convs", "2", "--model.backbone.init_args.extra_channels", "64"],
}
FALLBACK = {"TwoLayerNet": ("twolayer", []), "ConvNet": ("lenet", [])}


def best_configs(hparams_dir: Path | None) -> dict[str, tuple[str, list[str], str]]:
    """network -> (base config, overrides, where it came from), from results/hparams/latest."""
    path = (hparams_dir or common.RESULTS_ROOT / "hparams" / "latest") / "hparams.json"
    if not path.exists():
        print(f"[deeper] no hparams results at {path}; using the base configs (run `make hparams` first for the best)")
        return {k: (*v, "base config (no hparams run)") for k, v in FALLBACK.items()}
    best = json.loads(path.read_text())["best"]
    found = {k: (v["config"], v["overrides"], f"hparams best: {v['factor']} = {v['value']}") for k, v in best.items()}
    return {k: found.get(k, (*FALLBACK[k], "base config")) for k in FALLBACK}


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hparams-dir", type=Path, default=None, help="a results/hparams/<run> folder")
    args, cli_args = parser.parse_known_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    epochs = ["--trainer.max_epochs", str(args.epochs)] if args.epochs else []
    out = new_run_dir("deeper")
    rows, curves = [], {}
    for network, (config, overrides, source) in best_configs(args.hparams_dir).items():
        for variant, extra in (("original", []), ("+2 layers", DEEPER[network])):
            runs = []
            for seed in range(args.seeds):
                name = f"deeper/{network}_{'deeper' if extra else 'original'}"
                cli = fit(config, name, [*overrides, *epochs, *extra, "--seed_everything", str(seed)], cli_args)
                metrics = read_epoch_metrics(cli.trainer.log_dir)
                runs.append(
                    {
                        "seed": seed,
                        "val_acc": max(e.get("val/acc", 0.0) for e in metrics),
                        "test_acc": float(cli.trainer.callback_metrics["test/acc"]),
                        "run_dir": cli.trainer.log_dir,
                    }
                )
                if seed == 0:
                    curves[f"{network} {variant}"] = metrics
            val, test = _stats([r["val_acc"] for r in runs]), _stats([r["test_acc"] for r in runs])
            rows.append({
                "network": network, "variant": variant, "source": source, "overrides": [*overrides, *extra],
                "parameters": count_parameters(cli.model.backbone), "val_acc_mean": val[0], "val_acc_std": val[1],
                "test_acc_mean": test[0], "test_acc_std": test[1], "runs": runs,
            })  # fmt: skip
    lines = [
        "| network | variant | parameters | val acc (%) | test acc (%) | seeds | configuration |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['variant']} | {r['parameters']:,} | {100 * r['val_acc_mean']:.2f} ± "
            f"{100 * r['val_acc_std']:.2f} | {100 * r['test_acc_mean']:.2f} ± {100 * r['test_acc_std']:.2f} | "
            f"{len(r['runs'])} | {r['source']} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "table.md").write_text(text)
    write_json(out / "deeper.json", {"rows": rows})
    plot_curves(curves, out / "curves.png", "Original vs +2 layers (seed 0)")
    print(text + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
