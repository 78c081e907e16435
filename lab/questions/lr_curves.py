"""Assignment 2, task 2c: the course CNN at learning rates 1e-3, 1e-4, 1e-5 (Adam, all else equal).

    make lr-curves      # or: python -m lab.questions.lr_curves [--lrs 1e-3 1e-4 1e-5] [--epochs 10]

Writes results/lr_curves/<run>/: curves.png (training/validation loss and accuracy per epoch for
each rate), lr_curves.json and table.md (final numbers).
"""

from __future__ import annotations

from pathlib import Path

from lab.questions.common import base_parser, fit, new_run_dir, publish, run_main, write_json
from lab.viz.curves import plot_curves
from lab.viz.metrics import read_epoch_metrics

COLUMNS = ("train/loss", "val/loss", "train/acc", "val/acc")


def table(rows: list[dict]) -> str:
    lines = [
        "| learning rate | train loss | val loss | train acc (%) | val acc (%) | train - val (pts) | test acc (%) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['lr']:g} | {r['train/loss']:.3f} | {r['val/loss']:.3f} | {100 * r['train/acc']:.1f} | "
            f"{100 * r['val/acc']:.1f} | {100 * (r['train/acc'] - r['val/acc']):.1f} | {100 * r['test/acc']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 1e-4, 1e-5])
    args, cli_args = parser.parse_known_args(argv)
    if any(lr <= 0 for lr in args.lrs):
        parser.error(f"--lrs must be positive, got {args.lrs}")
    epochs = ["--trainer.max_epochs", str(args.epochs)] if args.epochs else []
    out = new_run_dir("lr_curves")
    curves, rows = {}, []
    for lr in args.lrs:
        cli = fit("course_cnn", f"lr_curves/lr_{lr:g}", ["--model.lr", str(lr), *epochs], cli_args)
        epochs_metrics = read_epoch_metrics(cli.trainer.log_dir)
        curves[f"lr = {lr:g}"] = epochs_metrics
        last = {k: v for e in epochs_metrics for k, v in e.items() if k in COLUMNS}
        rows.append({"lr": lr, **last, "test/acc": float(cli.trainer.callback_metrics["test/acc"]),
                     "epochs": len(epochs_metrics), "run_dir": cli.trainer.log_dir})  # fmt: skip
    plot_curves(curves, out / "curves.png", "Course CNN (Adam) at three learning rates")
    write_json(out / "lr_curves.json", {"rows": rows, "curves": curves})
    (out / "table.md").write_text(table(rows))
    print(table(rows) + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
