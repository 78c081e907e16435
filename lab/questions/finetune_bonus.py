"""CV1 part 2, §3.3 (bonus): what fine-tuning changed, seen on the STL-10 test images.

    make finetune-bonus   # or: python -m lab.questions finetune_bonus

From the latest `make finetune` (its full fine-tuning run, seed 0) and the CIFAR-10 checkpoint it
started from: a t-SNE (scikit-learn) of the penultimate (F6) features of the test images before and
after fine-tuning, coloured by class, with silhouette scores; the confusion matrix (torchmetrics) after
fine-tuning; and a grid of misclassified test images with predicted and true labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

from lab.blocks import Figure, Text, placed
from lab.engine.train import build_datamodule
from lab.inference.load import load_trained
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.questions.finetune import FULL, FinetuneResult
from lab.questions.training import user_layers
from lab.utils.errors import LabError
from lab.viz.confusion import confusion_matrix, draw_confusion
from lab.viz.style import figure, save

BARELY = 0.02  # a silhouette change smaller than this is "barely moves" (the score ranges -1..1)
FOLDS = 5
VEHICLES = {"airplane", "automobile", "car", "ship", "truck"}
PROBES = ("linear probe, classes", "5-NN, classes", "linear probe, vehicle vs animal")


@dataclass
class BonusResult:
    finetune_run: str
    checkpoint_after: str
    checkpoint_before: str
    classes: list[str]
    silhouette_before: float
    silhouette_after: float
    test_acc_after: float
    misclassified: int
    confusion_matrix: list[list[int]]
    figures: list[Figure] = field(default_factory=list)
    # probe -> [mean, std over 5 folds] of its cross-validated accuracy on the test features, before and after
    separability_before: dict[str, list[float]] = field(default_factory=dict)
    separability_after: dict[str, list[float]] = field(default_factory=dict)

    @property
    def most_confused(self) -> tuple[str, str, int]:
        n = len(self.classes)
        i, j = max(
            ((i, j) for i in range(n) for j in range(n) if i != j), key=lambda p: self.confusion_matrix[p[0]][p[1]]
        )
        return self.classes[i], self.classes[j], self.confusion_matrix[i][j]


@torch.no_grad()
def features_and_predictions(net, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    net.eval()
    features = net.forward_features(images)
    return features, net.forward_head(features).argmax(1)


def networks(finetune: FinetuneResult) -> tuple[torch.nn.Module, torch.nn.Module, str, str, str]:
    """The CIFAR-10 ConvNet before and the fine-tuned one after (from the latest `make finetune`), with where
    they came from."""
    run_dir = Path(finetune.variant(FULL).runs[0].run_dir)
    best = sorted((run_dir / "checkpoints").glob("best-*.ckpt"))
    if not best:
        raise LabError(f"{run_dir}/checkpoints has no best-*.ckpt; run `make finetune` again.")
    before, after = load_trained(finetune.checkpoint).net, load_trained(best[-1]).net
    return before, after, str(run_dir), str(best[-1]), finetune.checkpoint


def separability(features, labels, classes: list[str]) -> dict[str, list[float]]:
    """Cross-validated accuracy (mean, std over folds) of a linear probe and a 5-nearest-neighbour classifier on
    standardised features: how separable the classes are, with an uncertainty (the silhouette has none)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels)
    vehicle = np.array([classes[i] in VEHICLES for i in labels], dtype=int)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    probes = {
        PROBES[0]: (LogisticRegression(max_iter=2000), labels),
        PROBES[1]: (KNeighborsClassifier(5), labels),
        PROBES[2]: (LogisticRegression(max_iter=2000), vehicle),
    }
    found = {}
    for name, (model, target) in probes.items():
        if len(set(target.tolist())) < 2 or min(np.bincount(target)) < FOLDS:
            continue
        scores = cross_val_score(make_pipeline(StandardScaler(), model), features, target, cv=folds)
        found[name] = [float(scores.mean()), float(scores.std(ddof=1))]
    return found


def tsne_figure(dm, nets: dict, path: Path) -> tuple[dict[str, float], Figure]:
    labels, images = dm.test_set.labels, dm.prepare_batch(dm.test_set.images, training=False)
    fig, axes = figure(1, 2, size=(9.5, 4.4))
    scores = {}
    for ax, (name, net) in zip(axes, nets.items()):
        feats = features_and_predictions(net, images)[0].numpy()
        points = TSNE(n_components=2, init="pca", perplexity=min(30, len(feats) - 1), random_state=0).fit_transform(
            feats
        )
        scores[name] = float(silhouette_score(feats, labels.numpy()))
        scores[f"{name} probes"] = separability(feats, labels.numpy(), list(dm.classes))
        for c, cls in enumerate(dm.classes):
            mask = (labels == c).numpy()
            ax.scatter(points[mask, 0], points[mask, 1], s=8, alpha=0.7, label=cls)
        ax.set(
            title=f"{name}\nsilhouette of F6 features by class: {scores[name]:.3f}",
            xlabel="t-SNE dimension 1 (arbitrary units)",
            ylabel="t-SNE dimension 2 (arbitrary units)",
        )
        ax.legend(markerscale=2, fontsize=9)
    drawn = save(
        fig,
        path,
        f"t-SNE of the penultimate (F6) features of {len(labels)} STL-10 test images",
        "2-D embedding of the 84-dimensional features, coloured by true class.",
    )
    return scores, drawn


def misclassified_figure(dm, predictions: torch.Tensor, path: Path) -> Figure:
    labels = dm.test_set.labels
    wrong = torch.nonzero(predictions != labels).flatten()[:24]
    cols, rows = 8, max(1, (len(wrong) + 7) // 8)
    fig, axes = figure(rows, cols, size=(2 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong.tolist()):
        ax.imshow(dm.test_set.images[i].permute(1, 2, 0).numpy())
        ax.set_title(f"pred: {dm.classes[predictions[i]]}\ntrue: {dm.classes[labels[i]]}", fontsize=8)
    return save(
        fig,
        path,
        f"Misclassified STL-10 test images (first {len(wrong)}, 32 x 32 px)",
        "Predicted and true class above each image.",
    )


def run(ctx: RunContext, out: Path, finetune: FinetuneResult) -> BonusResult:
    before, after, run_dir, checkpoint, start = networks(finetune)
    dm = build_datamodule(["stl10", *user_layers(ctx)])
    nets = {"before fine-tuning (CIFAR-10 ConvNet)": before, "after fine-tuning": after}
    scores, tsne = tsne_figure(dm, nets, out / "tsne.png")
    _, predictions = features_and_predictions(after, dm.prepare_batch(dm.test_set.images, training=False))
    matrix = confusion_matrix(predictions, dm.test_set.labels, dm.num_classes)
    accuracy = float(matrix.diag().sum() / matrix.sum())
    fig, ax = figure(size=(6.5, 5.5))
    draw_confusion(ax, matrix, dm.classes, f"after fine-tuning: accuracy {100 * accuracy:.1f}%")
    confusion = save(
        fig,
        out / "confusion.png",
        "STL-10 test confusion matrix (rows: true class)",
        "Test images by true (rows) and predicted (columns) class.",
    )
    figures = [tsne, confusion, misclassified_figure(dm, predictions, out / "misclassified.png")]
    (before_name, before_score), (after_name, after_score) = [(k, v) for k, v in scores.items() if "probes" not in k]
    wrong = int((predictions != dm.test_set.labels).sum())
    return BonusResult(
        run_dir,
        checkpoint,
        start,
        list(dm.classes),
        before_score,
        after_score,
        accuracy,
        wrong,
        matrix.tolist(),
        figures,
        scores[f"{before_name} probes"],
        scores[f"{after_name} probes"],
    )


def explain(r: BonusResult) -> str:
    change = r.silhouette_after - r.silhouette_before
    true, predicted, count = r.most_confused
    text = (
        f"Silhouette of the F6 features by true class: {r.silhouette_before:.3f} before and {r.silhouette_after:.3f} "
        f"after fine-tuning ({change:+.3f}; the score runs from -1 to 1, near 0 means overlapping classes). "
    )
    if abs(change) < BARELY:
        text += (
            "It barely moves: the silhouette says how compact and far apart the classes are in all 84 dimensions, "
            "not whether a classifier can separate them (a t-SNE picture shows the neighbourhoods); the probes "
            "below measure that separability, with an uncertainty."
        )
    else:
        text += (
            "The classes are "
            + ("more" if change > 0 else "less")
            + " compact and apart in the silhouette's sense after fine-tuning (one number, no uncertainty); "
            "whether a classifier separates them better is what the probes below measure."
        )
    return text + (
        f" After fine-tuning {100 * r.test_acc_after:.1f}% of the test images are right ({r.misclassified} "
        f"wrong); the most frequent confusion is {true} taken for {predicted} ({count} images)."
    )


def probe_lines(r: BonusResult) -> list[str]:
    """Separability before and after, from the cross-validated probes, with a verdict beyond the fold noise."""
    import math

    lines = []
    for name in PROBES:
        if name not in r.separability_before or name not in r.separability_after:
            continue
        (b, b_std), (a, a_std) = r.separability_before[name], r.separability_after[name]
        se = math.sqrt((b_std**2 + a_std**2) / FOLDS)
        verdict = (
            "no measurable change"
            if abs(a - b) <= 2 * se
            else ("more separable after" if a > b else "less separable after")
        )
        lines.append(
            f"- {name}: {100 * b:.1f} ± {100 * b_std:.1f}% before, {100 * a:.1f} ± {100 * a_std:.1f}% after "
            f"(± std over {FOLDS} folds; {100 * (a - b):+.1f} points: {verdict})."
        )
    return lines


def images(r: BonusResult) -> int:
    return sum(map(sum, r.confusion_matrix))


def render(r: BonusResult, folder: Path) -> list:
    probes = probe_lines(r)
    return [
        Text(explain(r)),
        *(
            [
                Text(
                    f"Separability of the F6 features, measured by classifiers cross-validated on the {images(r)} "
                    "test images (standardised features; a silhouette near 0 can hide classes that a classifier "
                    "separates well):\n\n" + "\n".join(probes)
                )
            ]
            if probes
            else []
        ),
        *placed(r.figures, folder),
    ]


def headline(r: BonusResult) -> str:
    return f"silhouette {r.silhouette_before:.3f} -> {r.silhouette_after:.3f}; {r.misclassified} test images wrong"


QUESTION = register(
    Question(
        __name__,
        "Bonus: features before and after fine-tuning",
        CV1,
        "§3.3",
        order=80,
        result_type=BonusResult,
        asks="Visualise what fine-tuning changes.",
        configs="the full fine-tuning run of make finetune",
        reads=("finetune",),
        run=run,
        render=render,
        headline=headline,
    )
)
