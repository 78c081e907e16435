"""CV1 part 2, §2.4 (d): TwoLayerNet vs ConvNet, side by side, from the equal-budget finals.

    make compare-nets   # or: python -m lab.questions compare_nets

Reads the latest `make final` (the 3-seed, equal-budget final of each network: performance with its
spread over seeds), `make hparams` (both learning-rate sweeps, one optimizer and schedule for both) and
`make deeper` (depth and width, each measured alone), whichever exist; trains nothing. Writes compare.png
(training curves of both finals and accuracy against learning rate on one axis) and a comparison whose
every sentence is computed from those numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.deeper import MORE_FC, ORIGINAL, SAME_WIDTHS, WIDER, DeeperResult
from lab.questions.final import FinalResult
from lab.questions.hparams import CONVNET, NETWORKS, TWOLAYER, HparamsResult, bracket, threshold
from lab.questions.stats import Difference, Spread, pct
from lab.utils.errors import LabError
from lab.utils.paths import run_folder
from lab.viz.style import figure, save

CHANCE = 0.1  # accuracy of a guess over CIFAR-10's 10 classes


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
    deeper_gain: float | None = None  # mean test-accuracy change with 2 more layers (depth alone for ConvNet)
    deeper_gain_se: float | None = None
    final_val: Spread | None = None  # the final over seeds (None: `make final` not run: the study's best run)
    final_test: Spread | None = None
    width: Difference | None = None  # ConvNet: 64 channels against the same widths, both with 2 more convs
    not_beaten: list[str] = field(default_factory=list)  # variants in the report the final does not beat
    above: list[str] = field(default_factory=list)  # of those, the ones scoring at least as high ("name (x%)")
    compared: int = 0  # how many other variants of the network the report holds

    @property
    def lr_diverged(self) -> list[str]:
        return [d.split(" = ", 1)[1] for d in self.diverged if d.startswith("learning rate = ")]

    @property
    def lr_span(self) -> float | None:
        """Best minus worst validation accuracy over the sweep; a rate that diverged counts as chance (10%)."""
        accs = [a for _, a in self.lr_sweep] + [CHANCE] * len(self.lr_diverged)
        return max(accs) - min(accs) if accs else None

    @property
    def final_gap(self) -> float | None:
        """Training accuracy (un-augmented, eval mode) minus validation accuracy at the end of the shown run."""
        last = self.history[-1] if self.history else {}
        has = "train_eval/acc" in last and "val/acc" in last
        return last["train_eval/acc"] - last["val/acc"] if has else None

    @property
    def best_lr(self) -> float | None:
        return max(self.lr_sweep, key=lambda p: p[1])[0] if self.lr_sweep else None


@dataclass
class CompareResult:
    nets: dict[str, NetSummary]
    figures: list[Figure] = field(default_factory=list)


def first_layer_parameters(network: str, options: dict | None = None) -> int:
    from lab.models import ConvNet, TwoLayerNet, count_parameters

    if network == TWOLAYER:
        return count_parameters(TwoLayerNet(**(options or {})).hidden[1])
    return count_parameters(ConvNet(**(options or {})).features.c1[0])


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
        reference, label = (ORIGINAL, MORE_FC) if network == TWOLAYER else DEPTH
        d = deeper.difference(network, reference, label)
        summary.deeper_gain, summary.deeper_gain_se = d.delta, d.se
        if network == CONVNET:
            summary.width = deeper.difference(network, *WIDTH)
    return summary


DEPTH = (ORIGINAL, SAME_WIDTHS)  # (reference, variant) of the deeper ConvNet: depth alone
WIDTH = (SAME_WIDTHS, WIDER)  # width alone


def with_final(summary: NetSummary, final: FinalResult, network: str) -> None:
    """The 3-seed, equal-budget final replaces the study's single best run as the network's performance."""
    from lab.engine.config import compose

    c = next(c for c in final.networks if c.network == network)
    options = compose([c.config, c.change])["model"]["net"].get("init_args", {})
    summary.parameters, summary.first_layer_parameters = c.runs[0].parameters, first_layer_parameters(network, options)
    summary.best_setting = f"final: {c.final_label}"
    summary.final_val, summary.final_test = (
        Spread.of([r.val_acc for r in c.runs]),
        Spread.of([r.test_acc for r in c.runs]),
    )
    summary.best_val_acc, summary.best_test_acc = summary.final_val.mean, summary.final_test.mean
    summary.history = c.runs[0].history


def not_beaten(final: Spread, others: dict[str, Spread]) -> list[str]:
    """The variants whose test accuracy the final does not measurably exceed (within 2 standard errors or
    above it; a single-run variant is compared with the final's spread alone)."""
    return [
        name
        for name, other in others.items()
        if not Difference.between(other, final).measurable or other.mean >= final.mean
    ]


def others(study: HparamsResult, deeper: DeeperResult | None, network: str, own: set[Path]) -> dict[str, Spread]:
    """Every other variant of the network in the report, with its test accuracy; a study setting whose runs
    are the final's own (``own``: the final's run folders) is the final, not a rival."""
    found = {
        f"study: {r.factor} = {r.value}": Spread.of([x.test_acc for x in r.runs])
        for r in study.rows
        if r.network == network and r.run and run_folder(r.run.run_dir) not in own
    }
    if deeper is not None:
        found |= {f"deeper: {v.label}": v.test for v in deeper.variants if v.network == network}
    return found


def run(
    ctx: RunContext, out: Path, hparams: HparamsResult, deeper: DeeperResult | None, final: FinalResult | None
) -> CompareResult:
    study = hparams
    if not set(NETWORKS) <= set(study.best):
        raise LabError(
            f"the latest hparams results under {ctx.results}/ lack one of the two networks: "
            "run `make hparams` for both."
        )
    result = CompareResult({n: summarise(study, deeper, n) for n in NETWORKS})
    if final is not None and {c.network for c in final.networks} >= set(NETWORKS):
        for n, s in result.nets.items():
            with_final(s, final, n)
            own = {run_folder(r.run_dir) for c in final.networks if c.network == n for r in c.runs}
            rivals = others(study, deeper, n, own)
            s.not_beaten, s.compared = not_beaten(s.final_test, rivals), len(rivals)
            s.above = [f"{k} ({v.pct(1)}%)" for k, v in rivals.items() if v.mean >= s.final_test.mean]
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
    axes[0].set(title="training loss (final, seed 0)", xlabel="epoch", ylabel="cross-entropy (nats)")
    axes[1].set(title="validation accuracy (final, seed 0)", xlabel="epoch", ylabel="accuracy (%)")
    axes[2].set(
        title="learning-rate sensitivity",
        xlabel="peak learning rate (log scale)",
        ylabel="best val acc (%)",
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
    return save(
        fig,
        path,
        "TwoLayerNet vs ConvNet on CIFAR-10",
        "Training loss and validation accuracy of each final (seed 0; the study's best run where no final was "
        "made); validation accuracy over the study's learning-rate sweep, one run per rate, same recipe for both.",
    )


def explain(r: CompareResult) -> list[str]:
    mlp, cnn = r.nets[TWOLAYER], r.nets[CONVNET]
    gap = cnn.best_val_acc - mlp.best_val_acc
    (better, b), (worse, w) = sorted(r.nets.items(), key=lambda item: -item[1].best_val_acc)
    spread = ""
    if mlp.final_val is not None and cnn.final_val is not None:
        spread = (
            f" Finals at equal budget, mean ± std over {cnn.final_test.n} seeds: test {mlp.final_test.pct(1)}% "
            f"(TwoLayerNet) vs {cnn.final_test.pct(1)}% (ConvNet), difference "
            f"{Difference.between(mlp.final_test, cnn.final_test).verdict()} for ConvNet."
        )
    lines = [
        f"TwoLayerNet has {mlp.parameters:,} trainable parameters, {mlp.parameters / cnn.parameters:.0f}x ConvNet's "
        f"{cnn.parameters:,}; {mlp.first_layer_parameters:,} of them "
        f"({mlp.first_layer_parameters / mlp.parameters:.1%}) "
        f"sit in its first layer, which connects every one of the 3,072 pixel values to every hidden unit, while "
        f"ConvNet's C1 shares its {cnn.first_layer_parameters:,} parameters over all positions. {better} reaches "
        f"{abs(100 * gap):.1f} points more validation accuracy than {worse} ({pct(b.best_val_acc, 1)}% vs "
        f"{pct(w.best_val_acc, 1)}%; test {pct(b.best_test_acc, 1)}% vs {pct(w.best_test_acc, 1)}%)." + spread,
    ]
    lines += locality_sentence(mlp, cnn, gap)
    lines += sensitivity_sentences(mlp, cnn)
    for name, s in r.nets.items():
        if s.diverged:
            lines.append(f"{name} diverged (the loss became infinite) at: {', '.join(s.diverged)}.")
    if mlp.deeper_gain is not None and cnn.deeper_gain is not None:
        lines.append(
            f"Two more layers changed mean test accuracy by {100 * mlp.deeper_gain:+.1f} ± "
            f"{100 * (mlp.deeper_gain_se or 0):.1f} points (s.e.) for TwoLayerNet and by "
            f"{100 * cnn.deeper_gain:+.1f} ± "
            f"{100 * (cnn.deeper_gain_se or 0):.1f} points (s.e.) for ConvNet at equal widths (depth alone)"
            + (
                f"; widening those two convolutions to 64 channels: {cnn.width.verdict()} (width alone)."
                if cnn.width is not None
                else "."
            )
        )
    for name, s in r.nets.items():
        if s.final_test is not None:
            lines.append(beaten_sentence(name, s))
    return lines


def locality_sentence(mlp: NetSummary, cnn: NetSummary, gap: float) -> list[str]:
    """Why ConvNet generalises better, when it does, from the measured train-val gaps of the shown runs."""
    if gap <= 0 or mlp.final_gap is None or cnn.final_gap is None:
        return []
    gaps = f"train - val gap: TwoLayerNet {100 * mlp.final_gap:.1f}, ConvNet {100 * cnn.final_gap:.1f} points"
    if mlp.final_gap > cnn.final_gap:
        return [
            f"TwoLayerNet fits its training images further beyond what it generalises ({gaps}): its fully "
            "connected first layer must learn every shifted copy of a pattern, while ConvNet's shared local "
            "filters and pooling build in locality and tolerance to shifts."
        ]
    return [
        f"ConvNet is better although its gap is not smaller ({gaps}): it fits the training images better as well, "
        "so its advantage is in optimisation and fit, not in generalisation alone."
    ]


def sensitivity_sentences(mlp: NetSummary, cnn: NetSummary) -> list[str]:
    """Learning-rate sensitivity from the two sweeps (one optimizer, schedule and budget), both ends apart."""
    if mlp.lr_span is None or cnn.lr_span is None:
        return []
    lines = [
        f"Over the learning-rate sweep (one optimizer, schedule and budget for both; a diverged rate counted as "
        f"chance, 10%), TwoLayerNet's validation accuracy spans {100 * mlp.lr_span:.1f} points "
        f"({bracket_words(mlp)}) and ConvNet's {100 * cnn.lr_span:.1f} points ({bracket_words(cnn)}). Neither "
        "span alone says which network is more sensitive: the two ends of the sweep fail differently."
    ]
    if mlp.lr_diverged and not cnn.lr_diverged:
        lines.append(
            f"At the high end only TwoLayerNet diverged (lr {', '.join(mlp.lr_diverged)}): each of its first-layer "
            "units sums 3,072 products, so an update of a given rate moves its output far more than it moves a C1 "
            "unit, which sums 75 (3 x 5 x 5)."
        )
    low_mlp, low_cnn = min(mlp.lr_sweep, default=(0, 0)), min(cnn.lr_sweep, default=(1, 0))
    if low_mlp[0] == low_cnn[0] and low_cnn[1] < low_mlp[1]:
        lines.append(
            f"At the low end (lr {low_cnn[0]:g}) ConvNet falls further ({pct(low_cnn[1], 1)}% vs "
            f"{pct(low_mlp[1], 1)}%): its small convolution weights barely move from their initialisation in the "
            "budget, while the wide first layer of TwoLayerNet still fits linear features."
        )
    return lines


def beaten_sentence(name: str, s: NetSummary) -> str:
    """Whether the final is the best of its network in the report: a count, and the variants at or above it."""
    if not s.not_beaten:
        return f"{name}'s final is measurably better (test) than every other variant of it in the report."
    named = f" ({', '.join(s.not_beaten)})" if len(s.not_beaten) <= 3 else ""
    above = f"; at or above it: {', '.join(s.above)}" if s.above else f"{named}; none scores higher"
    return (
        f"{name}'s final is **not** measurably better (test accuracy, two standard errors) than {len(s.not_beaten)} "
        f"of the {s.compared} other variants of it in the report{above}."
    )


def bracket_words(s: NetSummary) -> str:
    diverged = [(float(lr), float("nan")) for lr in s.lr_diverged]  # a diverged rate bounds the sweep too
    where, best = bracket(sorted([*((float(lr), float(a)) for lr, a in s.lr_sweep), *diverged]))  # JSON: lists
    return "no sweep" if best is None else f"best {best:g}, {where}"


def render(r: CompareResult, folder: Path) -> list:
    rows = []
    for name, s in r.nets.items():
        gain = f"{100 * s.deeper_gain:+.1f}" if s.deeper_gain is not None else "not run"
        val = s.final_val.pct() if s.final_val is not None else pct(s.best_val_acc)
        test = s.final_test.pct() if s.final_test is not None else pct(s.best_test_acc)
        rows.append(
            [
                name,
                f"{s.parameters:,}",
                s.best_setting,
                val,
                test,
                f"{s.best_lr:g}" if s.best_lr else "no sweep",
                f"{100 * s.lr_span:.1f}" if s.lr_span is not None else "–",
                gain,
            ]
        )
    header = [
        "network",
        "parameters",
        "setting",
        "val acc (%)",
        "test acc (%)",
        "best lr in sweep",
        "lr sensitivity (pts)",
        "+2 layers, depth alone (test pts)",
    ]
    return [
        Table(
            "TwoLayerNet vs ConvNet",
            markdown_table(header, rows, "lrlrrrrr"),
            "Each network's final (mean ± std over seeds, equal budgets; the study's best single run where no final "
            "was made), the best rate of the learning-rate sweep, the spread of validation accuracy over that "
            "sweep and the mean test-accuracy change with 2 more layers at equal widths.",
        ),
        *(Text(line) for line in explain(r)),
        *placed(r.figures, folder),
    ]


def headline(r: CompareResult) -> str:
    mlp, cnn = r.nets[TWOLAYER], r.nets[CONVNET]
    return f"ConvNet {pct(cnn.best_val_acc, 1)}% vs TwoLayerNet {pct(mlp.best_val_acc, 1)}% validation"


QUESTION = register(
    Question(
        __name__,
        "TwoLayerNet vs ConvNet",
        CV1,
        "§2.4d",
        order=50,
        result_type=CompareResult,
        asks="Compare the two networks: architecture, performance, learning rates.",
        configs="the results of make hparams and make deeper",
        reads=("hparams",),
        may_read=("deeper", "final"),
        run=run,
        render=render,
        headline=headline,
    )
)
