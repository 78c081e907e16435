"""Coursework part 2, section 3: fine-tune the CIFAR-10 ConvNet on the 5-class STL-10 subset.

    make finetune       # or: python -m lab.questions.finetune [--seeds 3] [--epochs N]

Three runs on the same split, budget and seeds: from scratch, head-only fine-tuning (the body
frozen throughout) and full fine-tuning (head alone for 5 epochs, then the body unfrozen at a tenth
of the rate: lab.callbacks.FreezeUnfreeze). The fine-tuned runs start from
checkpoints/convnet_cifar10.pt (`make cifar10-convnet`), whose 10-way output layer is replaced by a
5-way one (printed). Writes results/finetune/<run>/: finetune.json, table.md, val_curves.png.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from lab.errors import LabError
from lab.questions.common import base_parser, fit, new_run_dir, publish, run_main, write_json
from lab.questions.pretrain import TARGET
from lab.viz.metrics import read_epoch_metrics
from lab.viz.style import figure, save

VARIANTS = {
    "from scratch": ["stl10"],
    "head only (body frozen)": ["stl10", "stl10_head"],
    "full fine-tuning (unfreeze at epoch 5)": ["stl10", "stl10_finetune"],
}


def backbone_overrides(checkpoint: Path) -> list[str]:
    """The options the checkpoint's ConvNet was built with, so every variant builds the same network."""
    info_path = checkpoint.with_suffix(".json")
    if not checkpoint.is_file():
        raise LabError(f"{checkpoint} not found: run `make cifar10-convnet` first (or pass --checkpoint PATH).")
    options = json.loads(info_path.read_text()).get("backbone_options", {}) if info_path.is_file() else {}
    return [
        a
        for k, v in options.items()
        for a in (f"--model.backbone.init_args.{k}", v if isinstance(v, str) else json.dumps(v))
    ]


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--checkpoint", type=Path, default=TARGET, help="CIFAR-10 ConvNet weights to start from")
    args, cli_args = parser.parse_known_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    shared = backbone_overrides(args.checkpoint)
    epochs = ["--trainer.max_epochs", str(args.epochs)] if args.epochs else []
    out = new_run_dir("finetune")
    rows = []
    for variant, configs in VARIANTS.items():
        pretrained = ["--model.pretrained", str(args.checkpoint)] if len(configs) > 1 else []
        runs = []
        for seed in range(args.seeds):
            name = f"finetune/{configs[-1]}"
            cli = fit(configs, name, [*shared, *pretrained, *epochs, "--seed_everything", str(seed)], cli_args)
            metrics = read_epoch_metrics(cli.trainer.log_dir)
            runs.append({
                "seed": seed, "test_acc": float(cli.trainer.callback_metrics["test/acc"]),
                "val_acc": max(e.get("val/acc", 0.0) for e in metrics), "epochs": len(metrics),
                "val_curve": [e.get("val/acc") for e in metrics], "run_dir": cli.trainer.log_dir,
            })  # fmt: skip
        n_test = len(cli.datamodule.test_set)
        tests = [r["test_acc"] for r in runs]
        mean = statistics.mean(tests)
        rows.append({
            "variant": variant, "configs": configs, "runs": runs, "test_images": n_test,
            "test_acc_mean": mean, "test_acc_std": statistics.stdev(tests) if len(tests) > 1 else 0.0,
            "test_acc_se": math.sqrt(mean * (1 - mean) / n_test),
            "val_acc_mean": statistics.mean(r["val_acc"] for r in runs),
        })  # fmt: skip
    lines = [
        "| training | test acc (%) mean ± std over seeds | s.e. of one run (pts) | val acc (%) | epochs | seeds |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {100 * r['test_acc_mean']:.2f} ± {100 * r['test_acc_std']:.2f} | "
            f"{100 * r['test_acc_se']:.1f} | {100 * r['val_acc_mean']:.2f} | {r['runs'][0]['epochs']} | "
            f"{len(r['runs'])} |"
        )
    text = "\n".join(lines) + "\n"
    fig, ax = figure(size=(8, 4.8))
    for i, r in enumerate(rows):
        for j, run in enumerate(r["runs"]):
            x = range(1, len(run["val_curve"]) + 1)
            ax.plot(x, [100 * (v or math.nan) for v in run["val_curve"]], color=f"C{i}", alpha=0.9 if j == 0 else 0.35,
                    label=r["variant"] if j == 0 else None)  # fmt: skip
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, out / "val_curves.png", "STL-10 (5 classes, 32x32): validation accuracy, one line per seed")
    (out / "table.md").write_text(text)
    write_json(out / "finetune.json", {"rows": rows, "checkpoint": str(args.checkpoint)})
    print(text + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
