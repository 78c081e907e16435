"""Beyond the texts: how much do the trained models lose on corrupted images, and does augmentation help?

    make robustness     # or: python -m lab.questions robustness

Corruption sets after Hendrycks & Dietterich (ICLR 2019), made deterministically from the exact CIFAR-10
test images (lab/data/corruptions.py: 9 corruptions x 5 severities), and every trained model the other
questions left behind: the final ConvNet (checkpoints/convnet_cifar10.pt), the deeper ConvNet (`make deeper`), the
course CNN without and with augmentation (`make augment`) and the best CNN (`make best`), each evaluated
as a plain network (no test-time augmentation). A model whose question has not run is listed as missing.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lab.blocks import Figure, Table, Text, markdown_table, placed
from lab.data.corruptions import CORRUPTIONS, SEVERITIES, corrupt
from lab.engine.train import build_datamodule
from lab.inference.load import load_trained
from lab.questions import BEYOND, Question, register
from lab.questions.augment import PLAIN, TRAINED, AugmentResult
from lab.questions.best import BestResult
from lab.questions.context import RunContext
from lab.questions.deeper import WIDER, DeeperResult
from lab.questions.hparams import CONVNET
from lab.questions.stats import binomial_se, pct
from lab.questions.training import user_layers
from lab.utils.paths import REPO_ROOT
from lab.viz.style import figure, save


@dataclass
class ModelRobustness:
    name: str
    source: str
    clean: float
    accuracy: dict[str, list[float]]  # corruption -> accuracy at severities 1..5
    noise_gain: float = float("nan")  # first conv: relative size of Gaussian noise in its output / in its input

    @property
    def hardest(self) -> str:
        return min(CORRUPTIONS, key=lambda c: statistics.mean(self.accuracy[c]))

    @property
    def corrupted(self) -> float:
        return statistics.mean(a for values in self.accuracy.values() for a in values)

    @property
    def relative_drop(self) -> float:
        return (self.clean - self.corrupted) / self.clean if self.clean else float("nan")


@dataclass
class RobustnessResult:
    models: list[ModelRobustness]
    test_images: int
    missing: list[str]  # models whose question has not run yet
    figures: list[Figure] = field(default_factory=list)


def model_sources(
    deeper: DeeperResult | None, augment: AugmentResult | None, best: BestResult | None
) -> tuple[dict[str, Path], list[str]]:
    """name -> run folder or checkpoint of every model there is (from the latest results of the questions
    that trained them); the names of those still missing."""
    found, missing = {"final ConvNet (shipped checkpoint)": REPO_ROOT / "checkpoints" / "convnet_cifar10.pt"}, []
    wanted = {
        "ConvNet +2 convs, 64 channels": ("deeper", deeper, lambda r: r.variant(CONVNET, WIDER).runs[0]),
        "course CNN, no augmentation": ("augment", augment, lambda r: r.variant(PLAIN).runs[0]),
        "course CNN, flip + translate": ("augment", augment, lambda r: r.variant(TRAINED).runs[0]),
        "best CNN": ("best", best, lambda r: r),
    }
    for name, (question, result, run_dir) in wanted.items():
        if result is None:
            missing.append(f"{name} (`make {question}`)")
        else:
            found[name] = Path(run_dir(result).run_dir)
    return found, missing


def evaluate(name: str, source: Path, images: torch.Tensor, labels: torch.Tensor) -> ModelRobustness:
    trained = load_trained(source)
    accuracy = {c: [trained.accuracy(corrupt(images, c, s), labels) for s in SEVERITIES] for c in CORRUPTIONS}
    return ModelRobustness(name, str(source), trained.accuracy(images, labels), accuracy, noise_gain(trained, images))


@torch.no_grad()
def noise_gain(trained, images: torch.Tensor, severity: int = 3) -> float:
    """How much the network's first convolution amplifies Gaussian noise relative to the image:
    (|conv(x + n) - conv(x)| / |conv(x)|) / (|n| / |x|) on the normalised inputs (1: neither boosted nor damped)."""
    conv = next((m for m in trained.module.net.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if conv is None:
        return float("nan")
    x = trained.prepare(images[:200])
    noise = trained.prepare(corrupt(images[:200], "gaussian noise", severity)) - x
    clean, noisy = conv(x), conv(x + noise)
    bias = conv.bias.view(1, -1, 1, 1) if conv.bias is not None else 0
    out = ((noisy - clean).norm() / (clean - bias).norm()).item()
    return out / (noise.norm() / x.norm()).item()


def run(
    ctx: RunContext,
    out: Path,
    deeper: DeeperResult | None,
    augment: AugmentResult | None,
    best: BestResult | None,
) -> RobustnessResult:
    test = build_datamodule(["lenet", *user_layers(ctx)]).test_set
    sources, missing = model_sources(deeper, augment, best)
    models = [evaluate(name, source, test.images, test.labels) for name, source in sources.items()]
    figures = [
        draw_severity(models, out / "accuracy_vs_severity.png"),
        draw_examples(test.images[0], out / "corruptions.png"),
    ]
    return RobustnessResult(models, len(test.labels), missing, figures)


def draw_severity(models: list[ModelRobustness], path: Path) -> Figure:
    fig, axes = figure(3, 3, size=(14, 11))
    for ax, corruption in zip(axes.flat, CORRUPTIONS):
        for m in models:
            ax.plot(
                [0, *SEVERITIES],
                [100 * m.clean, *(100 * a for a in m.accuracy[corruption])],
                marker="o",
                markersize=3,
                label=m.name,
            )
        ax.set(title=corruption, xlabel="severity (0 = clean)", ylabel="top-1 accuracy (%)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    return save(
        fig,
        path,
        "Test accuracy under 9 corruptions at 5 severities",
        "CIFAR-10 test images corrupted after Hendrycks & Dietterich (2019); each model as a plain network.",
    )


def draw_examples(image: torch.Tensor, path: Path) -> Figure:
    fig, axes = figure(len(CORRUPTIONS), len(SEVERITIES) + 1, size=(8, 13), squeeze=False)
    for row, corruption in enumerate(CORRUPTIONS):
        views = [image, *(corrupt(image[None], corruption, s)[0] for s in SEVERITIES)]
        for col, view in enumerate(views):
            ax = axes[row, col]
            ax.imshow(view.permute(1, 2, 0).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title("clean" if col == 0 else f"severity {col}", fontsize=8)
        axes[row, 0].set_ylabel(corruption, fontsize=8)
    return save(fig, path, "One test image under each corruption", "Severities 1-5 of each corruption, 32 x 32 px.")


def explain(r: RobustnessResult) -> list[str]:
    if not r.models:
        return ["No trained model to evaluate yet."]
    robust = min(r.models, key=lambda m: m.relative_drop)
    fragile = max(r.models, key=lambda m: m.relative_drop)
    hardest = min(CORRUPTIONS, key=lambda c: statistics.mean(a for m in r.models for a in m.accuracy[c]))
    per_model = "; ".join(
        f"{m.name}: {m.hardest} ({pct(statistics.mean(m.accuracy[m.hardest]), 1)}%)" for m in r.models
    )
    lines = [
        f"{robust.name} keeps the most of its accuracy ({pct(robust.clean, 1)}% clean, {pct(robust.corrupted, 1)}% "
        f"corrupted: a {robust.relative_drop:.1%} relative drop); {fragile.name} the least "
        f"({fragile.relative_drop:.1%}). Averaged over the models the hardest corruption is {hardest}; per model "
        f"(lowest mean over its 5 severities): {per_model}."
    ]
    lines += augmentation_effect(r)
    lines += noise_collapse(r)
    return lines


def augmentation_effect(r: RobustnessResult) -> list[str]:
    """Flip + translate against none, on the mean and per corruption, beyond twice a standard error."""
    pair = {m.name: m for m in r.models if m.name.startswith("course CNN")}
    if len(pair) != 2:
        return []
    plain, augmented = pair["course CNN, no augmentation"], pair["course CNN, flip + translate"]
    delta, noise = augmented.corrupted - plain.corrupted, 2 * binomial_se(plain.clean, r.test_images)
    verdict = "has no measurable effect" if abs(delta) <= noise else ("helps" if delta > 0 else "hurts")
    effects = {c: statistics.mean(augmented.accuracy[c]) - statistics.mean(plain.accuracy[c]) for c in CORRUPTIONS}
    beyond = [f"{c} {100 * d:+.1f}" for c, d in sorted(effects.items(), key=lambda e: e[1]) if abs(d) > noise]
    return [
        f"Flip + translate augmentation {verdict} on the mean over corruptions: {pct(augmented.corrupted, 1)}% with "
        f"it, {pct(plain.corrupted, 1)}% without ({100 * delta:+.1f} points; one run each, so differences within "
        f"±{100 * noise:.1f} points, twice a clean accuracy's binomial standard error, count as noise). Per "
        "corruption, beyond that noise: " + ("; ".join(beyond) + " points." if beyond else "none.")
    ]


def noise_collapse(r: RobustnessResult) -> list[str]:
    """Which model loses most under Gaussian noise, and whether its first convolution amplifies noise most."""
    worst = min(r.models, key=lambda m: statistics.mean(m.accuracy["gaussian noise"]) / m.clean)
    gains = [m for m in r.models if m.noise_gain == m.noise_gain]
    if not gains:
        return []
    loudest = max(gains, key=lambda m: m.noise_gain)
    listed = ", ".join(f"{m.name} {m.noise_gain:.1f}x" for m in gains)
    text = (
        f"Under Gaussian noise {worst.name} keeps the smallest share of its accuracy "
        f"({pct(statistics.mean(worst.accuracy['gaussian noise']), 1)}% of {pct(worst.clean, 1)}%). Its first "
        f"convolution's noise gain (relative size of the noise in its output over that in its input, severity 3): "
        f"{listed}. "
    )
    if loudest is worst and worst.noise_gain > 1:
        text += (
            f"{worst.name} amplifies the noise most: its first layer boosts exactly the pixel-to-pixel variation "
            "that natural images lack and noise is made of (a whitening stem scales each 2x2 patch direction by the "
            "inverse square root of its variance in the training images), so its later layers see noise they "
            "never met in training."
        )
    else:
        text += "The first layer's gain does not single out the model that collapses: the cause lies deeper."
    return [text]


def render(r: RobustnessResult, folder: Path) -> list:
    rows = [
        [
            m.name,
            pct(m.clean, 1),
            pct(m.corrupted, 1),
            f"{m.relative_drop:.1%}",
            *(pct(statistics.mean(m.accuracy[c]), 1) for c in CORRUPTIONS),
        ]
        for m in r.models
    ]
    header = ["model", "clean (%)", "corrupted (%)", "relative drop", *CORRUPTIONS]
    blocks = [Text("\n\n".join(explain(r)))]
    if r.missing:
        blocks.append(Text("Not evaluated (their questions have not run): " + ", ".join(r.missing) + "."))
    blocks.append(
        Table(
            "Accuracy on clean and corrupted test images",
            markdown_table(header, rows),
            f"{r.test_images:,} test images, each model as a plain network (no test-time augmentation: "
            "the best CNN's clean accuracy here is its accuracy without TTA); corrupted: the mean over 9 "
            "corruptions x 5 severities; per corruption: the mean over its 5 severities.",
        )
    )
    return [*blocks, *placed(r.figures, folder)]


def headline(r: RobustnessResult) -> str:
    return "; ".join(f"{m.name} {pct(m.clean, 1)}% -> {pct(m.corrupted, 1)}%" for m in r.models[:3])


QUESTION = register(
    Question(
        __name__,
        "Robustness to common corruptions",
        BEYOND,
        "robustness",
        order=210,
        result_type=RobustnessResult,
        asks="How much accuracy do the trained models lose on corrupted test images, and does augmentation help?",
        configs="the checkpoints of make deeper, make augment, make best and checkpoints/convnet_cifar10.pt",
        may_read=("deeper", "augment", "best"),
        run=run,
        render=render,
        headline=headline,
    )
)
