"""Coursework part 2, section 3.3 (bonus): what fine-tuning changed, seen on the STL-10 test images.

    make finetune-bonus   # or: python -m lab.questions.finetune_bonus [--finetune-dir DIR]

From the latest `make finetune` (its full fine-tuning run, seed 0) and the CIFAR-10 checkpoint it
started from: a t-SNE (scikit-learn) of the penultimate (F6) features of the test images before and
after fine-tuning, coloured by class, with silhouette scores; the confusion matrix (torchmetrics)
after fine-tuning; and a grid of misclassified test images with predicted and true labels.
Writes results/finetune_bonus/<run>/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

from lab.data import STL10SubsetDataModule
from lab.errors import LabError
from lab.models import ConvNet
from lab.models.transfer import read_backbone_state
from lab.questions import common
from lab.questions.common import new_run_dir, publish, run_main, write_json
from lab.viz.confusion import confusion_matrix, draw_confusion
from lab.viz.style import figure, save


@torch.no_grad()
def features_and_predictions(net: ConvNet, dm: STL10SubsetDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    net.eval()
    x = dm.prepare_batch(dm.test_set.images, training=False)
    feats = net.embed(x)
    return feats, net.output(feats).argmax(1)


def load_net(state: dict, options: dict, num_classes: int) -> ConvNet:
    net = ConvNet(**{**options, "num_classes": num_classes})
    net.load_state_dict(state)
    return net


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finetune-dir", type=Path, default=None, help="default: results/finetune/latest")
    parser.add_argument("--data-dir", default=None, help="STL-10 location (default: the usual search order)")
    parser.add_argument("--val-size", type=int, default=500)
    args = parser.parse_args(argv)
    source = (args.finetune_dir or common.RESULTS_ROOT / "finetune" / "latest") / "finetune.json"
    if not source.exists():
        raise LabError(f"{source} not found: run `make finetune` first (the bonus reads its runs).")
    finetune = json.loads(source.read_text())
    row = next(r for r in finetune["rows"] if r["variant"].startswith("full"))
    run_dir = Path(row["runs"][0]["run_dir"])
    best = sorted((run_dir / "checkpoints").glob("best-*.ckpt"))
    if not best:
        raise LabError(f"{run_dir}/checkpoints has no best-*.ckpt; run `make finetune` again.")
    checkpoint = Path(finetune["checkpoint"])
    info = checkpoint.with_suffix(".json")
    options = json.loads(info.read_text()).get("backbone_options", {}) if info.exists() else {}
    dm = STL10SubsetDataModule(data_dir=args.data_dir, val_size=args.val_size)
    dm.setup()
    before = load_net(read_backbone_state(checkpoint), options, 10)
    after = load_net(read_backbone_state(best[-1]), options, dm.num_classes)
    labels = dm.test_set.labels
    out = new_run_dir("finetune_bonus")
    fig, axes = figure(1, 2, size=(13, 5.5))
    scores = {}
    for ax, (name, net) in zip(axes, (("before fine-tuning (CIFAR-10 ConvNet)", before), ("after fine-tuning", after))):
        feats, _ = features_and_predictions(net, dm)
        points = TSNE(n_components=2, init="pca", perplexity=30, random_state=0).fit_transform(feats.numpy())
        scores[name] = float(silhouette_score(feats.numpy(), labels.numpy()))
        for c, cls in enumerate(dm.classes):
            mask = (labels == c).numpy()
            ax.scatter(points[mask, 0], points[mask, 1], s=8, alpha=0.7, label=cls)
        ax.set(title=f"{name}\nsilhouette of F6 features by class: {scores[name]:.3f}",
               xlabel="t-SNE dimension 1 (arbitrary units)", ylabel="t-SNE dimension 2 (arbitrary units)")  # fmt: skip
        ax.legend(markerscale=2, fontsize=8)
    save(fig, out / "tsne.png", f"t-SNE of the penultimate (F6) features of {len(labels)} STL-10 test images")
    _, predictions = features_and_predictions(after, dm)
    matrix = confusion_matrix(predictions, labels, dm.num_classes)
    fig, ax = figure(size=(6.5, 5.5))
    accuracy = float(matrix.diag().sum() / matrix.sum())
    draw_confusion(ax, matrix, dm.classes, f"after fine-tuning: accuracy {100 * accuracy:.1f}%")
    save(fig, out / "confusion.png", "STL-10 test confusion matrix (rows: true class)")
    wrong = torch.nonzero(predictions != labels).flatten()[:24]
    cols = 8
    fig, axes = figure(max(1, (len(wrong) + cols - 1) // cols), cols, size=(2 * cols, 2.4 * max(1, len(wrong) // cols)),
                       squeeze=False)  # fmt: skip
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong.tolist()):
        ax.imshow(dm.test_set.images[i].permute(1, 2, 0).numpy())
        ax.set_title(f"pred: {dm.classes[predictions[i]]}\ntrue: {dm.classes[labels[i]]}", fontsize=8)
    save(fig, out / "misclassified.png", f"Misclassified STL-10 test images (first {len(wrong)}, 32 x 32 px)")
    write_json(out / "finetune_bonus.json", {
        "finetune_run": str(run_dir), "checkpoint_after": str(best[-1]), "checkpoint_before": str(checkpoint),
        "silhouette": scores, "test_acc_after": accuracy, "misclassified": int((predictions != labels).sum()),
        "confusion_matrix": matrix.tolist(), "classes": list(dm.classes),
    })  # fmt: skip
    print(f"silhouette {scores}; accuracy after fine-tuning {100 * accuracy:.2f}%\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
