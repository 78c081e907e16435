"""The CIFAR-10 ConvNet that fine-tuning starts from: checkpoints/convnet_cifar10.pt (+ .json).

    make cifar10-convnet   # or: python -m lab.questions.pretrain [--epochs 20] [--force]

Trains experiments/lenet.yaml (plus the best ConvNet overrides of the latest `make hparams`, if any),
then saves the backbone weights of the best checkpoint (by val/acc, about 250 KB) and a JSON with the
backbone's options, its accuracy and the command. An existing file is never overwritten without --force.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from lab.errors import LabError
from lab.models.transfer import read_backbone_state
from lab.paths import REPO_ROOT
from lab.questions import common
from lab.questions.common import base_parser, fit, run_main, write_json

TARGET = REPO_ROOT / "checkpoints" / "convnet_cifar10.pt"


def hparams_overrides() -> tuple[list[str], str]:
    path = common.RESULTS_ROOT / "hparams" / "latest" / "hparams.json"
    if not path.exists():
        return [], "experiments/lenet.yaml"
    best = json.loads(path.read_text())["best"].get("ConvNet")
    if not best:
        return [], "experiments/lenet.yaml"
    return list(best["overrides"]), f"experiments/lenet.yaml + hparams best ({best['factor']} = {best['value']})"


def main(argv: list[str] | None = None) -> Path:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=TARGET, help="where to save the backbone weights")
    parser.add_argument("--force", action="store_true", help="replace an existing checkpoint")
    args, cli_args = parser.parse_known_args(argv)
    if args.output.exists() and not args.force:
        raise LabError(f"{args.output} exists; pass --force to replace it (the old file would be lost).")
    overrides, source = hparams_overrides()
    epochs = ["--trainer.max_epochs", str(args.epochs)] if args.epochs else ["--trainer.max_epochs", "20"]
    cli = fit("lenet", "pretrain/convnet_cifar10", [*overrides, *epochs], cli_args)
    best = cli.trainer.checkpoint_callback.best_model_path
    state = read_backbone_state(best)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(args.output)  # atomic: a crash never leaves half a checkpoint
    backbone_options = {k: v for k, v in cli.model.hparams.get("backbone", {}).items() if k != "_class_path"}
    info = {
        "file": args.output.name,
        "backbone": type(cli.model.backbone).__name__,
        "backbone_options": backbone_options.get("init_args", backbone_options),
        "source": source,
        "overrides": overrides,
        "val_acc": float(cli.trainer.checkpoint_callback.best_model_score),
        "test_acc": float(cli.trainer.callback_metrics["test/acc"]),
        "run_dir": cli.trainer.log_dir,
        "command": "python -m lab.questions.pretrain " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    write_json(args.output.with_suffix(".json"), info)
    print(json.dumps(info, indent=2))
    return args.output


if __name__ == "__main__":
    run_main(main)
