"""CV1 part 2, §2.4 (b): add 2 layers to TwoLayerNet and to ConvNet; does accuracy rise, and why?

    make deeper         # or: python -m lab.questions deeper [--seeds 3] [--epochs N]

Both networks train with their base configs at the study's budget (experiments/hparams_study.yaml)
and the study's best learning rate (the rate tuned for the shallow net), over --seeds seeds, against
deeper versions; one thing changes per comparison:
- TwoLayerNet: hidden sizes [512] -> [512, 256, 128] (two more Linear + ReLU layers);
- ConvNet, same widths: two more 3x3 convolutions after C1 and C3 with the widths of the layers they
  follow (6 and 16 channels): depth alone;
- ConvNet, wider: the same two convolutions with 64 channels each, which also widens C3's and C5's
  inputs: depth and width together. Against the same-width variant it isolates width.
A deeper net may want another learning rate: each deeper variant also gets a short sweep (the tuned rate
/ 3 and x 3, seed 0) and, where another rate wins, is trained over the seeds at that rate too, so depth
is compared both as tuned for the shallow net and re-tuned. Un-augmented training accuracy (train_eval/acc)
then says whether a drop is optimisation (the deeper net fits its training set less) or over-fitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.engine.config import EXPERIMENTS, compose
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.hparams import CONVNET, TWOLAYER, HparamsResult, bracket
from lab.questions.stats import Difference, pct
from lab.questions.training import Job, RunSummary, Variant, fit_many, over_seeds
from lab.viz.curves import plot_curves

# the variants' labels: other questions find them in this one's result by these constants
ORIGINAL, MORE_FC = "original", "+2 FC layers"
SAME_WIDTHS, WIDER = "+2 convs, same widths", "+2 convs, 64 channels"
BASE_CONFIGS = {TWOLAYER: "twolayer", CONVNET: "lenet"}
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {  # network -> label -> change to its config
    TWOLAYER: {
        ORIGINAL: {},
        MORE_FC: {"model": {"net": {"init_args": {"hidden_sizes": [512, 256, 128]}}}},
    },
    CONVNET: {
        ORIGINAL: {},
        SAME_WIDTHS: {"model": {"net": {"init_args": {"extra_convs": 2, "extra_channels": None}}}},
        WIDER: {"model": {"net": {"init_args": {"extra_convs": 2, "extra_channels": 64}}}},
    },
}
# (network, reference, variant, what the comparison isolates)
COMPARISONS = [
    (TWOLAYER, ORIGINAL, MORE_FC, "two more fully connected layers"),
    (CONVNET, ORIGINAL, SAME_WIDTHS, "depth alone (two more convolutions, same widths)"),
    (CONVNET, SAME_WIDTHS, WIDER, "width alone (64 instead of 6/16 channels)"),
    (CONVNET, ORIGINAL, WIDER, "depth and width together"),
]


RETUNED = ", re-tuned"  # label suffix of a deeper variant trained at its own best learning rate


@dataclass
class DeeperResult:
    sources: dict[str, str]  # network -> the setting it trains with and where it came from
    variants: list[Variant]
    figures: list[Figure] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)  # network -> the rate tuned for the shallow net
    sweeps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # "net: label" -> (lr, val acc)

    def variant(self, network: str, label: str) -> Variant:
        return next(v for v in self.variants if v.network == network and v.label == label)

    def has(self, network: str, label: str) -> bool:
        return any(v.network == network and v.label == label for v in self.variants)

    def difference(self, network: str, reference: str, label: str) -> Difference:
        return Difference.between(self.variant(network, reference).test, self.variant(network, label).test)


def budget() -> dict[str, Any]:
    """The hyperparameter study's epochs, so that these runs compare with its base runs."""
    return {"trainer": {"max_epochs": yaml.safe_load((EXPERIMENTS / "hparams_study.yaml").read_text())["epochs"]}}


def tuned_rates(study: HparamsResult | None) -> tuple[dict[str, float], str]:
    """Each network's best learning rate of the latest `make hparams` (else its base config's rate)."""
    rates, source = {}, "the study's best learning rate" if study else "the base config's learning rate"
    for network, config in BASE_CONFIGS.items():
        best = bracket(study.lr_points(network))[1] if study and network in study.best else None
        rates[network] = best or compose([config])["model"]["optimizer"]["init_args"]["lr"]
    return rates, source


def rate(lr: float) -> dict[str, Any]:
    return {"model": {"optimizer": {"init_args": {"lr": lr}}}}


def sweep(ctx: RunContext, rates: dict[str, float], epochs: dict) -> dict[str, list[tuple[float, float]]]:
    """Every deeper variant at the tuned rate / 3, itself and x 3 (seed 0): "network: label" -> (lr, val acc),
    NaN where a rate diverged."""
    from lab.engine.config import merge

    keys = [
        (n, label, lr)
        for n, labels in VARIANTS.items()
        for label in labels
        if label != ORIGINAL
        for lr in (rates[n] / 3, rates[n], rates[n] * 3)
    ]
    jobs = [
        Job((BASE_CONFIGS[n], epochs), merge(VARIANTS[n][label], rate(lr)), run_name(n, label, lr))
        for n, label, lr in keys
    ]
    found: dict[str, list[tuple[float, float]]] = {}
    for (n, label, lr), outcome in zip(keys, fit_many(ctx, jobs)):
        acc = outcome.val_acc if isinstance(outcome, RunSummary) else float("nan")
        found.setdefault(f"{n}: {label}", []).append((lr, acc))
    return found


def run_name(network: str, label: str, lr: float) -> str:
    return f"deeper/{network}_{label.replace(' ', '').replace(',', '_')}_lr{lr:g}"


def best_rate(points: list[tuple[float, float]]) -> float:
    return max((p for p in points if p[1] == p[1]), key=lambda p: p[1])[0]


def run(ctx: RunContext, out: Path, hparams: HparamsResult | None) -> DeeperResult:
    from lab.engine.config import merge

    epochs = budget()
    rates, source = tuned_rates(hparams)
    sweeps = sweep(ctx, rates, epochs)
    specs = {}
    for network, labels in VARIANTS.items():
        for label, change in labels.items():
            lr = rates[network]
            specs[(network, label)] = (
                [BASE_CONFIGS[network], epochs],
                merge(change, rate(lr)),
                run_name(network, label, lr),
            )
            own = best_rate(sweeps[f"{network}: {label}"]) if label != ORIGINAL else lr
            if own != lr:
                specs[(network, f"{label}{RETUNED} (lr {own:.3g})")] = (
                    [BASE_CONFIGS[network], epochs],
                    merge(change, rate(own)),
                    run_name(network, label, own),
                )
    variants = [
        Variant(label, runs, network, specs[(network, label)][1])
        for (network, label), runs in over_seeds(ctx, specs).items()
    ]
    curves = plot_curves(
        {f"{v.network} {v.label}": v.runs[0].history for v in variants},
        out / "curves.png",
        "Original vs +2 layers: training curves (seed 0)",
    )
    sources = {
        n: f"experiments/{c}.yaml, {epochs['trainer']['max_epochs']} epochs, lr {rates[n]:g} ({source})"
        for n, c in BASE_CONFIGS.items()
    }
    return DeeperResult(sources, variants, [curves], rates, sweeps)


def train_acc(v: Variant) -> float:
    """Mean last-epoch training accuracy (un-augmented, eval mode) over seeds; NaN when not measured."""
    values = [r.last.get("train_eval/acc", float("nan")) for r in v.runs]
    return sum(values) / len(values) if values else float("nan")


NOT_TRAINED = 0.15  # training accuracy below 1.5x chance on CIFAR-10's 10 classes: the network did not train


def why(r: DeeperResult, network: str, reference: str, label: str) -> str:
    """Optimisation or capacity, read from training accuracy against the reference."""
    d, ref, var = r.difference(network, reference, label), r.variant(network, reference), r.variant(network, label)
    t0, t1 = train_acc(ref), train_acc(var)
    if t0 != t0 or t1 != t1:
        return "no training-accuracy diagnostic was measured, so optimisation and capacity cannot be told apart."
    fits = f"training accuracy {pct(t0, 1)}% -> {pct(t1, 1)}%"
    if t1 < NOT_TRAINED < t0:
        return (
            f"the deeper net never left chance level ({fits}): it failed to train at this learning rate and "
            "budget (a plain stack of layers without normalisation), an optimisation failure, not a capacity limit."
        )
    if not d.measurable:
        lead = "one seed, so no verdict on test accuracy" if d.se == 0 else "no measurable change in test accuracy"
        return f"{lead}; {fits}."
    if d.delta < 0 and t1 < t0:
        return (
            f"the deeper net fits its own training set less ({fits}): an optimisation / budget effect at this "
            "learning rate and budget, not a lack of capacity."
        )
    if d.delta < 0:
        return f"the deeper net fits its training set better but generalises worse ({fits}): over-fitting."
    if t1 > t0:
        return f"the extra layers fit the training set better ({fits}) and generalise: capacity the shallow net lacked."
    return f"the deeper net generalises better without fitting its training set better ({fits}): a regularising effect."


def comparisons(r: DeeperResult) -> list[tuple[str, str, str, str]]:
    """The fixed comparisons, plus each re-tuned deeper variant against the original."""
    extra = [
        (n, ORIGINAL, v.label, f"{v.label.split(',')[0]} at its own learning rate")
        for n in VARIANTS
        for v in r.variants
        if v.network == n and RETUNED in v.label
    ]
    return [c for c in COMPARISONS if r.has(c[0], c[1]) and r.has(c[0], c[2])] + extra


def conclusions(r: DeeperResult) -> list[str]:
    lines = []
    for network, reference, label, isolates in comparisons(r):
        d = r.difference(network, reference, label)
        lines.append(f"- {network}, {isolates} ({reference} -> {label}): {d.verdict()} of mean test accuracy.")
    for network, reference, label, _ in comparisons(r):
        if "width alone" not in _:
            lines.append(f"- Why ({network}, {label}): " + why(r, network, reference, label))
    for key, points in r.sweeps.items():
        shown = ", ".join(f"{lr:.3g}: " + ("diverged" if a != a else f"{100 * a:.1f}%") for lr, a in points)
        lines.append(f"- Learning-rate sweep of {key} (validation, seed 0): {shown}.")
    return lines


def config_text(r: DeeperResult, v: Variant) -> str:
    """The setting a variant trained with: the shared one, or for a re-tuned variant its own learning rate."""
    if RETUNED not in v.label:
        return r.sources[v.network]
    lr = v.change.get("model", {}).get("optimizer", {}).get("init_args", {}).get("lr")
    return r.sources[v.network].split(", lr ")[0] + f", lr {lr:.3g} (the best of the variant's own sweep)"


def render(r: DeeperResult, folder: Path) -> list:
    rows = [
        [
            v.network,
            v.label,
            f"{v.runs[0].parameters:,}",
            v.val.pct(),
            v.test.pct(),
            pct(train_acc(v), 1),
            len(v.runs),
            config_text(r, v),
        ]
        for v in r.variants
    ]
    header = [
        "network",
        "variant",
        "parameters",
        "val acc (%)",
        "test acc (%)",
        "train acc (%)",
        "seeds",
        "configuration",
    ]
    return [
        Text(
            "TwoLayerNet gets two more Linear + ReLU layers (hidden sizes 512 -> 512, 256, 128). ConvNet gets two "
            "more 3x3 convolutions (after C1 and after C3, within the text's limit of 3 extra convolutions), once "
            "with the widths of the layers they follow (depth alone) and once with 64 channels (depth and width); "
            "each network trains with its base config for the study's budget at the learning rate tuned for the "
            "shallow net, and each deeper variant also at its own best rate of a short sweep (re-tuned). "
            "Training accuracy: last epoch, 5,000 un-augmented training images, eval mode. "
            "Differences are mean test accuracy "
            "± one standard error over seeds; within two standard errors is no measurable effect."
        ),
        Text("\n".join(conclusions(r))),
        Table(
            "Original vs +2 layers, mean ± standard deviation over seeds",
            markdown_table(header, rows, "llrrrrrl"),
            "Validation accuracy of the best checkpoint and its test accuracy (%), one run per seed.",
        ),
        *placed(r.figures, folder),
    ]


def headline(r: DeeperResult) -> str:
    return "; ".join(
        f"{net} {label}: {r.difference(net, ref, label).points()}" for net, ref, label, _ in comparisons(r)[:2]
    )


QUESTION = register(
    Question(
        __name__,
        "Two more layers",
        CV1,
        "§2.4b",
        order=40,
        result_type=DeeperResult,
        asks="Add 2 layers to TwoLayerNet and ConvNet: higher performance? Why?",
        configs="twolayer.yaml, lenet.yaml at the study's budget and best learning rate",
        may_read=("hparams",),
        run=run,
        render=render,
        headline=headline,
    )
)
