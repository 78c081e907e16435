"""Beyond the texts: transfer from the strong CIFAR-10 CNN to the STL-10 subset, at 32 px (and 96 px).

    make transfer       # or: python -m lab.questions transfer [--seeds 3] [--epochs N] [--source RUN_OR_CKPT]
                        #     [--pixels 32 96]   (96 px: 9x the pixels of 32 px; off by default)

The three settings of `make finetune` (from scratch / classifier only / full fine-tuning; the same
LoadPretrained and FreezeUnfreeze callbacks and loading order), plus the control that changes only the start
(the CIFAR-10 weights, then trained exactly as from scratch: no freezing, one learning rate), with the
network of `make best`
(airbench's recipe, about 94% on CIFAR-10) in place of LeNet-5, at the subset's 32 px as in the
coursework and, with --pixels 32 96, at STL-10's native 96 px (the CNN ends in global max pooling, so
it takes either size).
One table puts them beside `make finetune`'s LeNet-5 rows: what the starting network and the
resolution are each worth. Training recipe: experiments/stl10_strong.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.inference.load import checkpoint_file, load_trained
from lab.questions import BEYOND, Question, register
from lab.questions.best import BestResult
from lab.questions.context import RunContext
from lab.questions.finetune import FULL, HEAD, SCRATCH, FinetuneResult, with_checkpoint
from lab.questions.runner import missing_input
from lab.questions.stats import Difference, spread_words
from lab.questions.training import Variant, over_seeds
from lab.utils.errors import LabError
from lab.utils.paths import shown
from lab.viz.style import figure, save

RESOLUTIONS = (32, 96)  # px: the coursework's size, STL-10's own
START = "pretrained, trained as from scratch"  # the control that changes only the start
SETTINGS = {SCRATCH: "stl10_strong_scratch", START: "stl10_pretrained", HEAD: "stl10_head", FULL: "stl10_finetune"}


@dataclass
class Resolution:
    pixels: int
    variants: list[Variant]

    def variant(self, label: str) -> Variant:
        return next(v for v in self.variants if v.label == label)


@dataclass
class TransferResult:
    source: str  # the checkpoint the fine-tuned runs start from
    source_test_acc: float  # its CIFAR-10 test accuracy (NaN when not from `make best`)
    resolutions: list[Resolution]
    lenet: list[Variant] = field(default_factory=list)  # make finetune's settings (LeNet-5, 32 px), if run
    figures: list[Figure] = field(default_factory=list)


def source_checkpoint(ctx: RunContext, opts: Options, best: BestResult | None) -> tuple[Path, float]:
    """The checkpoint to start from (--source, else the latest `make best`'s) and its CIFAR-10 test accuracy."""
    if opts.source is not None:
        return checkpoint_file(opts.source), float("nan")
    if best is None:
        raise LabError(f"{missing_input('best', ctx.results, 'transfer')} Or pass --source RUN_OR_CKPT.")
    return Path(best.checkpoint), best.test_acc


def network_layer(checkpoint: Path) -> dict:
    """The checkpoint's network (class and options, less its class count), so every setting builds it."""
    net = load_trained(checkpoint).config
    # every option kept, the logit scale (airbench's 1/9) included: from scratch with unscaled logits the
    # 96 px runs diverged and the 32 px ones lost 13-25 points (pilots, 12 epochs)
    options = {k: v for k, v in net.get("init_args", {}).items() if k != "num_classes"}
    return {"model": {"net": {"class_path": net["class_path"], "init_args": options}}}


def settings(checkpoint: Path, net: dict, pixels: int) -> dict:
    """label -> (configs, changes, run name) of the three settings at one resolution; ``net``: the
    checkpoint's network_layer."""
    size = {"image_size": pixels, "augment": {"translate": 2 * pixels // 32}}  # shifts scale with the image
    base = ["stl10", net, "stl10_strong", {"data": {"init_args": size}}]
    whitened = net["model"]["net"]["init_args"].get("stem") == "whiten"  # else there is no stem to set
    layers = {
        label: [with_checkpoint(layer, checkpoint)] if whitened or label != SCRATCH else []
        for label, layer in SETTINGS.items()
    }
    return {label: ([*base, *layers[label]], {}, f"transfer/{pixels}px_{SETTINGS[label]}") for label in SETTINGS}


def run(
    ctx: RunContext, out: Path, opts: Options, best: BestResult | None, finetune: FinetuneResult | None
) -> TransferResult:
    checkpoint, source_acc = source_checkpoint(ctx, opts, best)
    sizes, net = sorted(set(opts.pixels)), network_layer(checkpoint)  # the checkpoint is read once
    specs = {(px, label): spec for px in sizes for label, spec in settings(checkpoint, net, px).items()}
    runs = over_seeds(ctx, specs)
    resolutions = [Resolution(px, [Variant(label, runs[px, label]) for label in SETTINGS]) for px in sizes]
    lenet = finetune.variants if finetune is not None else []  # make finetune's LeNet-5 rows, if run
    result = TransferResult(str(checkpoint), source_acc, resolutions, lenet)
    result.figures.append(draw(result, out / "transfer.png"))
    return result


def table_rows(r: TransferResult) -> list[list]:
    lenet = [["LeNet-5 (`make finetune`)", 32, v.label, v.test.pct(), v.runs[0].epochs, len(v.runs)] for v in r.lenet]
    strong = [
        ["best CNN (`make best`)", res.pixels, v.label, v.test.pct(), v.runs[0].epochs, len(v.runs)]
        for res in r.resolutions
        for v in res.variants
    ]
    return lenet + strong


def draw(r: TransferResult, path: Path) -> Figure:
    fig, ax = figure(size=(9, 4.8))
    groups = [("LeNet-5, 32 px", r.lenet)] + [(f"best CNN, {res.pixels} px", res.variants) for res in r.resolutions]
    groups = [(name, variants) for name, variants in groups if variants]
    width = 0.8 / len(SETTINGS)
    for i, label in enumerate(SETTINGS):
        found = [(g, v.test) for g, (_, variants) in enumerate(groups) for v in variants if v.label == label]
        ax.bar(
            [g + (i - (len(SETTINGS) - 1) / 2) * width for g, _ in found],
            [100 * s.mean for _, s in found],
            width,
            yerr=[100 * s.std for _, s in found],
            capsize=3,
            label=label,
        )
    ax.set_xticks(range(len(groups)), [name for name, _ in groups])
    ax.set(xlabel="starting network and input size", ylabel="test accuracy (%)", ylim=(0, 100))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    title = "STL-10 subset (5 classes): test accuracy by starting network, size and training"
    seeds = seed_count(r)
    bars = "error bars: one std over seeds" if seeds > 1 else "one seed, so no error bars"
    return save(fig, path, title, f"Test accuracy (%) on the STL-10 test images ({spread_words(seeds)}); {bars}.")


def explain(r: TransferResult) -> list[str]:
    small, large = r.resolutions[0], r.resolutions[-1]
    lines = [
        f"- Full fine-tuning vs from scratch at {res.pixels} px: "
        f"{Difference.between(res.variant(SCRATCH).test, res.variant(FULL).test).verdict()}."
        for res in r.resolutions
    ]
    lines += [start_only(res) for res in r.resolutions if any(v.label == START for v in res.variants)]
    lines += [
        f"- Full fine-tuning vs classifier only at {res.pixels} px: "
        f"{Difference.between(res.variant(HEAD).test, res.variant(FULL).test).tie()}."
        for res in r.resolutions
    ]
    if r.lenet:
        lenet_full = next(v for v in r.lenet if v.label == FULL).test
        lines.append(
            f"- The starting network and its recipe (best CNN vs LeNet-5, both fully fine-tuned at 32 px): "
            f"{Difference.between(lenet_full, small.variant(FULL).test).verdict()}. {recipe_note()}"
        )
    if large is not small:
        gain = Difference.between(small.variant(FULL).test, large.variant(FULL).test)
        lines.append(
            f"- The resolution ({large.pixels} px vs {small.pixels} px, best CNN fully fine-tuned): {gain.verdict()}."
        )
        lines += scale_mismatch(small, large)
    else:
        lines.append(f'- Only {small.pixels} px was run (`make transfer ARGS="--pixels 32 96"` runs both sizes).')
    best = max((v for res in r.resolutions for v in res.variants), key=lambda v: v.test.mean)
    where = next(res.pixels for res in r.resolutions if best in res.variants)
    lines.append(f"- The highest mean: {best.label} at {where} px ({best.test.pct()}%, {spread_words(best.test.n)}).")
    return lines


def start_only(res: Resolution) -> str:
    """The control that changes only the start: CIFAR-10 weights vs random ones, the same recipe."""
    change = Difference.between(res.variant(SCRATCH).test, res.variant(START).test)
    return (
        f"- The start alone (CIFAR-10 weights vs random, the same recipe, no freezing) at {res.pixels} px: "
        f"{change.verdict()}."
    )


def recipe_note() -> str:
    """What besides the starting network differs between make finetune's runs and these (read from the configs)."""
    from lab.engine.config import compose

    lenet, strong = compose(["stl10"]), compose(["stl10", "stl10_strong"])

    def get(config: dict, *keys, default=None):
        for key in keys:
            config = config.get(key, {}) if isinstance(config, dict) else {}
        return config if config != {} else default

    items = {
        "epochs": ("trainer", "max_epochs"),
        "learning rate": ("model", "optimizer", "init_args", "lr"),
        "label smoothing": ("model", "label_smoothing"),
        "batch size": ("data", "init_args", "batch_size"),
        "schedule step": ("model", "lr_scheduler", "init_args", "step_size"),
    }
    differ = [
        f"{name} {get(lenet, *keys, default=0)} vs {get(strong, *keys, default=0)}"
        for name, keys in items.items()
        if get(lenet, *keys, default=0) != get(strong, *keys, default=0)
    ]
    if not differ:
        return "Only the starting network differs."
    return (
        "This compares whole recipes, not the start alone: besides the network, LeNet-5's runs and these differ "
        f"in {', '.join(differ)} (experiments/stl10.yaml vs stl10_strong.yaml). What the start alone is worth, "
        'with one recipe, is the "start alone" line above.'
    )


def scale_mismatch(small: Resolution, large: Resolution) -> list[str]:
    """Why the frozen body loses at the larger size, said only when it measurably does."""
    frozen = Difference.between(small.variant(HEAD).test, large.variant(HEAD).test)
    line = f"- Classifier only, {large.pixels} px vs {small.pixels} px: {frozen.verdict()}."
    if not (frozen.measurable and frozen.delta < 0):
        return [line]
    trained = Difference.between(large.variant(HEAD).test, large.variant(FULL).test)
    return [
        line[:-1] + f": the frozen filters were learned on CIFAR-10's {small.pixels} px objects, and at "
        f"{large.pixels} px the same objects are {large.pixels // small.pixels}x as wide in pixels as those "
        "filters and pooling stages were tuned to; full fine-tuning vs classifier only at "
        f"{large.pixels} px: {trained.verdict()}."
    ]


def render(r: TransferResult, folder: Path) -> list:
    acc = "" if r.source_test_acc != r.source_test_acc else f", {100 * r.source_test_acc:.1f}% CIFAR-10 test accuracy"
    header = ["starting network", "px", "training", "test acc (%)", "epochs", "seeds"]
    sizes = " and ".join(str(res.pixels) for res in r.resolutions)
    return [
        Text(
            f"The fine-tuned runs start from `{shown(r.source)}`{acc}: its 10-way classifier is replaced by a 5-way "
            "one (replace, then load the matching weights), exactly as `make finetune` does for LeNet-5. The "
            f"{len(SETTINGS)} settings share the split, the recipe (experiments/stl10_strong.yaml) and the seeds "
            "at each size. "
            f"Sizes run: {sizes} px ({command(r)})."
        ),
        Text("\n".join(explain(r))),
        Table(
            "Transfer to the STL-10 subset: starting network"
            + (" and resolution" if len(r.resolutions) > 1 else f" ({r.resolutions[0].pixels} px)"),
            markdown_table(header, table_rows(r), "llllrr"),
            f"Test accuracy on the 500 STL-10 test images ({spread_words(seed_count(r))}).",
        ),
        *placed(r.figures, folder),
    ]


def seed_count(r: TransferResult) -> int:
    return max((len(v.runs) for res in r.resolutions for v in res.variants), default=1)


def command(r: TransferResult) -> str:
    """The command that runs these sizes (`make transfer` alone runs 32 px)."""
    pixels = " ".join(str(res.pixels) for res in r.resolutions)
    return "`make transfer`" if pixels == str(RESOLUTIONS[0]) else f'`make transfer ARGS="--pixels {pixels}"`'


def headline(r: TransferResult) -> str:
    def short(v: Variant) -> str:
        return f"{v.label.split(' (')[0]} {v.test.pct(1)}%"

    return "; ".join(f"{res.pixels} px: " + ", ".join(map(short, res.variants)) for res in r.resolutions)


@dataclass(frozen=True)
class Options:
    """transfer's own options.

    Attributes:
        source: run folder or .ckpt of the CIFAR-10 CNN to start from (default: make best's)
        pixels: input sizes, in px (32 px; 32 96 adds STL-10's own size, 9x the pixels)
    """

    source: Path | None = None
    pixels: tuple[Literal[32, 64, 96], ...] = (RESOLUTIONS[0],)


QUESTION = register(
    Question(
        __name__,
        "Transfer from the strong CNN",
        BEYOND,
        "transfer",
        order=220,
        result_type=TransferResult,
        asks="Fine-tune the best CIFAR-10 CNN on the STL-10 subset: how much does the starting network matter "
        "(at 32 px; with `--pixels 32 96`, also the resolution)?",
        configs="experiments/stl10.yaml + stl10_strong.yaml (+ stl10_strong_scratch, stl10_pretrained, stl10_head, "
        "stl10_finetune)",
        may_read=("best", "finetune"),  # best: unless --source names the checkpoint
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
