"""Assignment 2, task 1: batch normalization in NumPy inside the toy MLP.

    make bn            # or: python -m lab.questions.bn [--iterations 50] [--lr 0.05]

Prints `iteration: k, loss: x` for every iteration and the final `validation loss: x` (inference
mode, running statistics), like Figure 1 of the text; writes the curve and numbers to results/bn/.
"""

from __future__ import annotations

import argparse

from lab.numpy_bn import ToyMLP, make_regression_data
from lab.questions.common import new_run_dir, publish, run_main, smoke, write_json
from lab.viz.style import figure, save


def run(iterations: int = 50, lr: float = 0.05, hidden: int = 64, n_train: int = 2000, seed: int = 0):
    x_train, y_train = make_regression_data(n_train, seed=seed)
    x_val, y_val = make_regression_data(500, seed=seed + 1)
    model = ToyMLP(in_dim=x_train.shape[1], hidden=hidden, seed=seed)
    losses = []
    for it in range(1, iterations + 1):
        losses.append(model.train_step(x_train, y_train, lr))  # full batch: a deterministic curve
        print(f"iteration: {it}, loss: {losses[-1]:.6f}")
    val_loss = model.evaluate(x_val, y_val)
    print(f"validation loss: {val_loss:.6f}")
    return losses, val_loss


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Batch norm in NumPy inside a toy MLP (assignment 2, task 1)")
    parser.add_argument("--iterations", type=int, default=5 if smoke() else 50)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.lr <= 0:
        parser.error("--iterations must be >= 1 and --lr > 0")
    losses, val_loss = run(args.iterations, args.lr, args.hidden, seed=args.seed)
    out = new_run_dir("bn")
    write_json(
        out / "bn.json",
        {"config": vars(args), "train_loss": losses, "validation_loss": val_loss,
         "data": "regression, 2,000 train / 500 validation, 16 inputs, MSE loss, full-batch SGD"},
    )  # fmt: skip
    fig, ax = figure()
    ax.plot(range(1, len(losses) + 1), losses, marker="o", markersize=3, label="training loss (batch statistics)")
    ax.axhline(val_loss, color="C1", linestyle="--", label=f"validation loss, inference mode ({val_loss:.3f})")
    ax.set_xlabel("iteration (full-batch SGD step)")
    ax.set_ylabel("mean squared error (target units²)")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out / "loss_curve.png", "Toy MLP with NumPy batch norm: training loss per iteration")
    publish(out)
    print(f"results: {out}")


if __name__ == "__main__":
    run_main(main)
