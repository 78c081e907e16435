"""CV1 part 2, §2.4 (a, c): hyperparameter study of TwoLayerNet and ConvNet.

    make hparams          # default study (~25 min on 2 CPU cores); FULL=1 adds the larger grid
    python -m lab.questions hparams [--full] [--networks ConvNet] [--factors "learning rate"] [--study YAML]

The study (experiments/hparams_study.yaml) changes one factor at a time around each network's base
config: learning rate, batch size, epochs, optimizer, weight decay, augmentation, batch norm. Lightning's
learning-rate finder (Tuner.lr_find) shows first where the usable range lies. The base config is also
trained with --seeds seeds: its spread is the noise band against which every single-run difference is
judged. The best setting of each network is picked by validation accuracy only.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.tuner import Tuner

from lab.callbacks import FiniteLossGuard
from lab.config import EXPERIMENTS, compose
from lab.questions import CV1, Question, register
from lab.questions.stats import Spread, pct
from lab.questions.training import Job, RunSummary, fit_many, user_layers
from lab.report.blocks import Figure, Table, Text, markdown_table, placed
from lab.train import prepare
from lab.viz.curves import plot_curves
from lab.viz.style import figure, save

STUDY = EXPERIMENTS / "hparams_study.yaml"
BASE = ("base", "-")


@dataclass
class StudyRow:
    network: str
    factor: str
    value: str
    change: dict[str, Any]
    run: RunSummary | None  # None: diverged
    diverged: str = ""  # the error of a run whose loss became NaN/inf
    same_as_base: bool = False  # the change left the base config as it was: the base run is reused

    @property
    def val_acc(self) -> float:
        return self.run.val_acc if self.run else math.nan


@dataclass
class HparamsResult:
    epochs: int
    base_configs: dict[str, str]  # network -> experiments/<name>.yaml
    rows: list[StudyRow]
    best: dict[str, int]  # network -> index of its best row (validation accuracy)
    noise: dict[str, Spread]  # network -> best val acc of the base config over seeds
    lr_finder: dict[str, float | None]  # network -> the finder's suggested learning rate
    noise_runs: dict[str, list[RunSummary]] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)

    def best_row(self, network: str) -> StudyRow:
        return self.rows[self.best[network]]

    def base_row(self, network: str) -> StudyRow:
        return next(r for r in self.rows if r.network == network and (r.factor, r.value) == BASE)

    def factor_rows(self, network: str, factor: str) -> list[StudyRow]:
        return [r for r in self.rows if r.network == network and r.factor == factor]

    def lr_sweep(self, network: str) -> list[tuple[float, float]]:
        return sorted((float(r.value), r.val_acc) for r in self.factor_rows(network, "learning rate") if r.run)


QUESTION = register(Question(
    __name__, "Hyperparameter optimization", CV1, "§2.4a,c", order=30, result_type=HparamsResult,
    asks="Tune both networks (learning rate, batch size, epochs, optimizer, weight decay, augmentation, batch "
         "norm) and describe the influence of each.",
    configs="experiments/hparams_study.yaml on twolayer.yaml and lenet.yaml"))  # fmt: skip


def load_study(path: Path, full: bool) -> dict:
    study = yaml.safe_load(path.read_text())
    factors = {BASE: {}} | {
        (f, str(v)): change for f, values in study["factors"].items() for v, change in values.items()
    }
    if full:
        grid = study["full"]
        for lr, bs, bn in itertools.product(grid["learning rate"], grid["batch size"], grid["batch norm"]):
            factors[("full grid", f"lr {lr}, batch {bs}, BN {bn}")] = {
                "model": {"optimizer": {"init_args": {"lr": lr}}, "net": {"init_args": {"batch_norm": bn}}},
                "data": {"init_args": {"batch_size": bs}},
                "trainer": {"max_epochs": grid["epochs"]},
            }
    return {**study, "factors": factors}


def lr_finder(args: Namespace, config: str, steps: int) -> dict:
    """Tuner.lr_find on the network's base config: the loss-vs-lr sweep and its suggestion. A probe: no
    checkpoint is kept (the finder's own restore point lives in a temporary folder, removed after)."""
    with tempfile.TemporaryDirectory(prefix="lab-lr-find-") as scratch:
        quiet = {"trainer": {"logger": False, "enable_progress_bar": False, "default_root_dir": scratch}}
        cli = prepare([config, *user_layers(args), quiet], test=False, record=False)
        probes = (FiniteLossGuard, ModelCheckpoint)  # it diverges on purpose, and is not a run to keep
        cli.trainer.callbacks = [c for c in cli.trainer.callbacks if not isinstance(c, probes)]
        finder = Tuner(cli.trainer).lr_find(
            cli.model, datamodule=cli.datamodule, min_lr=1e-4, max_lr=1.0, num_training=steps, update_attr=False
        )
    return {"lr": finder.results["lr"], "loss": finder.results["loss"], "suggestion": finder.suggestion()}


def plan(args: Namespace, networks: dict[str, str], study: dict) -> list[tuple[str, tuple[str, str], dict, Job | None]]:
    """(network, (factor, value), change, job) for every run of the study, in order: the study's settings
    (job None: the change leaves the base config as it is, the base run is reused), then the base
    config with seeds 1 .. --seeds - 1 (factor "noise"), which with seed 0 give the noise band."""
    epochs = {"trainer": {"max_epochs": args.epochs or study["epochs"]}}
    runs = []
    for network, config in networks.items():
        base = compose([config, epochs])
        for key, change in study["factors"].items():
            if args.factors and key[0] not in args.factors and key != BASE:
                continue
            same = key != BASE and compose([base, change]) == base
            name = f"hparams/{config}/{key[0]}={key[1]}".replace(" ", "_")
            runs.append((network, key, change, None if same else Job((config, epochs), change, name)))
        for seed in range(1, args.seeds):
            job = Job((config, epochs), {}, f"hparams/{config}/base_seed{seed}", seed)
            runs.append((network, ("noise", str(seed)), {}, job))
    return runs


def assemble(runs: list, outcomes: list) -> tuple[list[StudyRow], dict[str, list[RunSummary]]]:
    """The study's rows and each network's base runs over seeds, from the plan and the outcomes."""
    outcomes, rows, noise = iter(outcomes), [], {}
    for network, (factor, value), change, job in runs:
        base = next((r for r in rows if r.network == network and (r.factor, r.value) == BASE), None)
        outcome = next(outcomes) if job else base.run
        summary = outcome if isinstance(outcome, RunSummary) else None
        if factor == "noise":
            noise[network].append(summary)
            continue
        rows.append(StudyRow(network, factor, value, change, summary, "" if summary else str(outcome), job is None))
        if (factor, value) == BASE:
            noise[network] = [summary]
    return rows, {k: [r for r in v if r] for k, v in noise.items()}


def run(args: Namespace, out: Path) -> HparamsResult:
    study = load_study(args.study, args.full)
    networks = {k: v for k, v in study["networks"].items() if not args.networks or k in args.networks}
    unknown = set(args.factors or []) - {f for f, _ in study["factors"]}
    if not networks or unknown:
        raise ValueError(
            f"--networks must name some of {list(study['networks'])} and --factors some of "
            f"{sorted({f for f, _ in study['factors']} - {'base'})}"
        )
    finders = {name: lr_finder(args, config, study["lr_finder_steps"]) for name, config in networks.items()}
    runs = plan(args, networks, study)
    rows, noise = assemble(runs, fit_many(args, [job for *_, job in runs if job]))
    best = {
        n: rows.index(max((r for r in rows if r.network == n and r.run), key=lambda r: r.val_acc)) for n in networks
    }
    result = HparamsResult(
        epochs=args.epochs or study["epochs"], base_configs=networks, rows=rows, best=best,
        noise={k: Spread.of([r.val_acc for r in v]) for k, v in noise.items()},
        lr_finder={k: f["suggestion"] for k, f in finders.items()}, noise_runs=noise,
    )  # fmt: skip
    result.figures = draw(result, finders, out)
    return result


# -- figures ------------------------------------------------------------------------------------
def draw_lr_finder(finders: dict, path: Path) -> Figure:
    fig, ax = figure()
    for name, f in finders.items():
        hint = f"suggestion {f['suggestion']:.3g}" if f["suggestion"] else "no suggestion: too few points"
        ax.plot(f["lr"], f["loss"], label=f"{name} ({hint})")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate (log scale)", ylabel="training loss, smoothed (nats)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path, "Lightning LR finder: loss while the learning rate grows (SGD)",
                "Training loss while the learning rate grows exponentially, one SGD step per rate.")  # fmt: skip


def draw_acc_vs_lr(result: HparamsResult, path: Path) -> Figure:
    fig, ax = figure()
    for name in result.best:
        if result.lr_sweep(name):
            ax.plot(*zip(*[(lr, 100 * acc) for lr, acc in result.lr_sweep(name)]), marker="o", label=name)
    ax.set_xscale("log")
    ax.set(xlabel="peak learning rate (SGD + one-cycle, log scale)", ylabel="best validation accuracy (%)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no learning-rate factor in this study", ha="center", va="center", transform=ax.transAxes)
    return save(fig, path, "Validation accuracy against learning rate", "SGD with a one-cycle schedule, one run each.")


def draw(result: HparamsResult, finders: dict, out: Path) -> list[Figure]:
    curves = {f"{n}: {result.best_row(n).factor} = {result.best_row(n).value}": result.best_row(n).run.history
              for n in result.best}  # fmt: skip
    best = plot_curves(curves, out / "best_curves.png", "Training curves of the best run of each network")
    return [draw_lr_finder(finders, out / "lr_finder.png"), draw_acc_vs_lr(result, out / "acc_vs_lr.png"), best]


# -- the answer -----------------------------------------------------------------------------------
# why a factor moves accuracy, in the direction the numbers show (CV1 §2.4 c asks for the influence of each)
MECHANISMS = {
    "learning rate": "too small a rate leaves the network under-trained in the fixed budget; too large a rate "
    "overshoots (and at the extreme diverges)",
    "batch size": "at a fixed number of epochs, larger batches mean fewer, less noisy updates",
    "epochs": "more epochs give the one-cycle schedule more updates at every stage; the gain shrinks as training "
    "converges and overfitting begins",
    "optimizer": (  # (when the alternative gains, when every alternative loses)
        "Adam adapts a step size per parameter, which helps where one SGD rate does not suit every layer",
        "SGD at the base config's tuned rate and one-cycle schedule beats Adam's per-parameter steps at their "
        "untuned defaults",
    ),
    "weight decay": "an L2 penalty limits the weights; it regularises a network that overfits and slows one that "
    "underfits",
    "augmentation": "flips and shifts show new variants of each image, which regularises at the cost of slower "
    "fitting within a short budget",
    "batch norm": "normalising each layer's inputs keeps activations in a range that suits one learning rate "
    "for all layers and adds a little regularising noise",
}


def threshold(noise: Spread) -> float:
    """A difference between two single runs counts as an effect beyond 2 standard deviations of a
    difference: 2 * sqrt(2) * the seed-to-seed std of the base config."""
    return 2 * math.sqrt(2) * noise.std if noise.n > 1 else 0.0


def factor_sentence(result: HparamsResult, network: str, factor: str) -> str:
    rows, base = result.factor_rows(network, factor), result.base_row(network)
    diverged = [r.value for r in rows if not r.run]
    ran = [r for r in rows if r.run]
    text = f"*{factor}*, {network}: "
    if not ran:
        return text + f"every value diverged ({', '.join(diverged)})."
    band = threshold(result.noise[network])
    best, worst = max(ran, key=lambda r: r.val_acc), min(ran, key=lambda r: r.val_acc)
    up, down = 100 * (best.val_acc - base.val_acc), 100 * (worst.val_acc - base.val_acc)
    if band and max(abs(up), abs(down)) <= 100 * band:
        text += (
            f"every value within {max(abs(up), abs(down)):.1f} points of the base, inside the noise band "
            f"(±{100 * band:.1f}): no measurable effect."
        )
    else:
        spread = f"best {best.value} ({up:+.1f} points vs the base), worst {worst.value} ({down:+.1f} points)"
        text += f"{best.value}: {up:+.1f} points vs the base" if len(ran) == 1 else spread
        text += f"; noise band ±{100 * band:.1f} points." if band else " (no noise band: one seed)."
        text += f" Mechanism: {mechanism(factor, up > 0)}." if factor in MECHANISMS else ""
    return text + (f" Diverged: {', '.join(diverged)}." if diverged else "")


def mechanism(factor: str, gains: bool) -> str:
    """The factor's mechanism; a pair of them reads by whether the best alternative gained."""
    text = MECHANISMS[factor]
    return text if isinstance(text, str) else text[0 if gains else 1]


def study_table(result: HparamsResult) -> str:
    rows = []
    for i, r in enumerate(result.rows):
        mark = " **(best)**" if i in result.best.values() else (" (= base)" if r.same_as_base else "")
        if r.run is None:
            rows.append([r.network, r.factor, r.value, "diverged", "–", "–", "–", "–"])
            continue
        rows.append(
            [
                r.network,
                r.factor,
                r.value + mark,
                pct(r.run.val_acc),
                pct(r.run.test_acc),
                r.run.epochs,
                "0" if r.same_as_base else f"{r.run.seconds:.0f}",
                f"{r.run.parameters:,}",
            ]
        )
    header = ["network", "factor", "value", "best val acc (%)", "test acc (%)", "epochs", "wall time (s)", "parameters"]
    return markdown_table(header, rows, "lllrrrrr")


def render(result: HparamsResult, folder: Path) -> list:
    best = "; ".join(
        f"{n}: {result.best_row(n).factor} = {result.best_row(n).value} (validation "
        f"{100 * result.best_row(n).val_acc:.2f}%, test {100 * result.best_row(n).run.test_acc:.2f}%)"
        for n in result.best
    )
    noise = "; ".join(f"{n} {result.noise[n].pct()}% over {result.noise[n].n} seeds" for n in result.noise)
    factors = list(dict.fromkeys(r.factor for r in result.rows if r.factor not in ("base", "full grid")))
    configs = ", ".join(f"experiments/{c}.yaml" for c in result.base_configs.values())
    return [
        Text(
            f"One factor at a time around each network's base config ({configs}), "
            f"{result.epochs} epochs per run unless the factor is the epoch count, each setting one run (seed 0), "
            f"chosen by validation accuracy only. Best: {best}. Noise band: the base config's best validation "
            f"accuracy is {noise}."
        ),
        Text("\n".join(f"- {factor_sentence(result, n, f)}" for f in factors for n in result.best)),
        Table("Hyperparameter study, one factor changed at a time", study_table(result),
               "Best validation accuracy over the epochs of each run and the test accuracy of that checkpoint "
               "(1,000 test images: about ±1.5 points standard error); wall time on this machine.", appendix=True),
        *placed(result.figures, folder),
    ]  # fmt: skip


def headline(result: HparamsResult) -> str:
    return "; ".join(
        f"best {n}: {result.best_row(n).factor} = {result.best_row(n).value}, val "
        f"{100 * result.best_row(n).val_acc:.1f}%"
        for n in result.best
    )


def add_arguments(parser) -> None:
    parser.add_argument("--full", action="store_true", help="also run the larger grid (FULL=1)")
    parser.add_argument(
        "--study", type=Path, default=STUDY, help="the study's YAML (default: experiments/hparams_study.yaml)"
    )
    parser.add_argument("--networks", nargs="+", default=None, help="subset of the study's networks")
    parser.add_argument("--factors", nargs="+", default=None, help="subset of the study's factors (base always runs)")
