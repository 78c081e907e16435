"""``make readme``: refresh README.md's result sections (between ``<!-- results:NAME -->`` and
``<!-- /results:NAME -->``) from the latest results, so that README tables are the runs' numbers.

    python -m lab.report.readme [--results DIR] [--readme README.md]

A section whose results are missing is left as it is.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from lab.paths import REPO_ROOT
from lab.report.results import Results, split_markdown


def _made_by(r: Results, target: str, question: str, files: str) -> str:
    run = r.latest(question)
    if run is None:
        raise FileNotFoundError(r.root / question / "latest")
    return f"`make {target}` -> `results/{question}/{run.name}/` ({files}):"


def classes(r: Results) -> str:
    tables, paragraphs = split_markdown(r.text("cifar10_classes", "classes.md"))
    return "\n\n".join(
        [_made_by(r, "cifar10-classes", "cifar10_classes", "classes.png, classes.md"), *tables, *paragraphs]
    )


def architectures(r: Results) -> str:
    d = r.load("architectures", "architectures.json")
    tables, _ = split_markdown(r.text("architectures", "architectures.md"))
    parts = [_made_by(r, "architectures", "architectures", "architectures.md")]
    for (name, net), table in zip(d["networks"].items(), tables):
        parts += [f"{name}, {net['trainable_parameters']:,} trainable parameters:", table]
    first, f6 = d["answers"]["first_conv"], d["answers"]["f6"]
    parts += [
        f"**Kernel size of the first convolution.** {first['answer']}",
        f"**Trainable parameters of F6.** {f6['calculation']}.",
    ]
    return "\n\n".join(parts)


def hparams(r: Results) -> str:
    d = r.load("hparams", "hparams.json")
    best = "; ".join(
        f"{net}: {b['factor']} = {b['value']} (val {100 * b['val_acc']:.2f}%, test {100 * b['test_acc']:.2f}%)"
        for net, b in d["best"].items()
    )
    return "\n\n".join(
        [
            _made_by(r, "hparams", "hparams", "table.md, lr_finder.png, acc_vs_lr.png, best_curves.png"),
            r.text("hparams", "table.md").strip(),
            f"Best by validation accuracy: {best}.",
        ]
    )


def deeper(r: Results) -> str:
    return "\n\n".join([_made_by(r, "deeper", "deeper", "table.md, curves.png"), r.text("deeper", "table.md").strip()])


def compare(r: Results) -> str:
    tables, paragraphs = split_markdown(r.text("compare_nets", "compare.md"))
    return "\n\n".join([_made_by(r, "compare-nets", "compare_nets", "compare.md, compare.png"), *tables, *paragraphs])


def finetune(r: Results) -> str:
    d = r.load("finetune", "finetune.json")
    head = _made_by(r, "finetune", "finetune", "table.md, val_curves.png").rstrip(":")
    return "\n\n".join(
        [f"{head}, starting from `{Path(d['checkpoint']).name}`:", r.text("finetune", "table.md").strip()]
    )


def bonus(r: Results) -> str:
    d = r.load("finetune_bonus", "finetune_bonus.json")
    sil = "; ".join(f"{k}: {v:.3f}" for k, v in d["silhouette"].items())
    head = _made_by(r, "finetune-bonus", "finetune_bonus", "tsne.png, confusion.png, misclassified.png").rstrip(":")
    return (
        f"{head}: silhouette score of the F6 features by class ({sil}); accuracy after fine-tuning "
        f"{100 * d['test_acc_after']:.1f}%, {d['misclassified']} of {sum(map(sum, d['confusion_matrix']))} "
        "test images misclassified."
    )


def lr_curves(r: Results) -> str:
    return "\n\n".join(
        [_made_by(r, "lr-curves", "lr_curves", "curves.png, table.md"), r.text("lr_curves", "table.md").strip()]
    )


def augment(r: Results) -> str:
    files = "lenna_augmentations.png, curves.png, gap.md"
    return "\n\n".join([_made_by(r, "augment", "augment", files), r.text("augment", "gap.md").strip()])


SECTIONS: dict[str, Callable[[Results], str]] = {
    "classes": classes,
    "architectures": architectures,
    "hparams": hparams,
    "deeper": deeper,
    "compare": compare,
    "finetune": finetune,
    "bonus": bonus,
    "lr_curves": lr_curves,
    "augment": augment,
}


def refresh(readme: str, results: Results) -> tuple[str, list[str]]:
    """README text with every section whose results exist rewritten; also the names left as they were."""
    skipped = []
    for name, render in SECTIONS.items():
        pattern = re.compile(rf"(<!-- results:{name} -->\n).*?(<!-- /results:{name} -->)", re.S)
        if not pattern.search(readme):
            raise ValueError(f"README has no <!-- results:{name} --> ... <!-- /results:{name} --> markers")
        try:
            body = render(results)
        except (FileNotFoundError, KeyError, IndexError):
            skipped.append(name)
            continue
        readme = pattern.sub(lambda m, body=body: m.group(1) + body.strip() + "\n" + m.group(2), readme)
    return readme, skipped


def main(argv: list[str] | None = None) -> None:
    from lab.questions.common import RESULTS_ROOT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS_ROOT)
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    args = parser.parse_args(argv)
    text, skipped = refresh(args.readme.read_text(), Results(args.results))
    args.readme.write_text(text)
    print(
        f"[readme] {args.readme}: {len(SECTIONS) - len(skipped)} result sections refreshed"
        + (f"; no results yet for {', '.join(skipped)} (left as they were)" if skipped else "")
    )


if __name__ == "__main__":
    main()
