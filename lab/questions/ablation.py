"""A2 task 2e's "identify the problem, fix it, iterate": an ablation ladder from the course CNN to the best CNN.

    make ablation       # or: python -m lab.questions ablation [--ladder experiments/ablation.yaml]

Rung k trains the base config + the changes of rungs 1..k (experiments/ablation.yaml, composed with
lab.engine.config.compose) at a reduced budget, all rungs through the run cache. Every rung trains without
test-time augmentation (TTA); its best checkpoint is then tested on the same images without and with
flip + 1-px-shift TTA. The table and the story are computed from those numbers.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import yaml

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.engine.config import EXPERIMENTS, compose, experiment_path
from lab.inference.load import load_trained
from lab.questions import A2, Question, register
from lab.questions.context import RunContext
from lab.questions.stats import binomial_se, count, pct
from lab.questions.training import Job, RunSummary, fit_many, user_layers
from lab.utils.errors import LabError
from lab.viz.style import figure, save

TTA = "flip_translate"
TTA_WORDS = "the mean logits of the image and its mirror (weight 1/2) and of both shifted by one pixel (1/4)"


@dataclass
class RungResult:
    name: str
    change: str
    why: str
    runs: list[RunSummary] = field(default_factory=list)  # one per seed; empty when the rung diverged
    tta_acc: list[float] = field(default_factory=list)  # the same checkpoints with TTA, per seed

    @property
    def plain(self) -> float:
        return _mean([r.test_acc for r in self.runs])

    @property
    def tta(self) -> float:
        return _mean(self.tta_acc)

    @property
    def seconds(self) -> float:
        return _mean([r.seconds for r in self.runs])

    def gap(self) -> float:
        """Training accuracy (un-augmented training images, eval mode) minus validation accuracy, last epoch."""
        gaps = [r.last.get("train_eval/acc", math.nan) - r.last.get("val/acc", math.nan) for r in self.runs]
        return _mean(gaps)


@dataclass
class AblationResult:
    ladder: str
    epochs: int
    seeds: int
    test_images: int
    workers: int
    rungs: list[RungResult]
    figures: list[Figure] = field(default_factory=list)


def _mean(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return sum(values) / len(values) if values else math.nan


def read_ladder(path: Path) -> dict[str, Any]:
    """The ladder file: base, budget, quick and rungs (each with name, change, why, config)."""
    ladder = yaml.safe_load(path.read_text()) or {}
    rungs = ladder.get("rungs") if isinstance(ladder, dict) else None
    if not rungs or not all(isinstance(r, dict) and {"name", "change", "config"} <= set(r) for r in rungs):
        raise LabError(
            f"{path}: needs `rungs:`, a list of {{name, change, why, config}}; see experiments/ablation.yaml"
        )
    return ladder


def rung_layers(ladder: dict[str, Any], k: int) -> list:
    """The layers of rung k: base, the changes of rungs 0..k, the budget, no TTA (measured afterwards)."""
    changes = [copy.deepcopy(r["config"] or {}) for r in ladder["rungs"][: k + 1]]
    return [ladder.get("base", "course_cnn"), *changes, ladder.get("budget") or {}, {"model": {"tta": "none"}}]


def rung_config(ladder: dict[str, Any], k: int) -> dict[str, Any]:
    """Rung k's whole run config (before the user's layers)."""
    return compose(rung_layers(ladder, k))


def ladder_context(ctx: RunContext, ladder: dict[str, Any]) -> RunContext:
    """At most the ladder's own number of seeds (its budget: one ladder of nine runs), and with --quick its quick
    budget right after quick.yaml."""
    ctx = replace(ctx, seeds=min(ctx.seeds, ladder.get("seeds", ctx.seeds)))
    if not ctx.quick or not ladder.get("quick"):
        return ctx
    configs = ctx.configs
    at = next((i + 1 for i, c in enumerate(configs) if Path(str(c)).name == "quick.yaml"), 0)
    return replace(ctx, configs=(*configs[:at], ladder["quick"], *configs[at:]))


def tta_accuracy(run_dir: str, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of a run's best checkpoint with test-time augmentation."""
    return load_trained(Path(run_dir)).accuracy(images, labels, tta=TTA)


def run(ctx: RunContext, out: Path, opts: Options) -> AblationResult:
    from lab.engine.train import build_datamodule

    path = experiment_path(opts.ladder)
    ladder = read_ladder(path)
    ctx = ladder_context(ctx, ladder)
    count = len(ladder["rungs"])
    # the last (widest, slowest) rungs first: the two workers then finish together instead of one alone
    jobs = [Job(tuple(rung_layers(ladder, k)), {}, f"ablation/{k}", s) for k in range(count) for s in range(ctx.seeds)]
    outcomes = iter(reversed(fit_many(ctx, jobs[::-1])))
    test = build_datamodule([*rung_layers(ladder, 0), *user_layers(ctx)]).test_set
    rungs = []
    for spec in ladder["rungs"]:
        rung = RungResult(spec["name"], spec["change"], spec.get("why", ""))
        for _ in range(ctx.seeds):
            outcome = next(outcomes)
            if isinstance(outcome, RunSummary):
                rung.runs.append(outcome)
                rung.tta_acc.append(tta_accuracy(outcome.run_dir, test.images, test.labels))
        rungs.append(rung)
    epochs = ctx.epochs or compose([*rung_layers(ladder, 0), *user_layers(ctx)])["trainer"]["max_epochs"]
    result = AblationResult(path.name, epochs, ctx.seeds, len(test.labels), ctx.workers, rungs)
    result.figures = [draw_ladder(result, out / "ablation.png")]
    return result


def noise(a: float, b: float, n: int) -> float:
    """Standard error of the difference of two accuracies on n test images (binomial, taken as independent)."""
    return math.sqrt(binomial_se(a, n) ** 2 + binomial_se(b, n) ** 2)


def draw_ladder(r: AblationResult, path: Path) -> Figure:
    fig, axes = figure(1, 2, size=(14, 4.5))
    x = list(range(len(r.rungs)))
    for values, label, marker in (
        ([g.plain for g in r.rungs], "no TTA", "o"),
        ([g.tta for g in r.rungs], "with TTA (flip + 1-px shifts)", "s"),
    ):
        errors = [100 * binomial_se(v, r.test_images) if v == v else 0 for v in values]
        axes[0].errorbar(x, [100 * v for v in values], yerr=errors, marker=marker, capsize=3, label=label)
    axes[0].set(title="test accuracy per rung (bars: ±1 binomial s.e.)", xlabel="rung", ylabel="accuracy (%)")
    axes[1].bar(x, [g.seconds for g in r.rungs], color="C2")
    axes[1].set(title="fit wall time per rung (validation included)", xlabel="rung", ylabel="wall time (s)")
    for ax in axes:
        ax.set_xticks(x, [f"{i}" for i in x])
        ax.grid(alpha=0.3)
    axes[0].legend()
    names = "; ".join(f"{i}: {g.name}" for i, g in enumerate(r.rungs))
    caption = f"Rungs ({names}), {epochs_words(r.epochs)} each, {_seed_words(r.seeds)}."
    return save(fig, path, "The ablation ladder: accuracy and time, one change per rung", caption, label="")


def _seed_words(seeds: int) -> str:
    return "one seed" if seeds == 1 else f"mean of {seeds} seeds"


def table(r: AblationResult) -> Table:
    rows, previous = [], None
    for i, g in enumerate(r.rungs):
        if not g.runs:
            rows.append([str(i), g.change, "diverged", "–", "–", "–"])
            continue
        step = "" if previous is None else f"{100 * (g.plain - previous):+.1f}"
        if previous is not None and abs(g.plain - previous) < 2 * noise(g.plain, previous, r.test_images):
            step += " (noise)"
        rows.append([str(i), g.change, pct(g.plain, 1), pct(g.tta, 1), step, f"{g.seconds:.0f}"])
        previous = g.plain
    header = [
        "rung",
        "change (added to the rung above)",
        "test acc. no TTA (%)",
        "test acc. with TTA (%)",
        "step, no TTA (points)",
        "wall time (s)",
    ]
    caption = (
        f"Each rung trained {epochs_words(r.epochs)}, {_seed_words(r.seeds)}, {r.workers} run(s) at a time (the "
        "times are measured while they share the cores); "
        f"test accuracy of the best checkpoint (by validation accuracy) on {r.test_images:,} test images, without "
        f'and with TTA ({TTA_WORDS}). "(noise)": the step is within two standard errors of the difference of two '
        "binomial accuracies. Wall time: the fit, validation included."
    )
    return Table("The ablation ladder, one change per rung", markdown_table(header, rows, "llrrrr"), caption)


def epochs_words(n: int) -> str:
    return count(n, "epoch")


def story(r: AblationResult) -> str:
    """One paragraph from the numbers: the problem found, the steps that helped or cost, those lost in the noise."""
    done = [g for g in r.rungs if g.runs]
    if len(done) < 2:
        return "Too few rungs finished for a story."
    first, last = done[0], done[-1]
    parts = [
        f"At {epochs_words(r.epochs)} per rung the ladder goes from {pct(first.plain, 1)}% ({first.name}) to "
        f"{pct(last.plain, 1)}% ({last.name}) without TTA, {pct(last.tta, 1)}% with it; one standard error of a test "
        f"accuracy on {r.test_images:,} images is about {100 * binomial_se(last.plain, r.test_images):.1f} points.",
        *problem(done),
        *steps_words(done, r.test_images),
    ]
    tta = last.tta - last.plain
    parts.append(
        f"TTA {'adds' if tta >= 0 else 'costs'} {100 * abs(tta):.1f} points on the last rung. The last rung takes "
        f"{last.seconds / first.seconds:.1f}x the baseline's time ({last.seconds:.0f} s against {first.seconds:.0f} s)."
    )
    return " ".join(parts)


def problem(done: list[RungResult]) -> list[str]:
    """The overfitting gap at the baseline and after the next rung, where the runs measured it."""
    before, after = done[0].gap(), done[1].gap()
    if before != before:
        return []
    return [
        f"The problem found first: at the baseline the training accuracy (un-augmented training images) is "
        f"{100 * abs(before):.1f} points {'above' if before >= 0 else 'below'} the validation accuracy"
        + (f"; after {done[1].name} the difference is {100 * after:+.1f} points." if after == after else ".")
    ]


def steps_words(done: list[RungResult], n: int) -> list[str]:
    """Each rung's step against the rung before: beyond two standard errors up or down, or within them."""
    steps = [(g, g.plain - p.plain, noise(g.plain, p.plain, n)) for p, g in zip(done, done[1:])]
    up = sorted((s for s in steps if s[1] >= 2 * s[2]), key=lambda s: -s[1])
    down = sorted((s for s in steps if -s[1] >= 2 * s[2]), key=lambda s: s[1])
    small = [s for s in steps if abs(s[1]) < 2 * s[2]]
    words = []
    if up:
        words.append(
            "Steps that helped beyond the noise: "
            + "; ".join(
                f"{g.name} {100 * d:+.1f} points" + (f" (the problem: {g.why})" if g.why else "") for g, d, _ in up
            )
            + "."
        )
    if down:
        words.append(
            "Steps that cost accuracy beyond the noise at this budget: "
            + "; ".join(f"{g.name} {100 * d:+.1f} points" for g, d, _ in down)
            + "."
        )
    if small:
        words.append(
            "Within the noise (less than two standard errors of the difference, so not shown to matter at "
            "this budget): " + ", ".join(f"{g.name} ({100 * d:+.1f})" for g, d, _ in small) + "."
        )
    return words


def render(r: AblationResult, folder: Path) -> list:
    diverged = [g.name for g in r.rungs if not g.runs]
    blocks = [
        Text(
            f"Starting from the course CNN, `experiments/{r.ladder}` adds one piece of the best CNN's recipe per rung "
            "(airbench94, Keller Jordan, https://github.com/KellerJordan/cifar10-airbench), in the order a problem "
            "showed up; the last rung is the best recipe at a reduced budget (`experiments/fast90.yaml`: widths "
            "48-192-192)."
        ),
        table(r),
        Text(story(r) + (f" Diverged (loss not finite): {', '.join(diverged)}." if diverged else "")),
    ]
    return [*blocks, *placed(r.figures, folder)]


def headline(r: AblationResult) -> str:
    done = [g for g in r.rungs if g.runs]
    if not done:
        return "no rung finished"
    return (
        f"{len(r.rungs)} rungs, {pct(done[0].plain, 1)}% -> {pct(done[-1].plain, 1)}% without TTA "
        f"({pct(done[-1].tta, 1)}% with), {epochs_words(r.epochs)} each"
    )


@dataclass(frozen=True)
class Options:
    """The ablation's own option.

    Attributes:
        ladder: the ladder file
    """

    ladder: str = str(EXPERIMENTS / "ablation.yaml")


QUESTION = register(
    Question(
        __name__,
        "From the course CNN to the best CNN: the ablation ladder",
        A2,
        "task 2e",
        order=145,
        result_type=AblationResult,
        asks="Identify the problem, fix it, iterate: one change per rung from the course CNN to the best CNN, "
        "each rung's test accuracy and time at a reduced budget.",
        configs="experiments/ablation.yaml",
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
