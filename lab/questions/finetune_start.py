"""The CIFAR-10 ConvNet that fine-tuning starts from: checkpoints/convnet_cifar10.pt (+ .json).

    make cifar10-convnet   # or: python -m lab.questions.finetune_start [--epochs 20] [--force]

The ConvNet of §2.4's `make final` (seed 0): the same run, reused through the run cache (lab/engine/run_cache.py)
rather than trained again, so that fine-tuning starts from the final ConvNet and the report tells one
story. Without a `make final` result it trains experiments/lenet.yaml (plus the best ConvNet setting of the
latest `make hparams`, if any) for 20 epochs. Saves the network weights of the best checkpoint (by val/acc)
and a JSON with the config, the epochs, the network's options, its CIFAR-10 accuracy and the command. An
existing file is never overwritten without --force.
Not a question of its own (nothing in the report, no Make target from the registry): the start of `make
finetune`, in the question layer because it reads the answers of `make final` and `make hparams`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from lab.models.pretrained import read_net_state, shipped_info, write_network
from lab.questions.context import RunContext, parse, parser_for
from lab.questions.hparams import CONVNET, HparamsResult
from lab.questions.results import to_json
from lab.questions.runner import read_results
from lab.questions.training import fit
from lab.utils import console
from lab.utils.errors import LabError
from lab.utils.paths import REPO_ROOT, shown

TARGET = REPO_ROOT / "checkpoints" / "convnet_cifar10.pt"


def best_setting(study: HparamsResult | None) -> tuple[dict, str]:
    """The best ConvNet change of the latest `make hparams` (none: the base config)."""
    if study is None or CONVNET not in study.best:
        return {}, "experiments/lenet.yaml"
    row = study.best_row(CONVNET)
    return row.change, f"experiments/lenet.yaml + hparams best ({row.factor} = {row.value})"


def final_setting(results: Path) -> tuple[list, dict, str] | None:
    """(configs, change, source) of the ConvNet final of the latest `make final`, as `make final` trained it."""
    final = read_results(results, may_read=("final",))["final"]
    c = next((c for c in final.networks if c.network == CONVNET), None) if final else None
    if c is None:
        return None
    budget = "" if f"{c.epochs} epochs" in c.final_label else f", {c.epochs} epochs"  # the label may name it
    source = f"experiments/{c.config}.yaml + make final ({c.final_label}{budget}), seed 0"
    return [c.config, {"trainer": {"max_epochs": c.epochs}}], c.change, source


def train_or_reuse(ctx: RunContext):
    """The final ConvNet's seed-0 run (reused: the same layers as `make final`'s), else a 20-epoch run."""
    final = None if ctx.epochs else final_setting(ctx.results)
    if final is not None:
        configs, change, source = final
        return fit(ctx, configs, change, name="final/ConvNet", seed=0), configs, change, source
    change, source = best_setting(read_results(ctx.results, may_read=("hparams",))["hparams"])
    ctx = replace(ctx, epochs=ctx.epochs or 20)
    return fit(ctx, ["lenet", change], name="pretrain/convnet_cifar10"), ["lenet"], change, source


def net_options(result, configs: list, change: dict) -> dict:
    """The network's options: from the trained module, or (a run rebuilt from the cache, whose module holds
    the network itself) from the configs it was trained with."""
    from lab.engine.config import compose

    net = result.module.hparams.get("net")
    if isinstance(net, dict):
        return net.get("init_args", {})
    return compose([*configs, change])["model"]["net"].get("init_args", {})


@dataclass(frozen=True)
class Options:
    """What finetune_start takes besides the common switches.

    Attributes:
        output: where to save the network weights
        force: replace an existing checkpoint
    """

    output: Path = TARGET
    force: bool = False


def pretrain(ctx: RunContext, opts: Options) -> dict:
    """Train (or reuse) the ConvNet and save its weights with the record `make predict` and fine-tuning read."""
    if opts.output.exists() and not opts.force:
        raise LabError(f"{opts.output} exists; pass --force to replace it (the old file would be lost).")
    result, configs, change, source = train_or_reuse(ctx)
    made = {
        "source": source,
        "config": configs,
        "change": change,
        "epochs": len(result.history),
        "val_acc": result.best_val_acc,
        "test_acc": result.test["test/acc"],
        "run_dir": shown(result.run_dir),  # no machine folder in a committed record
        "command": "python -m lab.questions.finetune_start " + " ".join(sys.argv[1:]),
    }
    state, net = read_net_state(result.best_checkpoint), type(result.module.net).__name__
    # the data record (classes, mean, std, image_size): what `make predict` needs
    return write_network(opts.output, state, net, net_options(result, configs, change), result.datamodule.record, made)


def refresh(ctx: RunContext) -> dict | None:
    """`make all`, after `make final`: the fine-tuning checkpoint becomes the final ConvNet (its seed-0 run,
    reused), so that §3's fine-tuning starts from §2.4's network. Left as it is for QUICK/SMOKE answers (a
    draft network must not replace the repository's checkpoint) and when it already is the final's."""
    final = final_setting(ctx.results)
    if final is None or ctx.quick or ctx.configs:
        return None
    configs, change, _ = final
    kept = shipped_info(TARGET)
    trained_as = [kept.get("config"), kept.get("change")]
    if "make final" in kept.get("source", "") and trained_as == to_json([configs, change]):
        return None  # already the final's network (compared by what it was trained with, not by wording)
    return pretrain(replace(ctx, epochs=None), Options(output=TARGET, force=True))


def main(argv: list[str] | None = None) -> dict:
    console.setup()
    parser = parser_for("python -m lab.questions.finetune_start", __doc__.splitlines()[0], RunContext, Options)
    ctx, opts = parse(parser, sys.argv[1:] if argv is None else argv, RunContext, Options)
    with console.user_errors(ctx.debug):
        info = pretrain(ctx, opts)
    console.info(json.dumps(info, indent=2))
    return info


if __name__ == "__main__":
    main()
