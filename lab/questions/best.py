"""Assignment 2, task 2e: the improved hand-written CNN trained to its best accuracy.

    make best           # or: python -m lab.questions.best [--config best] [--epochs N]

Trains experiments/best.yaml (CourseCNN 32 -> 64-128-256, bf16 autocast, one-cycle SGD, label
smoothing, flip + translate, flip test-time augmentation), tests the best checkpoint (by val/acc)
and writes results/best/<run>/: best_performance.png (curves, test accuracy, confusion matrix),
best.json and the path of the checkpoint (kept in the run folder).
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import torch
import yaml

from lab.cli import build_cli
from lab.errors import LabError
from lab.questions.common import base_parser, fit, new_run_dir, publish, run_main, write_json
from lab.viz.confusion import confusion_matrix, draw_confusion
from lab.viz.metrics import read_epoch_metrics
from lab.viz.style import figure, save


def performance_figure(metrics, matrix, classes, test_acc: float, n_test: int, path: Path, title: str) -> Path:
    fig, axes = figure(1, 3, size=(17, 5))
    epochs = [e["epoch"] + 1 for e in metrics]
    for key, label in (("train/loss", "training"), ("val/loss", "validation")):
        axes[0].plot(epochs, [e.get(key, math.nan) for e in metrics], marker="o", markersize=3, label=label)
    axes[0].set(title="loss", xlabel="epoch", ylabel="cross-entropy (nats, label-smoothed)")
    for key, label in (("train/acc", "training (augmented)"), ("val/acc", "validation")):
        axes[1].plot(epochs, [100 * e.get(key, math.nan) for e in metrics], marker="o", markersize=3, label=label)
    axes[1].axhline(100 * test_acc, color="C3", linestyle="--", label=f"test, best checkpoint: {100 * test_acc:.1f}%")
    axes[1].set(title="top-1 accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in axes[:2]:
        ax.grid(alpha=0.3)
        ax.legend()
    se = 100 * math.sqrt(test_acc * (1 - test_acc) / n_test)
    draw_confusion(axes[2], matrix, classes, f"test confusion matrix ({n_test} images)")
    return save(fig, path, f"{title}: test accuracy {100 * test_acc:.1f}% ± {se:.1f} (s.e.)")


def load_run(run_dir: Path, cli_args: list[str]):
    """Rebuild a finished run from its config.yaml and test its best checkpoint (nothing is trained)."""
    config, checkpoints = run_dir / "config.yaml", sorted((run_dir / "checkpoints").glob("best-*.ckpt"))
    if not config.is_file() or not checkpoints:
        raise LabError(f"{run_dir}: needs config.yaml and checkpoints/best-*.ckpt (a folder written by `fit`)")
    saved = yaml.safe_load(config.read_text())
    for key in ("ckpt_path", "weights_only"):  # arguments of the `fit` subcommand, not of the bare parser
        saved.pop(key, None)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(saved, f)
    cli = build_cli(["--config", f.name, "--trainer.logger", "false", *cli_args], run=False, save_config=False)
    Path(f.name).unlink()
    cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path=str(checkpoints[-1]))
    return cli, run_dir, str(checkpoints[-1])


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--config", default="best", help="experiments/<config>.yaml to train (default: best)")
    parser.add_argument(
        "--from-run", type=Path, default=None, help="a finished run folder (runs/.../version_N): report it, no training"
    )
    args, cli_args = parser.parse_known_args(argv)
    epochs = ["--trainer.max_epochs", str(args.epochs)] if args.epochs else []
    if args.from_run is not None:
        cli, run_dir, checkpoint = load_run(args.from_run, cli_args)
    else:
        cli = fit(args.config, f"best/{args.config}", epochs, cli_args)
        run_dir = Path(cli.trainer.log_dir)
        checkpoint = cli.trainer.checkpoint_callback.best_model_path
    out = new_run_dir("best")
    test_acc = float(cli.trainer.callback_metrics["test/acc"])
    dm = cli.datamodule
    predictions = torch.cat(cli.trainer.predict(cli.model, datamodule=dm))  # the best checkpoint's weights
    labels = dm.test_set.labels
    matrix = confusion_matrix(predictions, labels, dm.num_classes)
    metrics = read_epoch_metrics(run_dir)
    performance_figure(
        metrics, matrix, dm.classes, test_acc, len(labels), out / "best_performance.png",
        f"Best performance of the hand-written CNN ({args.config})",
    )  # fmt: skip
    timing = run_dir / "time_to_accuracy.json"
    result = {
        "config": args.config,
        "test_acc": test_acc,
        "test_images": len(labels),
        "test_acc_from_confusion": float(matrix.diag().sum() / matrix.sum()),
        "best_val_acc": max((e.get("val/acc", 0.0) for e in metrics), default=None),
        "epochs": len(metrics),
        "checkpoint": checkpoint,
        "run_dir": str(run_dir),
        "time_to_accuracy": json.loads(timing.read_text()) if timing.exists() else None,
        "confusion_matrix": matrix.tolist(),
        "classes": list(dm.classes),
    }
    write_json(out / "best.json", result)
    print(f"test accuracy {100 * test_acc:.2f}% on {len(labels)} images; checkpoint {result['checkpoint']}")
    print(f"results: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
