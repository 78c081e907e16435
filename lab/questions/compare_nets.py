"""CV1 part 2, §2.4 (d): TwoLayerNet vs ConvNet, side by side, from the study's results.

    make compare-nets   # or: python -m lab.questions compare_nets

Reads the latest `make hparams` (and `make deeper`, if present); trains nothing. Writes compare.png
(training curves of both best runs and accuracy against learning rate) and a comparison whose every
sentence is computed from those numbers.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import LabError
from lab.questions import CV1, Question, register
from lab.questions.deeper import DeeperResult
from lab.questions.hparams import HparamsResult, threshold
from lab.questions.results import latest, load
from lab.questions.stats import pct
from lab.report.blocks import Figure, Table, Text, markdown_table, placed
from lab.viz.style import figure, save

NETWORKS = ("TwoLayerNet", "ConvNet")


@dataclass
class NetSummary:
    parameters: int
    first_layer_parameters: int  # weights + biases of the first layer (3,072-input Linear or C1)
    best_setting: str
    best_val_acc: float
    best_test_acc: float
    noise_band: float  # a single-run difference beyond this is an effect (see hparams.threshold)
    lr_sweep: list[tuple[float, float]]  # (peak lr, best val acc)
    diverged: list[str]  # settings whose loss became NaN/inf
    history: list[dict[str, float]]  # per-epoch metrics of the best run
    deeper_gain: float | None = None  # mean test-accuracy change with 2 more layers
    deeper_gain_se: float | None = None

    @property
    def lr_span(self) -> float | None:
        accs = [a for _, a in self.lr_sweep]
        return max(accs) - min(accs) if accs else None

    @property
    def best_lr(self) -> float | None:
        return max(self.lr_sweep, key=lambda p: p[1])[0] if self.lr_sweep else None


@dataclass
class CompareResult:
    nets: dict[str, NetSummary]
    figures: list[Figure] = field(default_factory=list)


QUESTION = register(Question(
    __name__, "TwoLayerNet vs ConvNet", CV1, "§2.4d", order=50, result_type=CompareResult,
    asks="Compare the two networks: architecture, performance, learning rates.",
    configs="the results of make hparams and make deeper", reads=("hparams", "deeper")))  # fmt: skip


def first_layer_parameters(network: str) -> int:
    from lab.models import ConvNet, TwoLayerNet, count_parameters

    return count_parameters(TwoLayerNet().hidden[1] if network == "TwoLayerNet" else ConvNet().features.c1[0])


def summarise(study: HparamsResult, deeper: DeeperResult | None, network: str) -> NetSummary:
    best = study.best_row(network)
    summary = NetSummary(
        parameters=best.run.parameters,
        first_layer_parameters=first_layer_parameters(network),
        best_setting=f"{best.factor} = {best.value}",
        best_val_acc=best.val_acc,
        best_test_acc=best.run.test_acc,
        noise_band=threshold(study.noise[network]),
        lr_sweep=study.lr_sweep(network),
        diverged=[f"{r.factor} = {r.value}" for r in study.rows if r.network == network and not r.run],
        history=best.run.history,
    )
    if deeper is not None:
        reference, label = (
            ("original", "+2 FC layers") if network == "TwoLayerNet" else ("original", "+2 convs, 64 channels")
        )
        d = deeper.difference(network, reference, label)
        summary.deeper_gain, summary.deeper_gain_se = d.delta, d.se
    return summary


def run(args: Namespace, out: Path) -> CompareResult:
    folder = latest("hparams", args.results)
    if folder is None:
        raise LabError(f"no hparams results under {args.results}/: run `make hparams` first (compare-nets reads them).")
    study = load(HparamsResult, folder)
    if not set(NETWORKS) <= set(study.best):
        raise LabError(f"{folder} lacks one of the two networks: run `make hparams` for both.")
    deeper_folder = latest("deeper", args.results)
    deeper = load(DeeperResult, deeper_folder) if deeper_folder else None
    result = CompareResult({n: summarise(study, deeper, n) for n in NETWORKS})
    result.figures.append(draw(result, out / "compare.png"))
    return result


def draw(result: CompareResult, path: Path) -> Figure:
    fig, axes = figure(1, 3, size=(11, 3.8))
    for name, s in result.nets.items():
        epochs = [e["epoch"] + 1 for e in s.history]
        axes[0].plot(epochs, [e.get("train/loss") for e in s.history], marker="o", markersize=3, label=name)
        axes[1].plot(
            epochs, [100 * e.get("val/acc", float("nan")) for e in s.history], marker="o", markersize=3, label=name
        )
        if s.lr_sweep:
            axes[2].plot([lr for lr, _ in s.lr_sweep], [100 * a for _, a in s.lr_sweep], marker="o", label=name)
    axes[0].set(title="training loss (best run)", xlabel="epoch", ylabel="cross-entropy (nats)")
    axes[1].set(title="validation accuracy (best run)", xlabel="epoch", ylabel="accuracy (%)")
    axes[2].set(
        title="sensitivity to learning rate", xlabel="peak learning rate (log scale)", ylabel="best val acc (%)"
    )
    axes[2].set_xscale("log")
    if not any(s.lr_sweep for s in result.nets.values()):
        axes[2].text(
            0.5, 0.5, "no learning-rate sweep\nin this study", ha="center", va="center", transform=axes[2].transAxes
        )
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    return save(fig, path, "TwoLayerNet vs ConvNet on CIFAR-10", "Training loss and validation accuracy of each best "
                "run; validation accuracy over the learning-rate sweep.")  # fmt: skip


def explain(r: CompareResult) -> list[str]:
    mlp, cnn = r.nets["TwoLayerNet"], r.nets["ConvNet"]
    gap = cnn.best_val_acc - mlp.best_val_acc
    (better, b), (worse, w) = sorted(r.nets.items(), key=lambda item: -item[1].best_val_acc)
    lines = [
        f"TwoLayerNet has {mlp.parameters:,} trainable parameters, {mlp.parameters / cnn.parameters:.0f}x ConvNet's "
        f"{cnn.parameters:,}; {mlp.first_layer_parameters:,} of them "
        f"({mlp.first_layer_parameters / mlp.parameters:.1%}) "
        f"sit in its first layer, which connects every one of the 3,072 pixel values to every hidden unit, while "
        f"ConvNet's C1 shares its {cnn.first_layer_parameters:,} parameters over all positions. {better} reaches "
        f"{abs(100 * gap):.1f} points more validation accuracy than {worse} ({pct(b.best_val_acc, 1)}% vs "
        f"{pct(w.best_val_acc, 1)}%; test {pct(b.best_test_acc, 1)}% vs {pct(w.best_test_acc, 1)}%).",
    ]
    if gap > 0:
        lines.append(
            "Shared local filters and pooling build in locality and tolerance to shifts, so ConvNet's few "
            "parameters generalise; the fully connected net must learn every shifted copy of a pattern."
        )
    if mlp.lr_span is not None and cnn.lr_span is not None:
        more, less = ("TwoLayerNet", "ConvNet") if mlp.lr_span > cnn.lr_span else ("ConvNet", "TwoLayerNet")
        lines.append(
            f"Over the learning-rate sweep, TwoLayerNet's validation accuracy spans {100 * mlp.lr_span:.1f} points "
            f"(best at lr {mlp.best_lr:g}) and ConvNet's {100 * cnn.lr_span:.1f} points (best at lr {cnn.best_lr:g}): "
            f"{more} is the more sensitive one. Each of TwoLayerNet's first-layer units sums 3,072 products, so an "
            "update of a given learning rate moves its output far more than it moves a C1 unit, which sums 75 "
            "(3 x 5 x 5): the same rate is effectively larger for the fully connected net."
        )
    for name, s in r.nets.items():
        if s.diverged:
            lines.append(f"{name} diverged (the loss became infinite) at: {', '.join(s.diverged)}.")
    if mlp.deeper_gain is not None and cnn.deeper_gain is not None:
        lines.append(
            f"Two more layers changed mean test accuracy by {100 * mlp.deeper_gain:+.1f} ± "
            f"{100 * (mlp.deeper_gain_se or 0):.1f} points for TwoLayerNet and {100 * cnn.deeper_gain:+.1f} ± "
            f"{100 * (cnn.deeper_gain_se or 0):.1f} points for ConvNet (64-channel variant)."
        )
    return lines


def render(r: CompareResult, folder: Path) -> list:
    rows = []
    for name, s in r.nets.items():
        gain = f"{100 * s.deeper_gain:+.1f}" if s.deeper_gain is not None else "not run"
        rows.append(
            [
                name,
                f"{s.parameters:,}",
                s.best_setting,
                pct(s.best_val_acc),
                pct(s.best_test_acc),
                f"{s.best_lr:g}" if s.best_lr else "no sweep",
                f"{100 * s.lr_span:.1f}" if s.lr_span is not None else "–",
                gain,
            ]
        )
    header = [
        "network",
        "parameters",
        "best setting",
        "best val acc (%)",
        "its test acc (%)",
        "best lr in sweep",
        "lr sensitivity (pts)",
        "+2 layers (test pts)",
    ]
    return [
        Table("TwoLayerNet vs ConvNet", markdown_table(header, rows, "lrlrrrrr"),
               "Best setting of the study per network, its accuracies, the best rate of the learning-rate sweep, the "
               "spread of validation accuracy over that sweep and the mean test-accuracy change with 2 more layers."),
        *(Text(line) for line in explain(r)),
        *placed(r.figures, folder),
    ]  # fmt: skip


def headline(r: CompareResult) -> str:
    mlp, cnn = r.nets["TwoLayerNet"], r.nets["ConvNet"]
    return f"ConvNet {pct(cnn.best_val_acc, 1)}% vs TwoLayerNet {pct(mlp.best_val_acc, 1)}% validation"
