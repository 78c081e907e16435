"""Coursework part 2, section 2.4: hyperparameter study of TwoLayerNet and ConvNet.

    make hparams          # default study (~25 min on 2 CPU cores); FULL=1 adds the larger grid
    python -m lab.questions.hparams [--full] [--epochs N] [--networks ConvNet] [CLI overrides...]

The study is defined in experiments/hparams_study.yaml: one factor at a time around each network's
base config (learning rate, batch size, epochs, optimizer, weight decay, augmentation, batch norm).
Lightning's learning-rate finder (Tuner.lr_find) is run first for each network to show where the
usable range lies. The best configuration of each network is picked by validation accuracy only.
Writes results/hparams/<run>/: hparams.json, table.md, lr_finder.png, acc_vs_lr.png, best_curves.png.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import yaml
from lightning.pytorch.tuner import Tuner

from lab.cli import build_cli
from lab.errors import NonFiniteLossError
from lab.models import count_parameters
from lab.questions.common import (
    EXPERIMENTS,
    base_parser,
    fit,
    new_run_dir,
    publish,
    run_main,
    smoke_overrides,
    write_json,
)
from lab.viz.curves import plot_curves
from lab.viz.metrics import read_epoch_metrics
from lab.viz.style import figure, save

STUDY = EXPERIMENTS / "hparams_study.yaml"


def load_study(full: bool, path: Path = STUDY) -> dict:
    study = yaml.safe_load(path.read_text())
    runs = {("base", "-"): []}
    for factor, values in study["default"].items():
        for value, overrides in values.items():
            runs[(factor, str(value))] = [str(o) for o in overrides]
    if full:
        grid = study["full"]
        for lr, bs, bn in itertools.product(grid["learning rate"], grid["batch size"], grid["batch norm"]):
            runs[("full grid", f"lr {lr}, batch {bs}, BN {bn}")] = [
                "--model.lr", lr, "--data.init_args.batch_size", bs, "--model.backbone.init_args.batch_norm", bn,
                "--trainer.max_epochs", str(grid["epochs"]),
            ]  # fmt: skip
    return {"epochs": study["epochs"], "networks": study["networks"], "runs": runs}


def lr_finder(config: str, cli_args: list[str]) -> dict:
    """Tuner.lr_find on the network's base config: the loss-vs-lr sweep and its suggestion."""
    cli = build_cli(
        ["--config", str(EXPERIMENTS / f"{config}.yaml"), "--run.name", f"hparams/lr_find_{config}",
         "--run.wandb", "disabled", *smoke_overrides(), *cli_args],
        run=False,
    )  # fmt: skip
    steps = 30 if smoke_overrides() else 100
    finder = Tuner(cli.trainer).lr_find(
        cli.model, datamodule=cli.datamodule, min_lr=1e-4, max_lr=1.0, num_training=steps, update_attr=False
    )
    return {"lr": finder.results["lr"], "loss": finder.results["loss"], "suggestion": finder.suggestion()}


def table(rows: list[dict]) -> str:
    lines = [
        "| network | factor | value | best val acc (%) | test acc (%) | epochs | wall time (s) | parameters |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        mark = " **(best)**" if r.get("best") else ""
        if r.get("diverged"):
            lines.append(f"| {r['network']} | {r['factor']} | {r['value']} | diverged (loss became inf/NaN) | – | – | "
                         f"{r['seconds']:.0f} | – |")  # fmt: skip
            continue
        lines.append(
            f"| {r['network']} | {r['factor']} | {r['value']}{mark} | {100 * r['val_acc']:.2f} | "
            f"{100 * r['test_acc']:.2f} | {r['epochs']} | {r['seconds']:.0f} | {r['parameters']:,} |"
        )
    return "\n".join(lines) + "\n"


def plot_lr_finder(finders: dict, path: Path) -> None:
    fig, ax = figure()
    for name, f in finders.items():
        hint = f"suggestion {f['suggestion']:.3g}" if f["suggestion"] else "no suggestion: too few points"
        ax.plot(f["lr"], f["loss"], label=f"{name} ({hint})")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate (log scale)", ylabel="training loss, smoothed (nats)")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, path, "Lightning LR finder: loss while the learning rate grows (SGD, 100 steps)")


def plot_acc_vs_lr(rows: list[dict], path: Path) -> None:
    fig, ax = figure()
    for name in dict.fromkeys(r["network"] for r in rows):
        points = sorted(
            (float(r["value"]), 100 * r["val_acc"])
            for r in rows
            if not r.get("diverged")
            if r["network"] == name and r["factor"] == "learning rate"
        )
        if points:
            ax.plot(*zip(*points), marker="o", label=name)
    ax.set_xscale("log")
    ax.set(xlabel="peak learning rate (SGD + one-cycle, log scale)", ylabel="best validation accuracy (%)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no learning-rate factor in this study", ha="center", va="center", transform=ax.transAxes)
    save(fig, path, "Validation accuracy against learning rate")


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run the larger grid (FULL=1)")
    parser.add_argument(
        "--study", type=Path, default=STUDY, help="the study's YAML (default: experiments/hparams_study.yaml)"
    )
    parser.add_argument("--networks", nargs="+", default=None, help="subset of the study's networks")
    parser.add_argument("--factors", nargs="+", default=None, help="subset of the study's factors (base always runs)")
    args, cli_args = parser.parse_known_args(argv)
    study = load_study(args.full, args.study)
    networks = {k: v for k, v in study["networks"].items() if not args.networks or k in args.networks}
    if not networks:
        parser.error(f"--networks must name some of {list(study['networks'])}")
    if args.factors:
        unknown = set(args.factors) - {factor for factor, _ in study["runs"]}
        if unknown:
            parser.error(f"unknown --factors {sorted(unknown)}; the study has {sorted({f for f, _ in study['runs']})}")
        study["runs"] = {k: v for k, v in study["runs"].items() if k[0] in args.factors or k[0] == "base"}
    epochs = str(args.epochs or study["epochs"])
    out = new_run_dir("hparams")
    finders = {name: lr_finder(config, cli_args) for name, config in networks.items()}
    plot_lr_finder(finders, out / "lr_finder.png")
    rows, curves = [], {}
    for (name, config), ((factor, value), overrides) in itertools.product(networks.items(), study["runs"].items()):
        run_name = f"hparams/{config}/{factor}={value}".replace(" ", "_")
        start = time.perf_counter()
        try:
            cli = fit(config, run_name, ["--trainer.max_epochs", epochs, *overrides], cli_args, exit_on_error=False)
        except NonFiniteLossError as exc:  # a diverging setting is a result of the study, not its end
            print(f"[hparams] {name} {factor}={value} diverged: {exc}")
            rows.append(
                {"network": name, "factor": factor, "value": value, "overrides": overrides, "val_acc": 0.0,
                 "test_acc": math.nan, "epochs": 0, "seconds": time.perf_counter() - start, "parameters": 0,
                 "lr": None, "run_dir": None, "config": config, "diverged": str(exc)}
            )  # fmt: skip
            continue
        seconds = time.perf_counter() - start
        metrics = read_epoch_metrics(cli.trainer.log_dir)
        rows.append({
            "network": name, "factor": factor, "value": value, "overrides": overrides,
            "val_acc": max(e.get("val/acc", 0.0) for e in metrics),
            "test_acc": float(cli.trainer.callback_metrics["test/acc"]),
            "epochs": len(metrics), "seconds": seconds, "parameters": count_parameters(cli.model.backbone),
            "lr": cli.model.hparams.lr, "run_dir": cli.trainer.log_dir, "config": config,
        })  # fmt: skip
        curves[(name, factor, value)] = metrics
    best = {}
    for name in networks:
        candidates = [r for r in rows if r["network"] == name and not r.get("diverged")]
        winner = max(candidates, key=lambda r: r["val_acc"])  # validation only, never test
        winner["best"] = True
        best[name] = winner
    lr_spread = {
        name: [
            100 * r["val_acc"]
            for r in rows
            if r["network"] == name and r["factor"] == "learning rate" and not r.get("diverged")
        ]
        for name in networks
    }
    plot_acc_vs_lr(rows, out / "acc_vs_lr.png")
    plot_curves(
        {f"{n}: {b['factor']} = {b['value']}": curves[(n, b["factor"], b["value"])] for n, b in best.items()},
        out / "best_curves.png", "Training curves of the best run of each network",
    )  # fmt: skip
    write_json(out / "hparams.json", {
        "rows": rows, "best": best, "lr_finder": {k: {"suggestion": v["suggestion"]} for k, v in finders.items()},
        "lr_sensitivity_pts": {k: (max(v) - min(v)) if v else math.nan for k, v in lr_spread.items()},
        "epochs_default": int(epochs),
    })  # fmt: skip
    (out / "table.md").write_text(table(rows))
    print(table(rows) + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
