"""CV1 part 2, §2.4 (b): add 2 layers to TwoLayerNet and to ConvNet; does accuracy rise, and why?

    make deeper         # or: python -m lab.questions deeper [--seeds 3] [--epochs N]

Both networks train with their base configs at the study's budget (experiments/hparams_study.yaml:
6 epochs), over --seeds seeds, against deeper versions; one thing changes per comparison:
- TwoLayerNet: hidden sizes [512] -> [512, 256, 128] (two more Linear + ReLU layers);
- ConvNet, same widths: two more 3x3 convolutions after C1 and C3 with the widths of the layers they
  follow (6 and 16 channels): depth alone;
- ConvNet, wider: the same two convolutions with 64 channels each, which also widens C3's and C5's
  inputs: depth and width together. Against the same-width variant it isolates width.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.config import EXPERIMENTS
from lab.questions import CV1, Question, register
from lab.questions.stats import Difference
from lab.questions.training import Variant, over_seeds
from lab.report.blocks import Figure, Table, Text, markdown_table, placed
from lab.viz.curves import plot_curves

BASE_CONFIGS = {"TwoLayerNet": "twolayer", "ConvNet": "lenet"}
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {  # network -> label -> change to its config
    "TwoLayerNet": {
        "original": {},
        "+2 FC layers": {"model": {"net": {"init_args": {"hidden_sizes": [512, 256, 128]}}}},
    },
    "ConvNet": {
        "original": {},
        "+2 convs, same widths": {"model": {"net": {"init_args": {"extra_convs": 2, "extra_channels": None}}}},
        "+2 convs, 64 channels": {"model": {"net": {"init_args": {"extra_convs": 2, "extra_channels": 64}}}},
    },
}
# (network, reference, variant, what the comparison isolates)
COMPARISONS = [
    ("TwoLayerNet", "original", "+2 FC layers", "two more fully connected layers"),
    ("ConvNet", "original", "+2 convs, same widths", "depth alone (two more convolutions, same widths)"),
    ("ConvNet", "+2 convs, same widths", "+2 convs, 64 channels", "width alone (64 instead of 6/16 channels)"),
    ("ConvNet", "original", "+2 convs, 64 channels", "depth and width together"),
]


@dataclass
class DeeperResult:
    sources: dict[str, str]  # network -> the setting it trains with and where it came from
    variants: list[Variant]
    figures: list[Figure] = field(default_factory=list)

    def variant(self, network: str, label: str) -> Variant:
        return next(v for v in self.variants if v.network == network and v.label == label)

    def difference(self, network: str, reference: str, label: str) -> Difference:
        return Difference.between(self.variant(network, reference).test, self.variant(network, label).test)


QUESTION = register(Question(
    __name__, "Two more layers", CV1, "§2.4b", order=40, result_type=DeeperResult,
    asks="Add 2 layers to TwoLayerNet and ConvNet: higher performance? Why?",
    configs="twolayer.yaml, lenet.yaml at the study's 6 epochs"))  # fmt: skip


def budget() -> dict[str, Any]:
    """The hyperparameter study's epochs, so that these runs compare with its base runs."""
    return {"trainer": {"max_epochs": yaml.safe_load((EXPERIMENTS / "hparams_study.yaml").read_text())["epochs"]}}


def run(args: Namespace, out: Path) -> DeeperResult:
    epochs = budget()
    specs = {(network, label): ([BASE_CONFIGS[network], epochs], change,
                                f"deeper/{network}_{label.replace(' ', '').replace(',', '_')}")
             for network, labels in VARIANTS.items() for label, change in labels.items()}  # fmt: skip
    variants = [Variant(label, runs, network, specs[(network, label)][1])
                for (network, label), runs in over_seeds(args, specs).items()]  # fmt: skip
    curves = plot_curves({f"{v.network} {v.label}": v.runs[0].history for v in variants}, out / "curves.png",
                         "Original vs +2 layers: training curves (seed 0)")  # fmt: skip
    sources = {n: f"experiments/{c}.yaml, {epochs['trainer']['max_epochs']} epochs" for n, c in BASE_CONFIGS.items()}
    return DeeperResult(sources, variants, [curves])


WHY = {
    ("TwoLayerNet", True): "The extra fully connected layers add nonlinear capacity on top of the 512 hidden units.",
    ("TwoLayerNet", False): "On raw pixels, extra fully connected layers add capacity without any notion of locality: "
    "the first layer's 1.5 M weights still have to learn every shifted copy of a pattern.",
    ("ConvNet", True): "Extra 3x3 convolutions build more nonlinear local features before each pooling step, with a "
    "larger receptive field, for few parameters.",
    ("ConvNet", False): "With the same narrow widths, two more layers add little: the 6 and 16 channels, not the "
    "depth, limit what each stage can represent.",
}


def conclusions(r: DeeperResult) -> list[str]:
    lines = []
    for network, reference, label, isolates in COMPARISONS:
        d = r.difference(network, reference, label)
        lines.append(f"- {network}, {isolates} ({reference} -> {label}): {d.verdict()} of mean test accuracy.")
    for network, reference, label, _ in COMPARISONS[:2]:
        d = r.difference(network, reference, label)
        lines.append(f"- Why ({network}): " + WHY[(network, d.measurable and d.delta > 0)])
    return lines


def render(r: DeeperResult, folder: Path) -> list:
    rows = [
        [v.network, v.label, f"{v.runs[0].parameters:,}", v.val.pct(), v.test.pct(), len(v.runs), r.sources[v.network]]
        for v in r.variants
    ]
    header = ["network", "variant", "parameters", "val acc (%)", "test acc (%)", "seeds", "configuration"]
    return [
        Text(
            "TwoLayerNet gets two more Linear + ReLU layers (hidden sizes 512 -> 512, 256, 128). ConvNet gets two "
            "more 3x3 convolutions (after C1 and after C3, within the text's limit of 3 extra convolutions), once "
            "with the widths of the layers they follow (depth alone) and once with 64 channels (depth and width); "
            "each network trains with its base config for the study's budget. Differences are mean test accuracy "
            "± one standard error over seeds; within two standard errors is no measurable effect."
        ),
        Text("\n".join(conclusions(r))),
        Table("Original vs +2 layers, mean ± standard deviation over seeds", markdown_table(header, rows, "llrrrrl"),
               "Validation accuracy of the best checkpoint and its test accuracy (%), one run per seed."),
        *placed(r.figures, folder),
    ]  # fmt: skip


def headline(r: DeeperResult) -> str:
    return "; ".join(
        f"{net} {label}: {r.difference(net, ref, label).points()}" for net, ref, label, _ in COMPARISONS[:2]
    )
