"""CV1 part 2, §3.2: fine-tune the CIFAR-10 ConvNet on the 5-class STL-10 subset, against training from scratch.

    make finetune       # or: python -m lab.questions finetune [--seeds 3] [--epochs N] [--checkpoint PATH]

Four settings on the same split, budget and seeds: from scratch; classifier only (the body frozen
throughout); full fine-tuning (the classifier alone for 5 epochs, then the body unfrozen at a tenth of
the rate: lab.callbacks.FreezeUnfreeze); and its control, the body unfrozen at once (from epoch 0).
The fine-tuned runs start from checkpoints/convnet_cifar10.pt
(`make cifar10-convnet`), whose 10-way classifier is replaced by a 5-way one (lab.callbacks.LoadPretrained).
Both loading orders of the text are checked to give the same body weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.engine.config import Layer, compose, load_layer
from lab.inference.load import load_trained
from lab.models import ConvNet
from lab.models.head import load_pretrained
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.finetune_start import TARGET
from lab.questions.stats import Difference, binomial_se, spread_words
from lab.questions.training import Variant, over_seeds, user_layers
from lab.utils.errors import LabError
from lab.utils.paths import shown
from lab.viz.style import figure, save

SCRATCH, HEAD, FULL = "from scratch", "classifier only (body frozen)", "full fine-tuning (unfreeze at epoch 5)"
AT_ONCE = "full fine-tuning (unfrozen at once)"
VARIANTS = {
    SCRATCH: ["stl10"],
    HEAD: ["stl10", "stl10_head"],
    FULL: ["stl10", "stl10_finetune"],
    AT_ONCE: ["stl10", "stl10_finetune_at_once"],
}


@dataclass
class FinetuneResult:
    checkpoint: str
    checkpoint_test_acc: float  # the starting ConvNet's CIFAR-10 test accuracy
    orders_identical: bool  # both loading orders gave identical body weights
    train_images: int
    variants: list[Variant]
    figures: list[Figure] = field(default_factory=list)
    source: dict = field(default_factory=dict)  # the starting checkpoint's record (checkpoints/convnet_cifar10.json)
    settings: list[list[str]] = field(default_factory=list)  # (setting, value) read from the configs

    def variant(self, label: str) -> Variant:
        return next(v for v in self.variants if v.label == label)

    def difference(self, reference: str, label: str) -> Difference:
        return Difference.between(self.variant(reference).test, self.variant(label).test)


def starting_point(checkpoint: Path) -> tuple[dict, dict]:
    """The checkpoint's network options (so every setting builds the same ConvNet) and what it records of how
    it was made."""
    if not checkpoint.is_file():
        raise LabError(f"{checkpoint} not found: run `make cifar10-convnet` first (or pass --checkpoint PATH).")
    trained = load_trained(checkpoint)
    options = {k: v for k, v in trained.config["init_args"].items() if k != "num_classes"}
    return {"model": {"net": {"init_args": options}}}, trained.info


def with_checkpoint(layer: str, checkpoint: Path) -> dict:
    """The config layer with every LoadPretrained callback pointed at ``checkpoint``."""
    config = load_layer(layer)
    for callback in config.get("trainer", {}).get("callbacks", []):
        if callback["class_path"].endswith("LoadPretrained"):
            callback.setdefault("init_args", {})["checkpoint"] = str(checkpoint)
    return config


def orders_agree(checkpoint: Path, options: dict, classes: int) -> bool:
    """The text's two loading orders (load then replace / replace then load) give the same body."""
    nets = [ConvNet(**options), ConvNet(**options)]
    load_pretrained(nets[0], checkpoint, classes, "load_then_replace")
    load_pretrained(nets[1], checkpoint, classes, "replace_then_load")
    a, b = (n.state_dict() for n in nets)
    return all(torch.equal(a[k], b[k]) for k in a if not k.startswith("classifier."))


def run(ctx: RunContext, out: Path, opts: Options) -> FinetuneResult:
    same_net, info = starting_point(opts.checkpoint)
    specs = {
        label: (
            [layers[0], same_net, *(with_checkpoint(layer, opts.checkpoint) for layer in layers[1:])],
            {},
            f"finetune/{layers[-1]}",
        )
        for label, layers in VARIANTS.items()
    }
    variants = [Variant(label, runs) for label, runs in over_seeds(ctx, specs).items()]
    result = FinetuneResult(
        checkpoint=str(opts.checkpoint),
        checkpoint_test_acc=info.get("test_acc", float("nan")),
        orders_identical=orders_agree(opts.checkpoint, same_net["model"]["net"]["init_args"], 5),
        train_images=variants[0].runs[0].train_images,
        variants=variants,
        source={k: info[k] for k in ("source", "change", "val_acc", "test_acc", "epochs", "run_dir") if k in info},
        settings=settings_rows(user_layers(ctx)),
    )
    result.figures.append(draw(result, out / "val_curves.png"))
    return result


def settings_rows(extra: Sequence[Layer] = ()) -> list[list[str]]:
    """The fine-tuning settings as the runs had them (experiments/stl10.yaml and its two layers, with the
    layers every run got, e.g. QUICK's budget)."""
    base = compose(["stl10", *extra])
    full, at_once = load_layer("stl10_finetune"), load_layer("stl10_finetune_at_once")
    epochs = base["trainer"]["max_epochs"]
    optimizer = base["model"]["optimizer"]
    rate = optimizer.get("init_args", {}).get("lr")
    schedule = base["model"].get("lr_scheduler", {})
    data = base["data"]["init_args"]
    unfreeze, now = (unfreeze_args(layer) for layer in (full, at_once))
    args = ", ".join(f"{k} {v}" for k, v in optimizer.get("init_args", {}).items())
    steps = ", ".join(f"{k} {v}" for k, v in schedule.get("init_args", {}).items())
    return [
        ["optimizer", f"{optimizer['class_path'].rsplit('.', 1)[-1]} ({args})"],
        ["schedule", f"{schedule.get('class_path', 'constant').rsplit('.', 1)[-1]} ({steps})"],
        ["epochs, batch size", f"{epochs}, {data['batch_size']}"],
        [
            "input",
            f"{data['image_size']} x {data['image_size']} px, augmentation "
            + ", ".join(f"{k} {v}" for k, v in data.get("augment", {}).items()),
        ],
        ["classifier only", "the new 5-way classifier at the optimizer's rate; the body frozen throughout"],
        [
            "learning rates",
            f"classifier {rate:g}; body (once unfrozen) {unfreeze.get('lr_factor', 1):g} x that"
            + (f" = {rate * unfreeze.get('lr_factor', 1):g}" if isinstance(rate, float | int) else ""),
        ],
        [
            "full fine-tuning",
            f"the classifier alone for {unfreeze['unfreeze_at_epoch']} epochs, then the whole body "
            f"unfrozen at {unfreeze.get('lr_factor', 1):g} x the classifier's rate"
            + (
                f" (in this budget of {epochs} epochs the body never unfreezes: it equals classifier only)"
                if unfreeze["unfreeze_at_epoch"] >= epochs
                else ""
            ),
        ],
        [
            "unfrozen at once",
            f"the whole body trainable from epoch {now['unfreeze_at_epoch']} at {now.get('lr_factor', 1):g} x the "
            "classifier's rate (the control for gradual unfreezing)",
        ],
    ]


def unfreeze_args(layer: dict) -> dict:
    """The FreezeUnfreeze callback's arguments in a config layer."""
    return next(c["init_args"] for c in layer["trainer"]["callbacks"] if c["class_path"].endswith("FreezeUnfreeze"))


def pretrain_epochs(record: dict) -> int | None:
    """Epochs the starting ConvNet trained for: its record's, else its run folder's config (if still there)."""
    if "epochs" in record:
        return record["epochs"]
    config = Path(record.get("run_dir", "-")) / "config.yaml"
    if config.is_file():
        import yaml

        return yaml.safe_load(config.read_text()).get("trainer", {}).get("max_epochs")
    return None


def provenance(r: FinetuneResult) -> str:
    """Where the starting ConvNet comes from, from its record."""
    epochs = pretrain_epochs(r.source)
    change = r.source.get("change") or {}
    changed = (" with " + ", ".join(f"{k} = {v}" for k, v in change.items())) if change else ""
    source = r.source.get("source", "an unrecorded config")
    config, _, made_by = source.partition(" + ")
    which = "§2.4's final ConvNet (its seed-0 run)" if "make final" in source else "not §2.4's final configuration"
    return (
        f"The starting ConvNet (`{Path(r.checkpoint).name}`, made by `make cifar10-convnet`) is LeNet-5 trained on "
        f"CIFAR-10 with `{shown(config)}`{' + ' + made_by if made_by else ''}{changed} "
        + (f"for {epochs} epochs " if epochs else "(its record does not keep the epoch count) ")
        + f"({which}): {100 * r.checkpoint_test_acc:.1f}% CIFAR-10 test "
        "accuracy" + (f", {100 * r.source['val_acc']:.1f}% validation." if "val_acc" in r.source else ".")
    )


def draw(result: FinetuneResult, path: Path) -> Figure:
    fig, ax = figure(size=(8, 4.8))
    for i, v in enumerate(result.variants):
        for j, run in enumerate(v.runs):
            epochs = [e["epoch"] + 1 for e in run.history]
            ax.plot(
                epochs,
                [100 * e.get("val/acc", float("nan")) for e in run.history],
                color=f"C{i}",
                alpha=0.9 if j == 0 else 0.35,
                label=v.label if j == 0 else None,
            )
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path, "STL-10 (5 classes, 32x32): validation accuracy, one line per seed", curves_caption(result))


def curves_caption(result: FinetuneResult) -> str:
    """What the solid and the faded lines are, for the number of seeds that ran."""
    seeds = max((len(v.runs) for v in result.variants), default=0)
    if seeds <= 1:
        return "Validation accuracy (%) per epoch of each setting's one run (one seed, so no faded lines)."
    return (
        f"Validation accuracy (%) per epoch of every run: seed 0 solid; the faded lines in the same colour are the "
        f"same setting with seeds 1-{seeds - 1} (another initialisation of the new classifier and another batch "
        "order). Their spread is the seed noise behind the ± of the table."
    )


def explain(r: FinetuneResult) -> list[str]:
    full, head = r.difference(SCRATCH, FULL), r.difference(SCRATCH, HEAD)
    lines = [
        f"- Full fine-tuning vs from scratch: {full.verdict()}.",
        f"- Classifier only vs from scratch: {head.verdict()}.",
        f"- Full fine-tuning vs classifier only: {r.difference(HEAD, FULL).tie()}.",
    ]
    if full.measurable and full.delta > 0:
        lines.append(
            f"- Why transfer helps here: the five STL-10 classes (airplane, bird, cat, dog, ship) are all "
            f"CIFAR-10 classes too, so the CIFAR-10 features already separate them, while {r.train_images:,} "
            f"training images are few for learning {r.variant(SCRATCH).runs[0].parameters:,} weights from scratch."
        )
    elif full.se > 0 and not full.measurable:  # one seed measures no spread: no verdict either way
        lines.append("- Here transfer shows no measurable gain over training from scratch with these budgets.")
    head_vs_full = r.difference(HEAD, FULL)
    if head_vs_full.measurable:
        which = "Adapting the body too" if head_vs_full.delta > 0 else "Keeping the body frozen"
        lines.append(
            f"- {which} wins: STL-10's photos (downsized from 96 px) differ from CIFAR-10's, and "
            + (
                "the body's features adapt to them at a tenth of the rate."
                if head_vs_full.delta > 0
                else "with few images, updating the body overfits more than it adapts."
            )
        )
    return lines


GRADUAL = (
    "Gradual unfreezing: while the new classifier is still random, its large early gradients would flow into the "
    "pretrained filters and disturb them; training it alone first, then the body at a tenth of the rate, is meant "
    "to keep the CIFAR-10 features while the body adapts."
)


def gradual_text(r: FinetuneResult) -> str:
    """The expectation, then what gradual unfreezing measurably changes against unfreezing at once."""
    if not any(v.label == AT_ONCE for v in r.variants):
        return GRADUAL + " Unfreezing at once was not run with these results, so the difference is not measured."
    change = r.difference(AT_ONCE, FULL)
    if change.se == 0:
        found = f"the difference is {change.points()} with one seed, so no verdict"
    elif not change.measurable:
        found = f"it makes no measurable difference here ({change.points()}, within two standard errors)"
    else:
        found = f"it is {'better' if change.delta > 0 else 'worse'} by {change.points()}"
    return f"{GRADUAL} Measured against unfreezing the body at once (same rates, budget and seeds): {found}."


def render(r: FinetuneResult, folder: Path) -> list:
    n_test = r.variants[0].runs[0].test_images
    rows = [
        [
            v.label,
            v.test.pct(),
            f"{100 * binomial_se(v.test.mean, n_test):.1f}",
            v.val.pct(),
            v.runs[0].epochs,
            len(v.runs),
        ]
        for v in r.variants
    ]
    header = ["training", "test acc (%)", "s.e. of one run (pts)", "val acc (%)", "epochs", "seeds"]
    return [
        Text(
            f"The ConvNet trained on CIFAR-10 (`{Path(r.checkpoint).name}`, {100 * r.checkpoint_test_acc:.1f}% "
            "CIFAR-10 test accuracy) gets a new classifier for 5 classes, by either loading order of the text: load "
            "everything then replace the output layer, or replace it first then load the matching weights. Both "
            f"orders give {'identical' if r.orders_identical else 'DIFFERENT'} body weights (checked on this "
            f"checkpoint). The {len(r.variants)} settings share the split, budget and seeds."
        ),
        Text("\n".join(explain(r))),
        *([Text(provenance(r))] if r.source else []),
        *(
            [
                Table(
                    "Fine-tuning settings",
                    markdown_table(["setting", "value"], r.settings, "ll"),
                    "Shared by the settings unless the row says otherwise (experiments/stl10.yaml, "
                    "stl10_head.yaml, stl10_finetune.yaml, stl10_finetune_at_once.yaml).",
                )
            ]
            if r.settings
            else []
        ),
        Text(gradual_text(r)),
        Table(
            "Fine-tuning on the STL-10 subset",
            markdown_table(header, rows, "lrrrrr"),
            f"Test accuracy on {n_test} STL-10 test images ({spread_words(len(r.variants[0].runs))}), and the "
            "binomial standard error "
            "of one run's test accuracy.",
        ),
        *placed(r.figures, folder),
    ]


def headline(r: FinetuneResult) -> str:
    """Each variant's test accuracy under its short label; the full label where two short ones coincide."""
    short = [v.label.split(" (")[0] for v in r.variants]
    return "; ".join(
        f"{s if short.count(s) == 1 else v.label} {v.test.pct(1)}%" for s, v in zip(short, r.variants, strict=True)
    )


@dataclass(frozen=True)
class Options:
    """finetune's own option.

    Attributes:
        checkpoint: CIFAR-10 ConvNet weights to start from
    """

    checkpoint: Path = TARGET


QUESTION = register(
    Question(
        __name__,
        "Fine-tuning the ConvNet",
        CV1,
        "§3.2",
        order=70,
        result_type=FinetuneResult,
        asks="Output layer 10 -> 5 (both loading orders), fine-tune on STL-10, compare with training from scratch.",
        configs="experiments/stl10.yaml, stl10_head.yaml, stl10_finetune.yaml, stl10_finetune_at_once.yaml",
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
