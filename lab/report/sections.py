"""One report section per question of the two texts in ../shared/seeds/, built from its latest results.

Each builder reads only the files a question wrote (JSON for numbers, its .md tables, its figures),
so every number in the report is one a run produced. A section whose results are missing says so
and names the command that makes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lab.report.blocks import Block, Figure, Missing, Table, Text
from lab.report.results import Results, split_markdown


@dataclass
class Section:
    number: str  # the question's number in its text, e.g. "2.1" or "task 2c"
    title: str
    source: str  # which coursework text
    question: str  # what the text asks, shortly
    questions: tuple[str, ...]  # results/<question> folders it reads
    command: str  # how to make those results
    configs: str  # the experiment configs behind them
    build: Callable[[Results], list[Block]]


PART2 = "CV1 Lab Part 2"
A2 = "Assignment 2"


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def classes(r: Results) -> list[Block]:
    tables, paragraphs = split_markdown(r.text("cifar10_classes", "classes.md"))
    d = r.load("cifar10_classes", "classes.json")
    return [
        Figure(
            r.latest("cifar10_classes") / "classes.png",
            "CIFAR-10 training images, one row per class",
            "Random training images of each of the 10 classes (32 x 32 px, shown enlarged).",
        ),
        Table(
            "CIFAR-10 images per class and split, mean colour",
            tables[0],
            f"Counts of the seeded {d['split_sizes']['train']:,} / {d['split_sizes']['validation']:,} "
            "train/validation split and of the test images; per-class mean pixel value in [0, 1].",
        ),
        *map(Text, paragraphs),
    ]


def architectures(r: Results) -> list[Block]:
    tables, _ = split_markdown(r.text("architectures", "architectures.md"))
    d = r.load("architectures", "architectures.json")
    first, f6 = d["answers"]["first_conv"], d["answers"]["f6"]
    blocks: list[Block] = []
    for (name, net), table in zip(d["networks"].items(), tables):
        blocks.append(
            Table(
                f"{name}: layers, output shapes and trainable parameters",
                table,
                f"Input 3 x 32 x 32; {net['trainable_parameters']:,} trainable parameters in all, "
                "counted from the PyTorch modules.",
            )
        )
    blocks += [
        Text(f"**Kernel size of the first convolutional layer.** {first['answer']}"),
        Text(
            f"**Trainable parameters of F6.** {f6['in_features']} inputs x {f6['out_features']} outputs "
            f"plus {f6['out_features']} biases: {f6['calculation']}."
        ),
    ]
    return blocks


def hparams(r: Results) -> list[Block]:
    d = r.load("hparams", "hparams.json")
    folder = r.latest("hparams")
    best = "; ".join(
        f"{net}: {b['factor']} = {b['value']} (validation {pct(b['val_acc'])}, test {pct(b['test_acc'])})"
        for net, b in d["best"].items()
    )
    diverged = [f"{x['network']} at {x['factor']} = {x['value']}" for x in d["rows"] if x.get("diverged")]
    spans = ", ".join(f"{k} {v:.1f} points" for k, v in d["lr_sensitivity_pts"].items())
    return [
        Text(
            f"One factor at a time around each network's base config, {d['epochs_default']} epochs per run "
            f"unless the factor is the epoch count, chosen by validation accuracy only. Best: {best}. "
            f"Validation accuracy over the learning-rate sweep spans {spans}."
            + (f" Diverged (loss became inf/NaN, recorded and skipped): {', '.join(diverged)}." if diverged else "")
        ),
        Table(
            "Hyperparameter study, one factor changed at a time",
            r.text("hparams", "table.md"),
            "Best validation accuracy over the epochs of each run and the test accuracy of that checkpoint "
            "(1,000 test images, about ±1.5 points standard error); wall time on this machine.",
        ),
        Figure(
            folder / "lr_finder.png",
            "Lightning learning-rate finder",
            "Training loss (nats) while the learning rate grows exponentially over 100 SGD steps.",
        ),
        Figure(
            folder / "acc_vs_lr.png",
            "Validation accuracy against the peak learning rate",
            "SGD with a one-cycle schedule; x axis logarithmic.",
        ),
        Figure(
            folder / "best_curves.png",
            "Training curves of each network's best configuration",
            "Loss (nats) and accuracy (%) per epoch, training and validation.",
        ),
    ]


def deeper(r: Results) -> list[Block]:
    d = r.load("deeper", "deeper.json")
    text = []
    for net in dict.fromkeys(row["network"] for row in d["rows"]):
        rows = {row["variant"]: row for row in d["rows"] if row["network"] == net}
        if {"original", "+2 layers"} <= rows.keys():
            gain = 100 * (rows["+2 layers"]["test_acc_mean"] - rows["original"]["test_acc_mean"])
            text.append(
                f"{net}: {gain:+.1f} points of mean test accuracy with 2 more layers "
                f"({rows['original']['parameters']:,} -> {rows['+2 layers']['parameters']:,} parameters)."
            )
    return [
        Text(
            "TwoLayerNet gets two more Linear + ReLU layers (hidden sizes 512 -> 512, 256, 128); ConvNet gets two "
            "more 3x3 convolutions (64 channels, after C1 and after C3), within the text's limit of 3 extra "
            "convolutions. Both train with the best setting of the study (epochs: the setting's if it sets them, else "
            "the network's config). "
            + " ".join(text)
            + " Extra convolutions add depth where the features are built: each sees a larger receptive field "
            "and learns more nonlinear local features for a small parameter cost, while extra fully connected "
            "layers on raw pixels add capacity without any notion of locality."
        ),
        Table(
            "Original vs +2 layers, mean ± standard deviation over seeds",
            r.text("deeper", "table.md"),
            "Validation accuracy of the best checkpoint and its test accuracy (%), one run per seed.",
        ),
        Figure(
            r.latest("deeper") / "curves.png",
            "Original vs +2 layers: training curves (seed 0)",
            "Loss (nats) and accuracy (%) per epoch.",
        ),
    ]


def compare(r: Results) -> list[Block]:
    tables, paragraphs = split_markdown(r.text("compare_nets", "compare.md"))
    return [
        Table(
            "TwoLayerNet vs ConvNet",
            tables[0],
            "Best setting of the study per network, its accuracies (%), the best rate of the learning-rate "
            "sweep, the spread of validation accuracy over that sweep (points) and the gain of +2 layers.",
        ),
        *map(Text, paragraphs),
        Figure(
            r.latest("compare_nets") / "compare.png",
            "TwoLayerNet vs ConvNet",
            "Validation accuracy over the learning-rate sweep and best accuracies of both networks.",
        ),
    ]


def stl10(r: Results) -> list[Block]:
    d = r.load("stl10_samples", "counts.json")
    rows = "\n".join(
        f"| {c} | " + " | ".join(str(d["counts"][s][c]) for s in ("train", "validation", "test")) + " |"
        for c in d["classes"]
    )
    folder = r.latest("stl10_samples")
    return [
        Table(
            "STL-10 subset: images per class and split",
            "| class | train | validation | test |\n| --- | ---: | ---: | ---: |\n" + rows,
            "The 5 classes relabelled 0-4 in this order; seeded train/validation split of the 2,500 training images.",
        ),
        Figure(
            folder / "samples_96px.png", "STL-10 subset at its native 96 x 96 px", "Random training images per class."
        ),
        Figure(
            folder / "samples_32px.png",
            "The same images resized to 32 x 32 px",
            "What the CIFAR-10 ConvNet sees after the antialiased resize.",
        ),
    ]


def finetune(r: Results) -> list[Block]:
    d = r.load("finetune", "finetune.json")
    means = {row["variant"]: row["test_acc_mean"] for row in d["rows"]}
    scratch = next((v for k, v in means.items() if "scratch" in k), None)
    gains = ", ".join(f"{k} {100 * (v - scratch):+.1f} points" for k, v in means.items() if v is not scratch)
    return [
        Text(
            "The output layer of the CIFAR-10 ConvNet is replaced (10 -> 5 classes), by either loading order "
            "(load then replace, or replace then load the matching weights: identical body weights, tested). "
            f"Against training from scratch on the same split and budget: {gains}."
        ),
        Table(
            "Fine-tuning on the STL-10 subset",
            r.text("finetune", "table.md"),
            f"Test accuracy on {d['rows'][0]['test_images']} images, mean ± std over seeds, and the standard "
            "error of a single run's test accuracy.",
        ),
        Figure(
            r.latest("finetune") / "val_curves.png",
            "Validation accuracy while training on STL-10",
            "Validation accuracy (%) per epoch, one line per seed.",
        ),
    ]


def bonus(r: Results) -> list[Block]:
    d = r.load("finetune_bonus", "finetune_bonus.json")
    folder = r.latest("finetune_bonus")
    sil = "; ".join(f"{k}: {v:.3f}" for k, v in d["silhouette"].items())
    return [
        Text(
            f"Silhouette score of the F6 features by true class ({sil}); test accuracy after fine-tuning "
            f"{pct(d['test_acc_after'])}, {d['misclassified']} test images misclassified."
        ),
        Figure(
            folder / "tsne.png",
            "t-SNE of the F6 features before and after fine-tuning",
            "2-D embedding of the 84-dimensional penultimate features of the STL-10 test images, coloured by class.",
        ),
        Figure(
            folder / "confusion.png",
            "STL-10 test confusion matrix after fine-tuning",
            "Rows: true class; columns: predicted class.",
        ),
        Figure(
            folder / "misclassified.png",
            "Misclassified STL-10 test images",
            "True and predicted class above each image.",
        ),
    ]


def batch_norm(r: Results) -> list[Block]:
    d = r.load("bn", "bn.json")
    losses = d["train_loss"]
    return [
        Text(
            f"NumPy-only batch normalization without Python loops (train forward with running statistics, "
            f"backward, inference) in a toy MLP ({d['data']}). Loss at iteration 1: {losses[0]:.6f}; at "
            f"iteration {len(losses)}: {losses[-1]:.6f}; validation loss (inference mode): {d['validation_loss']:.6f}."
        ),
        Figure(
            r.latest("bn") / "loss_curve.png",
            "Toy MLP with NumPy batch normalization: training loss",
            "Mean squared error per full-batch SGD iteration.",
        ),
    ]


def lr_curves(r: Results) -> list[Block]:
    return [
        Table(
            "Course CNN after training at three learning rates",
            r.text("lr_curves", "table.md"),
            "Final-epoch losses (nats) and accuracies (%); train - val is the overfitting gap in points.",
        ),
        Figure(
            r.latest("lr_curves") / "curves.png",
            "Loss and accuracy curves at learning rates 1e-3, 1e-4, 1e-5",
            "Training and validation loss (nats) and accuracy (%) per epoch.",
        ),
    ]


def augment(r: Results) -> list[Block]:
    d = r.load("augment", "augment.json")
    rows = {row["augmentation"]: row for row in d["rows"]}
    gaps = ", ".join(f"{k}: {100 * (v['train/acc'] - v['val/acc']):.1f} points" for k, v in rows.items())
    folder = r.latest("augment")
    return [
        Figure(
            folder / "lenna_augmentations.png",
            "Lenna without augmentation, with position and with colour augmentation",
            "Original; flip, shift and rotation; brightness, contrast, saturation and hue (lab/data/augment.py).",
        ),
        Text(f"Train - validation accuracy gap: {gaps}."),
        Table("Course CNN without and with augmentation", r.text("augment", "gap.md"), "Final-epoch accuracies (%)."),
        Figure(
            folder / "curves.png",
            "Training curves without and with augmentation",
            "Loss (nats) and accuracy (%) per epoch.",
        ),
    ]


def best(r: Results) -> list[Block]:
    d = r.load("best", "best.json")
    reached = d.get("time_to_accuracy", {}).get("reached", {})
    times = ", ".join(f"{float(k):.0%} after {v['train_seconds']:.0f} s" for k, v in reached.items())
    return [
        Text(
            f"Best checkpoint of `{d['config']}` ({d['epochs']} epochs): test accuracy {pct(d['test_acc'])} on "
            f"{d['test_images']:,} images, best validation accuracy {pct(d['best_val_acc'])}."
            + (f" Validation accuracy first reached {times} of training." if times else "")
            + " Course bar: >= 75% top-1."
        ),
        Figure(
            r.latest("best") / "best_performance.png",
            "Best performance of the hand-written CNN",
            "Loss (nats) and accuracy (%) per epoch, test accuracy with its standard error, test confusion matrix.",
        ),
    ]


SECTIONS: list[Section] = [
    Section(
        "§2.1",
        "CIFAR-10 classes",
        PART2,
        "Show example images of every class; describe the classes and images.",
        ("cifar10_classes",),
        "make cifar10-classes",
        "the CIFAR-10 data module defaults",
        classes,
    ),
    Section(
        "§2.2",
        "Architectures",
        PART2,
        "TwoLayerNet and LeNet-5 ConvNet for colour images: the kernel size of the "
        "first convolution, the trainable parameters of F6 with the calculation.",
        ("architectures",),
        "make architectures",
        "experiments/twolayer.yaml, experiments/lenet.yaml",
        architectures,
    ),
    Section(
        "§2.4a",
        "Hyperparameter optimization",
        PART2,
        "Tune both networks (learning rate, batch size, epochs, "
        "optimizer, weight decay, augmentation, batch norm) and describe the influence of each.",
        ("hparams",),
        "make hparams",
        "experiments/hparams_study.yaml",
        hparams,
    ),
    Section(
        "§2.4b",
        "Two more layers",
        PART2,
        "Add 2 layers to TwoLayerNet and ConvNet: higher performance? Why?",
        ("deeper",),
        "make deeper",
        "best configs of the study",
        deeper,
    ),
    Section(
        "§2.4c",
        "TwoLayerNet vs ConvNet",
        PART2,
        "Compare architecture, performance and learning rates.",
        ("compare_nets",),
        "make compare-nets",
        "results of make hparams and make deeper",
        compare,
    ),
    Section(
        "§3.1",
        "The STL-10 subset",
        PART2,
        "The 5-class subset (airplane, bird, ship, cat, dog).",
        ("stl10_samples",),
        "make stl10-samples",
        "experiments/stl10.yaml",
        stl10,
    ),
    Section(
        "§3.2",
        "Fine-tuning the ConvNet",
        PART2,
        "Output layer 10 -> 5, both loading orders, freezing, against training from scratch.",
        ("finetune",),
        "make finetune",
        "experiments/stl10.yaml, stl10_head.yaml, stl10_finetune.yaml",
        finetune,
    ),
    Section(
        "§3.3",
        "Bonus: features before and after fine-tuning",
        PART2,
        "Visualise what fine-tuning changes.",
        ("finetune_bonus",),
        "make finetune-bonus",
        "experiments/stl10_finetune.yaml",
        bonus,
    ),
    Section(
        "task 1",
        "Batch normalization in NumPy",
        A2,
        "Forward (training, running statistics), backward and inference, NumPy only, no loops, in the toy MLP.",
        ("bn",),
        "make bn",
        "lab/numpy_bn/mlp.py",
        batch_norm,
    ),
    Section(
        "task 2c",
        "Learning rate and curves",
        A2,
        "Loss and accuracy curves, training and validation, at learning rates 1e-3, 1e-4, 1e-5.",
        ("lr_curves",),
        "make lr-curves",
        "experiments/course_cnn.yaml",
        lr_curves,
    ),
    Section(
        "task 2d",
        "Data augmentation",
        A2,
        "At least two augmentations shown on Lenna.png; does the train-validation gap shrink?",
        ("augment",),
        "make augment",
        "experiments/course_cnn.yaml",
        augment,
    ),
    Section(
        "task 2e",
        "Best performance",
        A2,
        "Improve the hand-written CNN (with the custom cross-entropy loss) to the bar (>= 75% top-1).",
        ("best",),
        "make best",
        "experiments/best.yaml",
        best,
    ),
]


def build(section: Section, results: Results) -> list[Block]:
    """The section's blocks, or one Missing block naming the command when its results are absent."""
    absent = [q for q in section.questions if results.latest(q) is None]
    if absent:
        return [Missing(f"results/{q}/latest", section.command) for q in absent]
    try:
        return section.build(results)
    except (FileNotFoundError, KeyError, IndexError) as exc:
        return [Missing(f"a complete result for {section.number} ({type(exc).__name__}: {exc})", section.command)]
