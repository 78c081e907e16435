"""CV1 part 2, §2.4 (a, c): hyperparameter study of TwoLayerNet and ConvNet.

    make hparams          # default study; FULL=1 adds the larger grid
    python -m lab.questions hparams [--full] [--networks ConvNet] [--factors "learning rate"] [--study YAML]

Both base configs (experiments/twolayer.yaml, lenet.yaml) share one recipe: SGD + Nesterov momentum 0.9,
one-cycle, flip + translate, batch 128, the same budget, training accuracy measured on 5,000 un-augmented
training images (train_eval/acc). The study (experiments/hparams_study.yaml) changes one thing at a time
around each: learning rate (a log grid that brackets the best, up to divergence, which is recorded and
the study goes on), batch size, epochs (a budget curve), optimizer (Adam with the same schedule), weight
decay, augmentation, batch norm, width. The base config is trained with --seeds seeds: its spread is the
noise band; settings within that band of the best are re-run over seeds and compared by their mean. Each
factor's explanation is chosen by measured diagnostics (training vs validation accuracy, first-epoch loss,
divergence, parameters). Lightning's learning-rate finder runs with each network's own optimizer for
lr_finder_steps steps; its suggestion is set against the sweep's best rate, and a finder whose loss never
fell below the untrained ln 10 suggests nothing.
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.tuner import Tuner

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.callbacks import FiniteLossGuard
from lab.engine.config import EXPERIMENTS, compose
from lab.engine.train import prepare
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.stats import Spread, pct
from lab.questions.training import Job, RunSummary, fit_many, user_layers
from lab.viz.curves import plot_curves
from lab.viz.style import figure, save

# the study's networks (experiments/hparams_study.yaml): other questions find them in its result by these names
TWOLAYER, CONVNET = "TwoLayerNet", "ConvNet"
NETWORKS = (TWOLAYER, CONVNET)

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
    seed_runs: list[RunSummary] = field(default_factory=list)  # seeds 1..: a setting within the noise of the best

    @property
    def runs(self) -> list[RunSummary]:
        return ([self.run] if self.run else []) + self.seed_runs

    @property
    def val(self) -> Spread:
        return Spread.of([r.val_acc for r in self.runs])

    @property
    def val_acc(self) -> float:
        """Best validation accuracy: the mean over seeds where the setting was re-run, else its one run."""
        return self.val.mean if self.run else math.nan


@dataclass
class HparamsResult:
    epochs: int
    base_configs: dict[str, str]  # network -> experiments/<name>.yaml
    rows: list[StudyRow]
    best: dict[str, int]  # network -> index of its best row (validation accuracy)
    noise: dict[str, Spread]  # network -> best val acc of the base config over seeds
    lr_finder: dict[str, float | None]  # network -> the finder's suggested learning rate
    noise_runs: dict[str, list[RunSummary]] = field(default_factory=dict)
    lr_finder_learned: dict[str, bool] = field(default_factory=dict)  # the finder's loss fell below ln 10
    figures: list[Figure] = field(default_factory=list)

    def best_row(self, network: str) -> StudyRow:
        return self.rows[self.best[network]]

    def base_row(self, network: str) -> StudyRow:
        return next(r for r in self.rows if r.network == network and (r.factor, r.value) == BASE)

    def factor_rows(self, network: str, factor: str) -> list[StudyRow]:
        return [r for r in self.rows if r.network == network and r.factor == factor]

    def lr_sweep(self, network: str) -> list[tuple[float, float]]:
        return sorted((float(r.value), r.val_acc) for r in self.factor_rows(network, "learning rate") if r.run)

    def budget_points(self, network: str) -> list[tuple[int, float]]:
        """(epochs, best val acc) of the epoch factor with the base: the budget curve."""
        rows = [self.base_row(network), *self.factor_rows(network, "epochs")]
        return sorted({(r.run.epochs, r.val_acc) for r in rows if r.run})

    def lr_points(self, network: str) -> list[tuple[float, float]]:
        """Every swept learning rate with its accuracy, NaN where it diverged, the base's rate included."""
        return sorted((float(r.value), r.val_acc) for r in self.factor_rows(network, "learning rate"))


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


def for_network(change: dict, network: str) -> dict:
    """A change may name one change per network (the width factor): the one for ``network``."""
    keys = set(change)
    return change.get(network, {}) if keys and keys <= set(NETWORKS) else change


def no_bar_off_a_terminal():
    """Lightning's LR finder always draws a tqdm bar; in a log (stderr not a terminal) that is hundreds of
    redraws, so its bar is built disabled there."""
    from lightning.pytorch.tuner import lr_finder as finder_module

    bar = finder_module.tqdm
    return mock.patch.object(
        finder_module, "tqdm", bar if sys.stderr.isatty() else functools.partial(bar, disable=True)
    )


def lr_finder(ctx: RunContext, config: str, steps: int) -> dict:
    """Tuner.lr_find on the network's base config: the loss-vs-lr sweep and its suggestion. A probe: no
    checkpoint is kept (the finder's own restore point lives in a temporary folder, removed after)."""
    with tempfile.TemporaryDirectory(prefix="lab-lr-find-") as scratch:
        quiet = {"trainer": {"logger": False, "enable_progress_bar": False, "default_root_dir": scratch}}
        cli = prepare([config, *user_layers(ctx), quiet], test=False, record=False)
        probes = (FiniteLossGuard, ModelCheckpoint)  # it diverges on purpose, and is not a run to keep
        cli.trainer.callbacks = [c for c in cli.trainer.callbacks if not isinstance(c, probes)]
        with no_bar_off_a_terminal():
            finder = Tuner(cli.trainer).lr_find(
                cli.model, datamodule=cli.datamodule, min_lr=1e-4, max_lr=1.0, num_training=steps, update_attr=False
            )
    lrs, losses = finder.results["lr"], debiased(finder.results["loss"])
    return {"lr": lrs, "loss": losses, "suggestion": steepest(lrs, losses)}


def steepest(lrs: list[float], losses: list[float], skip_begin: int = 10, skip_end: int = 1) -> float | None:
    """The rate where the loss falls fastest per factor of learning rate (the gradient against log lr, on a
    log-spaced sweep; Lightning's suggestion takes it against lr itself, which the first, closely spaced
    points dominate with their noise)."""
    import torch

    points = [(lr, x) for lr, x in zip(lrs[skip_begin:-skip_end], losses[skip_begin:-skip_end]) if x == x]
    if len(points) < 2:
        return None
    log_lr = torch.tensor([math.log(lr) for lr, _ in points])
    slope = torch.gradient(torch.tensor([x for _, x in points]), spacing=[log_lr])[0]
    return points[int(torch.argmin(slope))][0]


FINDER_BETA = 0.98  # the smoothing of Lightning's LR finder (_LRCallback's default beta)


def debiased(smoothed: list[float]) -> list[float]:
    """Lightning's LR finder divides its running average by 1 - beta^(global_step + 1), read after the
    optimizer step, so step i (from 0) is corrected with beta^(i + 2): its first point is the loss / (1 + beta),
    about half of ln 10, an artefact below the untrained loss. Re-correct each point with beta^(i + 1)."""
    return [x * (1 - FINDER_BETA ** (i + 2)) / (1 - FINDER_BETA ** (i + 1)) for i, x in enumerate(smoothed)]


UNTRAINED_LOSS = math.log(10)  # cross-entropy of a uniform guess over CIFAR-10's 10 classes


def learned(finder: dict) -> bool:
    """Whether the finder's (debiased, exponentially smoothed) loss fell clearly below the untrained loss: a
    finder that never learned has no meaningful suggestion (the old 100-step ConvNet curve stayed at ln 10)."""
    losses = [x for x in finder["loss"] if x == x]
    return bool(losses) and min(losses) < UNTRAINED_LOSS - 0.1


def plan(
    ctx: RunContext, opts: Options, networks: dict[str, str], study: dict
) -> list[tuple[str, tuple[str, str], dict, Job | None]]:
    """(network, (factor, value), change, job) for every run of the study, in order: the study's settings
    (job None: the change leaves the base config as it is, the base run is reused), then the base
    config with seeds 1 .. --seeds - 1 (factor "noise"), which with seed 0 give the noise band."""
    epochs = {"trainer": {"max_epochs": ctx.epochs or study["epochs"]}}
    runs = []
    for network, config in networks.items():
        base = compose([config, epochs])
        for key, change in study["factors"].items():
            if opts.factors and key[0] not in opts.factors and key != BASE:
                continue
            change = for_network(change, network)
            same = key != BASE and compose([base, change]) == base
            name = f"hparams/{config}/{key[0]}={key[1]}".replace(" ", "_").replace("/_", "/")
            runs.append((network, key, change, None if same else Job((config, epochs), change, name)))
        for seed in range(1, ctx.seeds):
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


def near_best(rows: list[StudyRow], network: str, band: float, most: int = 1) -> list[StudyRow]:
    """The settings (not the base, which has its seeds) within the noise band of the network's best single
    run, best first, at most ``most``: they are re-run over seeds before one is called better."""
    ran = [r for r in rows if r.network == network and r.run and (r.factor, r.value) != BASE and not r.same_as_base]
    if not ran:
        return []
    top = max(r.val_acc for r in ran + [r for r in rows if r.network == network and (r.factor, r.value) == BASE])
    return sorted([r for r in ran if top - r.val_acc <= band], key=lambda r: -r.val_acc)[:most]


def reseed(ctx: RunContext, study: dict, networks: dict[str, str], rows: list[StudyRow], bands: dict) -> None:
    """Settings inside the noise of the best get seeds 1 .. n-1 (n: the study's seeds_near_best, at most
    --seeds): the best is then picked by the mean over seeds, not by one lucky run."""
    seeds = min(ctx.seeds, study.get("seeds_near_best", 3))
    epochs = {"trainer": {"max_epochs": ctx.epochs or study["epochs"]}}
    picked = [r for n in networks for r in near_best(rows, n, bands[n])] if seeds > 1 else []
    jobs = [
        Job(
            (networks[r.network], epochs),
            r.change,
            f"hparams/{networks[r.network]}/{r.factor}={r.value}".replace(" ", "_"),
            seed,
        )
        for r in picked
        for seed in range(1, seeds)
    ]
    outcomes = iter(fit_many(ctx, jobs))
    for row in picked:
        row.seed_runs = [o for o in (next(outcomes) for _ in range(1, seeds)) if isinstance(o, RunSummary)]


def pick_best(rows: list[StudyRow], network: str, noise_runs: list[RunSummary]) -> int:
    """Index of the best row by mean validation accuracy over its seeds (the base: its noise runs)."""

    def score(r: StudyRow) -> float:
        runs = noise_runs if (r.factor, r.value) == BASE or r.same_as_base else r.runs
        return Spread.of([x.val_acc for x in runs]).mean

    return rows.index(max((r for r in rows if r.network == network and r.run), key=score))


def run(ctx: RunContext, out: Path, opts: Options) -> HparamsResult:
    study = load_study(opts.study, opts.full)
    networks = {k: v for k, v in study["networks"].items() if not opts.networks or k in opts.networks}
    unknown = set(opts.factors or []) - {f for f, _ in study["factors"]}
    if not networks or unknown:
        raise ValueError(
            f"--networks must name some of {list(study['networks'])} and --factors some of "
            f"{sorted({f for f, _ in study['factors']} - {'base'})}"
        )
    finders = {name: lr_finder(ctx, config, study["lr_finder_steps"]) for name, config in networks.items()}
    runs = plan(ctx, opts, networks, study)
    rows, noise = assemble(runs, fit_many(ctx, [job for *_, job in runs if job]))
    spreads = {k: Spread.of([r.val_acc for r in v]) for k, v in noise.items()}
    reseed(ctx, study, networks, rows, {n: threshold(spreads[n]) for n in networks})
    result = HparamsResult(
        epochs=ctx.epochs or study["epochs"],
        base_configs=networks,
        rows=rows,
        best={n: pick_best(rows, n, noise[n]) for n in networks},
        noise=spreads,
        lr_finder={k: f["suggestion"] for k, f in finders.items()},
        noise_runs=noise,
        lr_finder_learned={k: learned(f) for k, f in finders.items()},
    )
    result.figures = draw(result, finders, out)
    return result


# -- figures ------------------------------------------------------------------------------------
def draw_lr_finder(finders: dict, path: Path) -> Figure:
    fig, ax = figure()
    for name, f in finders.items():
        hint = f"suggestion {f['suggestion']:.3g}" if f["suggestion"] and learned(f) else "no usable suggestion"
        ax.plot(f["lr"], f["loss"], label=f"{name} ({hint})")
    ax.axhline(UNTRAINED_LOSS, color="grey", linestyle=":", label="untrained loss ln 10")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate (log scale)", ylabel="training loss, smoothed (nats)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(
        fig,
        path,
        "LR finder: training loss while the learning rate grows (SGD + Nesterov 0.9)",
        "Training loss (debiased exponential moving average, beta 0.98) while the learning rate grows "
        "exponentially, one step per rate, with each network's own optimizer.",
    )


def draw_acc_vs_lr(result: HparamsResult, path: Path) -> Figure:
    fig, ax = figure()
    for name in result.best:
        points = result.lr_points(name)
        if not points:
            continue
        (line,) = ax.plot(*zip(*[(lr, 100 * acc) for lr, acc in points]), marker="o", label=name)
        diverged = [lr for lr, acc in points if acc != acc]
        for i, lr in enumerate(diverged):  # one legend entry per network, not per rate
            label = f"{name} diverged (lr {', '.join(f'{x:g}' for x in diverged)})" if i == 0 else None
            ax.axvline(lr, color=line.get_color(), linestyle=":", alpha=0.6, label=label)
        where, best = bracket(points)
        if best is not None:
            ax.plot(
                [best],
                [100 * dict(points)[best]],
                marker="*",
                markersize=14,
                color=line.get_color(),
                label=f"{name} best {best:g} ({where})",
            )
    ax.set_xscale("log")
    ax.set(
        xlabel="peak learning rate (SGD + Nesterov 0.9, one-cycle, log scale)", ylabel="best validation accuracy (%)"
    )
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no learning-rate factor in this study", ha="center", va="center", transform=ax.transAxes)
    return save(
        fig,
        path,
        "Validation accuracy against learning rate, both networks, same optimizer",
        "One run per rate (seed 0; the mean over seeds where re-run); a dotted line marks a rate that "
        "diverged; a star marks the best.",
    )


def draw_acc_vs_epochs(result: HparamsResult, path: Path) -> Figure:
    fig, ax = figure()
    for name in result.best:
        points = result.budget_points(name)
        if len(points) > 1:
            ax.plot(*zip(*[(e, 100 * acc) for e, acc in points]), marker="o", label=name)
    ax.set(xlabel="training budget (epochs, one-cycle over the whole budget)", ylabel="best validation accuracy (%)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no epoch factor in this study", ha="center", va="center", transform=ax.transAxes)
    return save(
        fig,
        path,
        "Validation accuracy against the training budget",
        "One run per budget (seed 0), the base config otherwise; each run's schedule spans its own budget.",
    )


def budget_sentence(result: HparamsResult, network: str) -> str:
    """Whether validation accuracy has plateaued: the last step of the budget curve against the noise band."""
    points, band = result.budget_points(network), threshold(result.noise[network])
    if len(points) < 2:
        return f"{network}: no budget curve in this study."
    (e0, a0), (e1, a1) = points[-2], points[-1]
    step = f"{e0} -> {e1} epochs: {100 * (a1 - a0):+.1f} points (noise band ±{100 * band:.1f})"
    if band and abs(a1 - a0) <= band:
        return f"{network}: validation accuracy has plateaued ({step})."
    state = "still rising: a longer budget may gain more" if a1 > a0 else "falling: the longest budget over-trains"
    return f"{network}: validation accuracy is {state} ({step})."


def draw(result: HparamsResult, finders: dict, out: Path) -> list[Figure]:
    curves = {
        f"{n}: {result.best_row(n).factor} = {result.best_row(n).value}": result.best_row(n).run.history
        for n in result.best
    }
    best = plot_curves(curves, out / "best_curves.png", "Training curves of the best run of each network")
    return [
        draw_lr_finder(finders, out / "lr_finder.png"),
        draw_acc_vs_lr(result, out / "acc_vs_lr.png"),
        draw_acc_vs_epochs(result, out / "acc_vs_epochs.png"),
        best,
    ]


# -- the answer -----------------------------------------------------------------------------------
# Why a factor moves accuracy is read from measured diagnostics of its runs, never a fixed string per factor:
# un-augmented eval-mode training accuracy (train_eval/acc) against validation accuracy at the last epoch
# (under- or over-fitting), the first epoch's training loss (optimisation speed), divergence, parameters.
@dataclass
class Diagnosis:
    train_acc: float  # last epoch, 5,000 un-augmented training images in eval mode (NaN: not measured)
    val_acc: float  # last epoch
    first_loss: float  # mean training loss of the first epoch (nats): how fast optimisation starts
    parameters: int

    @property
    def gap(self) -> float:
        return self.train_acc - self.val_acc

    @classmethod
    def of(cls, run: RunSummary) -> Diagnosis:
        last, first = run.last, (run.history[0] if run.history else {})
        nan = math.nan
        return cls(
            last.get("train_eval/acc", nan), last.get("val/acc", nan), first.get("train/loss", nan), run.parameters
        )


def regime(d: Diagnosis) -> str:
    """Under- or over-fitting, from the train-val gap of one run."""
    if d.train_acc != d.train_acc:
        return "no training-accuracy diagnostic (train_eval/acc) was measured"
    state = "barely over-fits" if d.gap < 0.03 else "over-fits"
    return f"{state} (training {100 * d.train_acc:.1f}% vs validation {100 * d.val_acc:.1f}%)"


CHANCE_FIT = 0.15  # a training accuracy below this (10 classes: chance is 10%) is a run that failed to train


def mechanism(base: Diagnosis, alt: Diagnosis, factor: str = "") -> str:
    """The explanation the diagnostics select: failed to train, fits better, regularises, under-fits or
    over-fits; plus the optimisation speed (not across epoch budgets: their one-cycle schedules differ from
    the first epoch) and the parameter count where they changed."""
    if base.train_acc != base.train_acc or alt.train_acc != alt.train_acc:
        text = "no training-accuracy diagnostic was measured, so under- and over-fitting cannot be told apart"
    elif alt.train_acc < CHANCE_FIT:
        return (
            f"it failed to train: training accuracy {100 * alt.train_acc:.1f}% is at chance (10%; first-epoch loss "
            f"{alt.first_loss:.2f} nats, untrained ln 10 = 2.30), not a slower fit"
        )
    elif factor == "epochs" and alt.val_acc >= base.val_acc and alt.train_acc > base.train_acc:
        text = (
            f"more training steps fit the training set better and validation follows (training accuracy "
            f"{100 * base.train_acc:.1f}% -> {100 * alt.train_acc:.1f}%): an optimisation gain, the same network"
        )
    else:
        dv, dt = alt.val_acc - base.val_acc, alt.train_acc - base.train_acc
        moves = f"training accuracy {100 * base.train_acc:.1f}% -> {100 * alt.train_acc:.1f}%"
        gaps = f"the train-val gap {100 * base.gap:+.1f} -> {100 * alt.gap:+.1f} points"
        if abs(dv) < 0.002 and abs(dt) < 0.002:
            text = f"neither training nor validation accuracy moved ({moves})"
        elif dv >= 0 and dt > 0:
            text = f"it fits the training set better and validation follows ({moves}): an optimisation or capacity gain"
        elif dv >= 0:
            text = f"it regularises: {moves} while validation rises, {gaps}"
        elif dt < 0:
            text = f"it under-fits within the budget: {moves} falls with validation (optimisation, not over-fitting)"
        else:
            text = f"it over-fits: {moves} while validation falls, {gaps}"
    if alt.first_loss > 2 * UNTRAINED_LOSS:
        text += (
            f"; the first epoch blew up (mean training loss {alt.first_loss:.3g} nats, far above the untrained ln 10)"
        )
    elif abs(alt.first_loss - base.first_loss) > 0.05 and factor != "epochs":
        faster = "faster" if alt.first_loss < base.first_loss else "slower"
        text += f"; optimisation starts {faster} (first-epoch loss {base.first_loss:.2f} -> {alt.first_loss:.2f} nats)"
    if alt.parameters and alt.parameters != base.parameters:
        text += f"; {base.parameters:,} -> {alt.parameters:,} parameters"
    return text


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
            f"(±{100 * band:.1f}): no measurable effect. Why: {null_reason(base, ran, factor)}"
        )
    else:
        spread = f"best {best.value} ({up:+.1f} points vs the base), worst {worst.value} ({down:+.1f} points)"
        text += f"{best.value}: {up:+.1f} points vs the base" if len(ran) == 1 else spread
        text += f"; noise band ±{100 * band:.1f} points." if band else " (no noise band: one seed)."
        moved = best if abs(up) >= abs(down) else worst
        if not moved.same_as_base:
            text += f" Why ({moved.value}): {mechanism(Diagnosis.of(base.run), Diagnosis.of(moved.run), factor)}."
    return text + (f" Diverged (the study went on): {', '.join(diverged)}." if diverged else "")


REGULARISERS = ("weight decay", "augmentation")


def null_reason(base, ran: list, factor: str) -> str:
    """Why a factor moved nothing: for a regulariser, whether taking it away widened the train-val gap (the net
    memorises more but generalises no worse at this budget) or the base barely over-fits to begin with."""
    d = Diagnosis.of(base.run)
    widest = max((Diagnosis.of(r.run) for r in ran), key=lambda x: x.gap if x.gap == x.gap else -1.0)
    if factor in REGULARISERS and widest.gap == widest.gap and widest.gap - d.gap > 0.03:
        return (
            f"the train-val gap moves ({100 * d.gap:+.1f} -> {100 * widest.gap:+.1f} points: training "
            f"{100 * d.train_acc:.1f}% -> {100 * widest.train_acc:.1f}%) while validation stays within the noise: "
            "the regulariser changes how much the net memorises, not what it generalises, at this budget."
        )
    return f"the base {regime(d)}" + (
        ", so a regulariser has little to remove in this budget." if factor in REGULARISERS else "."
    )


def bracket(points: list[tuple[float, float]]) -> tuple[str, float | None]:
    """('interior' | 'lower edge' | 'upper edge' | 'no sweep', best rate): the best rate is interior when a
    swept rate on each side of it reached less (a diverged rate, NaN, counts as less)."""
    finite = [(lr, acc) for lr, acc in points if acc == acc]
    if len(points) < 3 or not finite:
        return "no sweep", None
    best = max(finite, key=lambda p: p[1])[0]
    i = [lr for lr, _ in points].index(best)
    return ("lower edge" if i == 0 else "upper edge" if i == len(points) - 1 else "interior"), best


def bracket_sentence(result: HparamsResult, network: str) -> str:
    points = result.lr_points(network)
    where, best = bracket(points)
    if best is None:
        return f"{network}: no learning-rate sweep in this study."
    shown = ", ".join(f"{lr:g}: " + ("diverged" if acc != acc else f"{100 * acc:.1f}%") for lr, acc in points)
    if where == "interior":
        return f"{network}: the best learning rate {best:g} is interior: accuracy falls on both sides ({shown})."
    return (
        f"{network}: the best learning rate {best:g} is at the {where} of the sweep ({shown}): **not bracketed**, "
        "the optimum may lie beyond it; widen the grid."
    )


def finder_sentence(result: HparamsResult, network: str) -> str:
    """The LR finder's suggestion against the sweep's best rate (a factor of 3 either way: one grid step)."""
    suggestion, (_, best) = result.lr_finder.get(network), bracket(result.lr_points(network))
    if not result.lr_finder_learned.get(network, False) or not suggestion:
        return f"{network}: the LR finder's loss never fell below the untrained ln 10, so it suggests nothing usable."
    if best is None:
        return f"{network}: LR finder suggests {suggestion:.3g} (no sweep to compare with)."
    ratio = suggestion / best
    agree = "agrees with the sweep (within one x3 grid step)" if 1 / 3 <= ratio <= 3 else "disagrees with the sweep"
    return (
        f"{network}: the LR finder suggests {suggestion:.3g}, {ratio:.2g}x the sweep's best {best:g}: it {agree}; "
        "the finder marks where the loss falls fastest in a few hundred steps, not the best end accuracy."
    )


def study_table(result: HparamsResult) -> str:
    rows = []
    for i, r in enumerate(result.rows):
        mark = " **(best)**" if i in result.best.values() else (" (= base)" if r.same_as_base else "")
        if r.run is None:
            rows.append([r.network, r.factor, r.value, "diverged", "–", "–", "–", "–", "–"])
            continue
        train = Diagnosis.of(r.run).train_acc
        rows.append(
            [
                r.network,
                r.factor,
                r.value + mark,
                r.val.pct(),
                pct(r.run.test_acc),
                pct(train, 1),
                r.run.epochs,
                "0" if r.same_as_base else f"{r.run.seconds:.0f}",
                f"{r.run.parameters:,}",
            ]
        )
    header = [
        "network",
        "factor",
        "value",
        "best val acc (%)",
        "test acc (%)",
        "train acc (%)",
        "epochs",
        "wall time (s)",
        "parameters",
    ]
    return markdown_table(header, rows, "lllrrrrrr")


def render(result: HparamsResult, folder: Path) -> list:
    best = "; ".join(
        f"{n}: {result.best_row(n).factor} = {result.best_row(n).value} (validation "
        f"{result.best_row(n).val.pct()}%, test {100 * result.best_row(n).run.test_acc:.2f}%)"
        for n in result.best
    )
    noise = "; ".join(f"{n} {result.noise[n].pct()}% (mean ± std) over {result.noise[n].n} seeds" for n in result.noise)
    factors = list(dict.fromkeys(r.factor for r in result.rows if r.factor not in ("base", "full grid")))
    configs = ", ".join(f"experiments/{c}.yaml" for c in result.base_configs.values())
    return [
        Text(
            f"One factor at a time around each network's base config ({configs}: one shared recipe, SGD + "
            f"Nesterov 0.9, one-cycle, flip + translate, batch 128), {result.epochs} epochs per run unless the "
            "factor is the epoch count, each setting one run (seed 0); settings within the noise band of the best "
            f"were re-run over more seeds and are compared by their mean. Chosen by validation accuracy only. "
            f"Best: {best}. Noise band: the base config's best validation accuracy is {noise}; a difference "
            "between two single runs counts as an effect beyond the band 2 x sqrt(2) x that std (two standard "
            "deviations of a difference of two runs)."
        ),
        Text("\n".join(f"- {bracket_sentence(result, n)}" for n in result.best)),
        Text("\n".join(f"- {budget_sentence(result, n)}" for n in result.best)),
        Text("\n".join(f"- {factor_sentence(result, n, f)}" for f in factors for n in result.best)),
        Text("\n".join(f"- {finder_sentence(result, n)}" for n in result.best)),
        Table(
            "Hyperparameter study, one factor changed at a time",
            study_table(result),
            "Best validation accuracy over the epochs of each run (mean ± std over seeds where re-run) and the "
            "test accuracy of the seed-0 checkpoint (1,000 test images: about ±1.5 points standard error); "
            "training accuracy: last epoch, 5,000 un-augmented training images in eval mode.",
            appendix=True,
        ),
        *placed(result.figures, folder),
    ]


def headline(result: HparamsResult) -> str:
    return "; ".join(
        f"best {n}: {result.best_row(n).factor} = {result.best_row(n).value}, val "
        f"{100 * result.best_row(n).val_acc:.1f}%"
        for n in result.best
    )


@dataclass(frozen=True)
class Options:
    """hparams' own options.

    Attributes:
        full: also run the larger grid (FULL=1)
        study: the study's YAML
        networks: subset of the study's networks
        factors: subset of the study's factors (base always runs)
    """

    full: bool = False
    study: Path = STUDY
    networks: tuple[str, ...] | None = None
    factors: tuple[str, ...] | None = None


QUESTION = register(
    Question(
        __name__,
        "Hyperparameter optimization",
        CV1,
        "§2.4a,c",
        order=30,
        result_type=HparamsResult,
        asks="Tune both networks (learning rate, batch size, epochs, optimizer, weight decay, augmentation, batch "
        "norm) and describe the influence of each.",
        configs="experiments/hparams_study.yaml on twolayer.yaml and lenet.yaml",
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
