"""CV1 part 2, §2.4 (a): the final configuration of each network, "the accuracy as high as you can".

    make final          # or: python -m lab.questions final [--seeds 3]

Three rounds after the one-factor study (`make hparams`), as a researcher would:
1. combine: every factor whose best value beat the base config by more than the study's noise band joins
   one candidate per network (largest gain first; a later winner that sets the same option as an earlier
   one is left out); its measured gain is set against the predicted one (the sum of the single gains);
2. a second round around the candidate, at the study's budget, for the interactions that a one-factor study
   cannot see: batch size with learning rate, batch norm with learning rate, learning rate alone;
3. the winner at the longest budget of the study, with and without augmentation (augmentation x epochs);
   the better one is the final, trained over --seeds seeds, with equal budgets for both networks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.engine.config import compose, merge
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.hparams import HparamsResult, StudyRow, threshold
from lab.questions.stats import Difference, Spread, pct
from lab.questions.training import Job, RunSummary, Variant, fit_many, over_seeds, raise_diverged
from lab.utils.paths import run_folder
from lab.viz.curves import plot_curves

AUGMENT = {"flip": True, "translate": 2}


@dataclass
class Trial:
    """One setting of the second or third round: its change on top of the study's base config, seed 0."""

    label: str
    change: dict[str, Any]
    epochs: int
    run: RunSummary | None  # None: diverged

    @property
    def val_acc(self) -> float:
        return self.run.val_acc if self.run else math.nan


@dataclass
class Combined:
    network: str
    config: str  # experiments/<config>.yaml
    chosen: list[str]  # "factor = value (+x.x points)" of each winner that joined
    left_out: list[str]  # winners that set an option an earlier winner had set
    change: dict[str, Any]
    runs: list[RunSummary]
    base_runs: list[RunSummary]  # the base config over the same seeds (from the study)
    predicted_gain: float = 0.0  # sum of the chosen factors' single gains (validation, study budget)
    candidate: Trial | None = None  # the combination at the study's budget, seed 0
    second_round: list[Trial] = field(default_factory=list)  # around the candidate, study budget
    third_round: list[Trial] = field(default_factory=list)  # the winner at the final budget, augmentation x epochs
    epochs: int = 0  # the final budget
    final_label: str = ""
    beaten_by: list[str] = field(default_factory=list)  # study settings the final does not measurably beat
    same_as: str = ""  # the study setting whose runs the final is (same identity, reused from the run cache)
    noise_std: float = 0.0  # seed-to-seed std of the base config's validation accuracy (the study's)

    @property
    def gain(self) -> Difference:
        return Difference.between(Spread.of([r.test_acc for r in self.base_runs]), Variant("", self.runs).test)

    @property
    def measured_gain(self) -> float:
        base = Spread.of([r.val_acc for r in self.base_runs[:1]]).mean
        return self.candidate.val_acc - base if self.candidate else math.nan


@dataclass
class FinalResult:
    networks: list[Combined]
    figures: list[Figure] = field(default_factory=list)


def leaves(change: dict, prefix: str = "") -> set[str]:
    """The options a change sets; a block naming a class_path counts as one option (it replaces the block)."""
    if "class_path" in change:
        return {prefix.rstrip(".")}
    found = set()
    for key, value in change.items():
        found |= leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
    return found


def overlaps(a: set[str], b: set[str]) -> bool:
    return any(x == y or x.startswith(y + ".") or y.startswith(x + ".") for x in a for y in b)


def winners(study: HparamsResult, network: str) -> list[tuple[StudyRow, float]]:
    """Each factor's best value when it beat the base by more than the noise band, largest gain first."""
    base, band = study.base_row(network), threshold(study.noise[network])
    factors = dict.fromkeys(
        r.factor for r in study.rows if r.network == network and r.factor not in ("base", "full grid")
    )
    best = [
        max((r for r in study.factor_rows(network, f) if r.run), key=lambda r: r.val_acc, default=None) for f in factors
    ]
    gains = [(row, row.val_acc - base.val_acc) for row in best if row is not None]
    return sorted([(row, gain) for row, gain in gains if gain > band and band > 0], key=lambda item: -item[1])


def combine(study: HparamsResult, network: str) -> tuple[dict, list[str], list[str]]:
    change, chosen, left_out, taken = {}, [], [], set()
    for row, gain in winners(study, network):
        label = f"{row.factor} = {row.value} ({100 * gain:+.1f} points)"
        if overlaps(leaves(row.change), taken) or row.factor == "epochs":  # the budget is the third round's
            left_out.append(label)
            continue
        change, taken = merge(change, row.change), taken | leaves(row.change)
        chosen.append(label)
    return change, chosen, left_out


def predicted(study: HparamsResult, network: str, chosen: list[str]) -> float:
    """The sum of the chosen factors' single gains over the base: what an additive model predicts."""
    names = {c.split(" = ")[0] for c in chosen}
    return sum(gain for row, gain in winners(study, network) if row.factor in names)


def neighbours(config: dict, change: dict) -> dict[str, dict]:
    """Second-round changes around a candidate (each on top of it): a larger learning rate, batch size with
    learning rate (linear scaling), batch norm with learning rate (normalised nets take larger steps)."""
    resolved = merge(config, change)
    lr = resolved["model"]["optimizer"]["init_args"]["lr"]
    batch = resolved["data"]["init_args"].get("batch_size", 128)
    bn = bool(resolved["model"]["net"].get("init_args", {}).get("batch_norm", False))
    rate = lambda x: {"model": {"optimizer": {"init_args": {"lr": x}}}}  # noqa: E731
    toggled = {"model": {"net": {"init_args": {"batch_norm": not bn}}}}
    return {
        f"lr x2 ({lr * 2:g})": rate(lr * 2),
        f"batch {2 * batch}, lr x2": merge(rate(lr * 2), {"data": {"init_args": {"batch_size": 2 * batch}}}),
        f"batch norm {'off' if bn else 'on'}": toggled,
        f"batch norm {'off' if bn else 'on'}, lr x3": merge(toggled, rate(lr * 3)),
    }


def trials(ctx: RunContext, config: str, settings: dict[str, tuple[dict, int]], name: str) -> list[Trial]:
    """Every (label -> (change, epochs)) trained once, seed 0; a diverged one is kept as such."""
    jobs = [
        Job((config, {"trainer": {"max_epochs": e}}), ch, f"final/{name}/{label}".replace(" ", "_"))
        for label, (ch, e) in settings.items()
    ]
    outcomes = fit_many(ctx, jobs)
    return [
        Trial(label, ch, e, o if isinstance(o, RunSummary) else None)
        for (label, (ch, e)), o in zip(settings.items(), outcomes)
    ]


def final_budget(study: HparamsResult, network: str) -> int:
    """The longest budget of the study's epoch curve: the final trains at least as long as any study run."""
    return max((r.run.epochs for r in study.rows if r.network == network and r.run), default=study.epochs)


def search(ctx: RunContext, study: HparamsResult, network: str) -> Combined:
    """The three rounds for one network; returns it with its final change chosen (runs still to train)."""
    config, epochs = study.base_configs[network], study.epochs
    change, chosen, left_out = combine(study, network)
    base_config = compose([config])
    label = "combined winners" if chosen else "base config"  # nothing beat the noise: round 2 starts at the base
    (candidate,) = trials(ctx, config, {label: (change, epochs)}, network)
    around = {label: (merge(change, extra), epochs) for label, extra in neighbours(base_config, change).items()}
    second = trials(ctx, config, around, network)
    winner = max([t for t in [candidate, *second] if t.run] or [candidate], key=lambda t: t.val_acc)
    augment = merge(base_config, winner.change)["data"]["init_args"].get("augment")
    toggle = {"data": {"init_args": {"augment": None if augment else AUGMENT}}}
    long = final_budget(study, network)
    settings = {
        f"{winner.label}, {long} epochs": (winner.change, long),
        f"{winner.label}, {long} epochs, augmentation {'off' if augment else 'on'}": (
            merge(winner.change, toggle),
            long,
        ),
    }
    third = trials(ctx, config, settings, network)
    final = max([t for t in third if t.run] or third[:1], key=lambda t: t.val_acc)
    return Combined(
        network,
        config,
        chosen,
        left_out,
        final.change,
        [],
        study.noise_runs.get(network, []),
        predicted(study, network, chosen),
        candidate,
        second,
        third,
        long,
        final.label,
    )


def same_setting(study: HparamsResult, c: Combined) -> str:
    """The study setting the final is (one of its runs is the final's seed-0 run), '' if it is a new one."""
    own = {run_folder(r.run_dir) for r in c.runs}
    rows = (r for r in study.rows if r.network == c.network and r.run)
    return next((f"{r.factor} = {r.value}" for r in rows if run_folder(r.run.run_dir) in own), "")


def not_beaten(study: HparamsResult, c: Combined) -> list[str]:
    """The study's settings of this network (other than the final's own) that the final does not measurably
    beat in validation accuracy."""
    final = Spread.of([r.val_acc for r in c.runs])
    left = []
    own = {run_folder(r.run_dir) for r in c.runs}
    for row in (r for r in study.rows if r.network == c.network and r.run and run_folder(r.run.run_dir) not in own):
        d = Difference.between(row.val, final)
        if d.delta <= 0 or not d.measurable:
            left.append(f"{row.factor} = {row.value}")
    return left


def run(ctx: RunContext, out: Path, hparams: HparamsResult) -> FinalResult:
    study = hparams  # the latest `make hparams`: final combines its winners
    networks = [search(ctx, study, n) for n in study.best]
    specs = {
        c.network: ([c.config, {"trainer": {"max_epochs": c.epochs}}], c.change, f"final/{c.network}") for c in networks
    }
    runs = over_seeds(ctx, specs)
    for c in networks:
        c.runs = [raise_diverged(r) for r in runs[c.network]]
        c.beaten_by, c.same_as = not_beaten(study, c), same_setting(study, c)
        c.noise_std = study.noise[c.network].std if study.noise[c.network].n > 1 else 0.0
    curves = plot_curves(
        {f"{c.network} final": c.runs[0].history for c in networks},
        out / "curves.png",
        "Final configurations: training curves (seed 0)",
    )
    return FinalResult(networks, [curves])


def rounds_table(r: FinalResult) -> str:
    rows = []
    for c in r.networks:
        base = c.base_runs[0].val_acc if c.base_runs else math.nan
        for stage, trial in [
            ("combined", c.candidate),
            *[("2nd round", t) for t in c.second_round],
            *[("3rd round", t) for t in c.third_round],
        ]:
            if trial is None:
                continue
            acc = "diverged" if trial.run is None else pct(trial.val_acc)
            delta = "–" if trial.run is None else f"{100 * (trial.val_acc - base):+.1f}"
            rows.append([c.network, stage, trial.label, trial.run.epochs if trial.run else trial.epochs, acc, delta])
    header = ["network", "round", "setting", "epochs", "val acc (%)", "vs base (points)"]
    return markdown_table(header, rows, "lllrrr")


def additivity(c: Combined) -> str:
    """Predicted (sum of single gains) against the measured gain of the combination, and what it says."""
    if not c.chosen:
        return f"{c.network}: no factor beat the noise band, so there is nothing to combine."
    measured, predicted_gain = c.measured_gain, c.predicted_gain
    if measured != measured:
        return f"{c.network}: the combination diverged."
    return (
        f"{c.network}: {', '.join(c.chosen)} combined: predicted {100 * predicted_gain:+.1f} points (sum of the "
        f"single gains), measured {100 * measured:+.1f} (one run, study budget): {additivity_verdict(c)}."
    )


def additivity_verdict(c: Combined) -> str:
    """Measured minus predicted gain against its own noise: m - sum(g_i - b) - b over k single runs and one base
    run has variance (1 + k + (k - 1)^2) sigma^2; beyond two of its standard deviations it is an interaction."""
    k, miss = len(c.chosen), c.measured_gain - c.predicted_gain
    band = 2 * c.noise_std * math.sqrt(1 + k + (k - 1) ** 2)
    if not band:
        ratio = c.measured_gain / c.predicted_gain if c.predicted_gain else math.nan
        within = 0.75 <= ratio <= 1.25
    else:
        within = abs(miss) <= band
    noise = f" (noise of that difference ±{100 * band:.1f} points)" if band else " (no noise band: one seed)"
    if within:
        return f"the gains add up: {100 * miss:+.1f} points from the sum{noise}"
    if miss < 0:
        return f"the gains overlap: {100 * miss:+.1f} points short of the sum{noise}: the factors interact"
    return f"the combination gains {100 * miss:+.1f} points more than the sum{noise}: the factors reinforce each other"


def best_sentence(c: Combined) -> str:
    if len(c.runs) < 2:
        return f"{c.network}: one seed, no spread measured: whether the final is measurably the best cannot be said."
    same = f"the final is the study's setting {c.same_as} (the same runs); " if c.same_as else ""
    if not c.beaten_by:
        every = "every other" if same else "every"
        return (
            f"{c.network}: {same}the final is measurably better than {every} setting of the study (validation "
            "accuracy, beyond two standard errors; §2.4d checks test accuracy against every variant in the report)."
        )
    return (
        f"{c.network}: {same}the final is **not** measurably better than {', '.join(c.beaten_by)} (validation "
        "accuracy, within two standard errors or below): those settings are as good as the final."
    )


METHOD = (
    "Round 1 combines every factor of the study whose best value beat the base config by more than the "
    "noise band (largest gain first; the epoch budget is left to round 3). Round 2 searches around the "
    "combination for interactions (learning rate; batch size x learning rate; batch norm x learning rate). "
    "Round 3 trains the winner at the study's longest budget with and without augmentation "
    "(augmentation x epochs); the better is the final, over the seeds. Both networks get the same budget. "
    "The text allows all of this (learning rate, batch size, epochs, optimizer, transform, weight decay, "
    "batch norm, widths: 'change the structure a bit'); no external network and no extra convolution is "
    "used here. Mean ± std over seeds; gains ± one standard error."
)
FINALS_HEADER = [
    "network",
    "final setting",
    "epochs",
    "val acc (%)",
    "test acc (%)",
    "train acc (%)",
    "base test acc (%)",
    "gain over base",
    "seeds",
]


def train_accuracy(runs: list) -> str:
    """Last-epoch accuracy on un-augmented training images (eval mode) over the seeds: with validation, the
    final's train - val gap; '-' where it was not measured."""
    accs = [r.last["train_eval/acc"] for r in runs if "train_eval/acc" in r.last]
    return Spread.of(accs).pct() if accs else "-"


def finals_row(c: Combined) -> list:
    final, base = Variant("", c.runs), Spread.of([x.test_acc for x in c.base_runs])
    return [
        c.network,
        c.final_label,
        c.epochs,
        final.val.pct(),
        final.test.pct(),
        train_accuracy(c.runs),
        base.pct(),
        c.gain.points(),
        len(c.runs),
    ]


def conclusions(r: FinalResult) -> list[str]:
    text = []
    for c in r.networks:
        left = f"; left out: {', '.join(c.left_out)}" if c.left_out else ""
        text.append(f"- {additivity(c).rstrip('.')}{left}.")
        text.append(f"- {c.network}, final against base config, test accuracy: {c.gain.verdict()}.")
        text.append(f"- {best_sentence(c)}")
    return text


def render(r: FinalResult, folder: Path) -> list:
    rows = [finals_row(c) for c in r.networks]
    return [
        Text(METHOD),
        Text("\n".join(conclusions(r))),
        Table(
            "Final configurations against the base configs",
            markdown_table(FINALS_HEADER, rows, "llrrrrrrr"),
            "Validation and test accuracy of the best checkpoint of each run (test: 1,000 images); training "
            "accuracy: last epoch, 5,000 un-augmented training images in eval mode (mean ± std over the seeds).",
        ),
        Table(
            "The search: combination, second round, third round",
            rounds_table(r),
            "Best validation accuracy of one run (seed 0); 'vs base' against the base config's seed-0 run at the "
            "study's budget.",
            appendix=True,
        ),
        *placed(r.figures, folder),
    ]


def headline(r: FinalResult) -> str:
    return "; ".join(
        f"{c.network} {Variant('', c.runs).test.pct(1)}% test ({c.gain.points()} vs base)" for c in r.networks
    )


QUESTION = register(
    Question(
        __name__,
        "Final configurations",
        CV1,
        "§2.4a",
        order=35,
        result_type=FinalResult,
        asks="Reach the accuracy as high as you can with each network; show the final results and what was done.",
        configs="the study's winning changes, combined, on twolayer.yaml and lenet.yaml",
        reads=("hparams",),
        run=run,
        render=render,
        headline=headline,
    )
)
