"""Coursework part 2, section 2.4: TwoLayerNet vs ConvNet, side by side, from the study's results.

    make compare-nets   # or: python -m lab.questions.compare_nets [--hparams-dir DIR] [--deeper-dir DIR]

Reads the latest results/hparams (and results/deeper if present); trains nothing. Writes
results/compare_nets/<run>/: compare.md (table + a comparison written from the numbers),
compare.json and compare.png (training curves of both best runs and accuracy vs learning rate).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lab.errors import LabError
from lab.questions import common
from lab.questions.common import new_run_dir, publish, run_main, write_json
from lab.viz.metrics import read_epoch_metrics
from lab.viz.style import figure, save


def summarise(hparams: dict, deeper: dict | None) -> dict:
    summary = {}
    for name, best in hparams["best"].items():
        sweep = sorted(
            (r["lr"], r["val_acc"])
            for r in hparams["rows"]
            if r["network"] == name and r["factor"] == "learning rate" and not r.get("diverged")
        )
        diverged = [r["value"] for r in hparams["rows"] if r["network"] == name and r.get("diverged")]
        entry = {
            "parameters": best["parameters"],
            "best_setting": f"{best['factor']} = {best['value']}",
            "best_val_acc": best["val_acc"],
            "best_test_acc": best["test_acc"],
            "best_lr_in_sweep": max(sweep, key=lambda p: p[1])[0] if sweep else None,
            "lr_sweep": sweep,
            "lr_sensitivity_pts": 100 * (max(v for _, v in sweep) - min(v for _, v in sweep)) if sweep else None,
            "run_dir": best["run_dir"],
            "diverged": diverged,
        }
        if deeper:
            by_variant = {r["variant"]: r for r in deeper["rows"] if r["network"] == name}
            if {"original", "+2 layers"} <= set(by_variant):
                entry["deeper_gain_pts"] = 100 * (
                    by_variant["+2 layers"]["test_acc_mean"] - by_variant["original"]["test_acc_mean"]
                )
        summary[name] = entry
    return summary


def explain(s: dict) -> str:
    mlp, cnn = s["TwoLayerNet"], s["ConvNet"]
    ratio = mlp["parameters"] / cnn["parameters"]
    text = (
        f"TwoLayerNet has {mlp['parameters']:,} trainable parameters, {ratio:.0f}x as many as ConvNet's "
        f"{cnn['parameters']:,}, yet ConvNet reaches {100 * cnn['best_val_acc']:.1f}% validation accuracy against "
        f"{100 * mlp['best_val_acc']:.1f}% "
        f"(test {100 * cnn['best_test_acc']:.1f}% vs {100 * mlp['best_test_acc']:.1f}%). "
        "The fully connected net treats the 3,072 pixel values as an unordered vector: it must learn every "
        "translated copy of a pattern separately, and most of its weights sit in the first layer. ConvNet shares "
        "small local filters across positions and pools them, building in locality and translation invariance, "
        "so its few parameters generalise better."
    )
    if mlp["lr_sensitivity_pts"] is not None and cnn["lr_sensitivity_pts"] is not None:
        text += (
            f" Over the learning-rate sweep the validation accuracy of TwoLayerNet spans "
            f"{mlp['lr_sensitivity_pts']:.1f} points (best at lr {mlp['best_lr_in_sweep']:g}) and that of ConvNet "
            f"{cnn['lr_sensitivity_pts']:.1f} points (best at lr {cnn['best_lr_in_sweep']:g})."
        )
    for name, e in (("TwoLayerNet", mlp), ("ConvNet", cnn)):
        if e["diverged"]:
            text += f" {name} diverged (the loss became infinite) at: {', '.join(e['diverged'])}."
    if "deeper_gain_pts" in mlp and "deeper_gain_pts" in cnn:
        text += (
            f" Adding two layers changed mean test accuracy by {mlp['deeper_gain_pts']:+.1f} points for TwoLayerNet "
            f"and {cnn['deeper_gain_pts']:+.1f} points for ConvNet."
        )
    return text


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hparams-dir", type=Path, default=None, help="default: results/hparams/latest")
    parser.add_argument("--deeper-dir", type=Path, default=None, help="default: results/deeper/latest")
    args = parser.parse_args(argv)
    args.hparams_dir = args.hparams_dir or common.RESULTS_ROOT / "hparams" / "latest"
    args.deeper_dir = args.deeper_dir or common.RESULTS_ROOT / "deeper" / "latest"
    hparams_file = args.hparams_dir / "hparams.json"
    if not hparams_file.exists():
        raise LabError(f"{hparams_file} not found: run `make hparams` first (compare-nets reads its results).")
    hparams = json.loads(hparams_file.read_text())
    if not {"TwoLayerNet", "ConvNet"} <= set(hparams["best"]):
        raise LabError(f"{hparams_file} lacks one of the two networks: run `make hparams` for both.")
    deeper_file = args.deeper_dir / "deeper.json"
    deeper = json.loads(deeper_file.read_text()) if deeper_file.exists() else None
    s = summarise(hparams, deeper)
    out = new_run_dir("compare_nets")
    fig, axes = figure(1, 3, size=(17, 4.8))
    for name, entry in s.items():
        metrics = read_epoch_metrics(entry["run_dir"])
        x = [e["epoch"] + 1 for e in metrics]
        axes[0].plot(x, [e.get("train/loss") for e in metrics], marker="o", markersize=3, label=name)
        axes[1].plot(x, [100 * e.get("val/acc", float("nan")) for e in metrics], marker="o", markersize=3, label=name)
        if entry["lr_sweep"]:
            lrs, accs = zip(*entry["lr_sweep"])
            axes[2].plot(lrs, [100 * a for a in accs], marker="o", label=name)
    axes[0].set(title="training loss (best run)", xlabel="epoch", ylabel="cross-entropy (nats)")
    axes[1].set(title="validation accuracy (best run)", xlabel="epoch", ylabel="accuracy (%)")
    axes[2].set(
        title="sensitivity to learning rate", xlabel="peak learning rate (log scale)", ylabel="best val acc (%)"
    )
    axes[2].set_xscale("log")
    if not any(e["lr_sweep"] for e in s.values()):
        axes[2].text(
            0.5, 0.5, "no learning-rate sweep\nin this study", ha="center", va="center", transform=axes[2].transAxes
        )
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    save(fig, out / "compare.png", "TwoLayerNet vs ConvNet on CIFAR-10")
    lines = [
        "| network | parameters | best setting | best val acc (%) | its test acc (%) | best lr in sweep | "
        "lr sensitivity (pts) | +2 layers (test pts) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, e in s.items():
        gain = f"{e['deeper_gain_pts']:+.1f}" if "deeper_gain_pts" in e else "not run"
        sens = f"{e['lr_sensitivity_pts']:.1f}" if e["lr_sensitivity_pts"] is not None else "–"
        best_lr = f"{e['best_lr_in_sweep']:g}" if e["best_lr_in_sweep"] is not None else "no sweep"
        lines.append(
            f"| {name} | {e['parameters']:,} | {e['best_setting']} | {100 * e['best_val_acc']:.2f} | "
            f"{100 * e['best_test_acc']:.2f} | {best_lr} | {sens} | {gain} |"
        )
    text = "# TwoLayerNet vs ConvNet\n\n" + "\n".join(lines) + "\n\n" + explain(s) + "\n"
    (out / "compare.md").write_text(text)
    write_json(out / "compare.json", s)
    print(text + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
