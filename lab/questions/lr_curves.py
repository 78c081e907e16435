"""A2 task 2c: the course CNN at learning rates 1e-3, 1e-4, 1e-5 (Adam, all else equal).

    make lr-curves      # or: python -m lab.questions lr_curves [--lrs 1e-3 1e-4 1e-5] [--epochs 6]

Loss and accuracy curves on the training and validation sets, one run per rate (the rates differ by
far more than a run's noise). Training accuracy is measured at each epoch's end on 5,000 training
images, un-augmented and in eval mode, so that it compares with validation accuracy as equals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.questions import A2, Question, register
from lab.questions.context import RunContext
from lab.questions.stats import binomial_se, count, pct
from lab.questions.training import Job, RunSummary, fit_many, raise_diverged
from lab.viz.curves import plot_curves


@dataclass
class RateRun:
    lr: float
    run: RunSummary

    @property
    def gap(self) -> float:
        return self.run.last.get("train_eval/acc", float("nan")) - self.run.last.get("val/acc", float("nan"))


@dataclass
class LrCurvesResult:
    rates: list[RateRun]
    val_images: int
    figures: list[Figure] = field(default_factory=list)
    layers: list[dict] = field(default_factory=list)  # the course CNN (A2 task 2a), read by a forward pass


def run(ctx: RunContext, out: Path, opts: Options) -> LrCurvesResult:
    if any(lr <= 0 for lr in opts.lrs):
        raise ValueError(f"--lrs must be positive, got {opts.lrs}")
    jobs = [
        Job(("course_cnn",), {"model": {"optimizer": {"init_args": {"lr": lr}}}}, f"lr_curves/lr_{lr:g}")
        for lr in opts.lrs
    ]  # one seed: the rates differ by far more than a run's noise
    rates = [RateRun(lr, raise_diverged(r)) for lr, r in zip(opts.lrs, fit_many(ctx, jobs))]
    curves = plot_curves(
        {f"lr = {r.lr:g}": r.run.history for r in rates},
        out / "curves.png",
        "Course CNN (Adam) at three learning rates",
    )
    curves.label = "A2 Figure 2"
    return LrCurvesResult(rates, rates[0].run.val_images, [curves], course_cnn_layers())


def course_cnn_layers() -> list[dict]:
    """The layer table of experiments/course_cnn.yaml's network (task 2a's CNN, used here first)."""
    from lab.engine.config import load_layer
    from lab.models import CourseCNN
    from lab.viz.layers import layer_table

    options = load_layer("course_cnn")["model"]["net"].get("init_args", {})
    return layer_table(CourseCNN(**options), (3, 32, 32))


def layers_table(layers: list[dict]) -> Table:
    rows = [[x["layer"], x["type"], " x ".join(map(str, x["output_shape"])), f"{x['parameters']:,}"] for x in layers]
    rows.append(["**total**", "", "", f"**{sum(x['parameters'] for x in layers):,}**"])
    convs = sum(x["type"] == "Conv2d" for x in layers)
    return Table(
        "The course CNN (task 2a): layers for a 3 x 32 x 32 input",
        markdown_table(["layer", "type", "output shape", "trainable parameters"], rows, "lllr"),
        f"experiments/course_cnn.yaml's lab.models.CourseCNN: {convs} 3x3 convolutions, each followed by BatchNorm "
        "and GELU, max pooling after the first convolution of each group, global max pooling and one linear layer; "
        "trained with Adam and the hand-written cross-entropy. Read by a forward pass.",
    )


def explain(r: LrCurvesResult) -> str:
    ranked = sorted(r.rates, key=lambda x: x.run.last.get("val/acc", 0), reverse=True)
    best, worst = ranked[0], ranked[-1]
    se = binomial_se(best.run.last["val/acc"], r.val_images)
    text = (
        f"After {count(best.run.epochs, 'epoch')}, lr {best.lr:g} reaches the highest validation accuracy "
        f"({pct(best.run.last['val/acc'], 1)}%, ±{100 * se:.1f} points binomial s.e. on {r.val_images:,} images), "
        f"lr {worst.lr:g} the lowest ({pct(worst.run.last['val/acc'], 1)}%): "
    )
    text += (
        "the smaller the rate, the slower the loss falls in this budget; "
        if best.lr == max(x.lr for x in r.rates)
        else "the largest rate is not the best here; "
    )
    gaps = ", ".join(f"lr {x.lr:g}: {100 * x.gap:+.1f}" for x in r.rates)
    fit_most = max(r.rates, key=lambda x: x.gap)
    return text + (
        f"the train - validation accuracy gap (points; training accuracy on un-augmented images) is {gaps}. "
        f"lr {fit_most.lr:g} fits the training images the most beyond what it generalises: "
        + ("a clear overfitting gap." if fit_most.gap > 0.03 else "no clear overfitting yet.")
    )


def render(r: LrCurvesResult, folder: Path) -> list:
    rows = [
        [
            f"{x.lr:g}",
            f"{x.run.last.get('train/loss', float('nan')):.3f}",
            f"{x.run.last.get('val/loss', float('nan')):.3f}",
            pct(x.run.last.get("train_eval/acc", float("nan")), 1),
            pct(x.run.last.get("val/acc", float("nan")), 1),
            f"{100 * x.gap:.1f}",
            pct(x.run.test_acc, 1),
        ]
        for x in r.rates
    ]
    header = [
        "learning rate",
        "train loss",
        "val loss",
        "train acc (%)",
        "val acc (%)",
        "train - val (pts)",
        "test acc (%)",
    ]
    caption = (
        "Final epoch: training loss (mean over the epoch's batches), validation loss (nats); training "
        "accuracy on 5,000 un-augmented training images in eval mode; the test accuracy of the best checkpoint."
    )
    table = Table("Course CNN after training at three learning rates", markdown_table(header, rows), caption)
    course = [layers_table(r.layers or course_cnn_layers())]  # results made before it was kept: read it now
    return [*course, Text(explain(r)), table, *placed(r.figures, folder)]


def headline(r: LrCurvesResult) -> str:
    return "val acc " + ", ".join(f"{pct(x.run.last.get('val/acc', float('nan')), 1)}% at {x.lr:g}" for x in r.rates)


@dataclass(frozen=True)
class Options:
    """lr_curves' own option.

    Attributes:
        lrs: Adam learning rates
    """

    lrs: tuple[float, ...] = (1e-3, 1e-4, 1e-5)


QUESTION = register(
    Question(
        __name__,
        "Learning rate and curves",
        A2,
        "task 2c",
        order=120,
        result_type=LrCurvesResult,
        asks="Loss and accuracy curves, training and validation, at learning rates 1e-3, 1e-4, 1e-5.",
        configs="experiments/course_cnn.yaml",
        exports=(("curves.png", "lr_curves.png"),),
        run=run,
        render=render,
        headline=headline,
        options=Options,
    )
)
