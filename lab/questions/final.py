"""CV1 part 2, §2.4 (a): the final configuration of each network, "the accuracy as high as you can".

    make final          # or: python -m lab.questions final [--seeds 3]

The study (`make hparams`) changes one factor at a time and never combines its winners. Here every
factor whose best value beat the base config by more than the study's noise band joins one combined
configuration per network (the largest gain first; a later winner that sets the same option as an
earlier one is left out), which trains with --seeds seeds and is compared with the base config over
the same seeds.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.config import merge
from lab.errors import LabError
from lab.questions import CV1, Question, register
from lab.questions.hparams import HparamsResult, StudyRow, threshold
from lab.questions.results import latest, load
from lab.questions.stats import Difference, Spread
from lab.questions.training import RunSummary, Variant, over_seeds
from lab.report.blocks import Figure, Table, Text, markdown_table, placed
from lab.viz.curves import plot_curves


@dataclass
class Combined:
    network: str
    config: str  # experiments/<config>.yaml
    chosen: list[str]  # "factor = value (+x.x points)" of each winner that joined
    left_out: list[str]  # winners that set an option an earlier winner had set
    change: dict[str, Any]
    runs: list[RunSummary]
    base_runs: list[RunSummary]  # the base config over the same seeds (from the study)

    @property
    def gain(self) -> Difference:
        return Difference.between(Spread.of([r.test_acc for r in self.base_runs]), Variant("", self.runs).test)


@dataclass
class FinalResult:
    networks: list[Combined]
    figures: list[Figure] = field(default_factory=list)


QUESTION = register(Question(
    __name__, "Final configurations", CV1, "§2.4a", order=35, result_type=FinalResult,
    asks="Reach the accuracy as high as you can with each network; show the final results and what was done.",
    configs="the study's winning changes, combined, on twolayer.yaml and lenet.yaml", reads=("hparams",)))  # fmt: skip


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
        if overlaps(leaves(row.change), taken):
            left_out.append(label)
            continue
        change, taken = merge(change, row.change), taken | leaves(row.change)
        chosen.append(label)
    return change, chosen, left_out


def run(args: Namespace, out: Path) -> FinalResult:
    folder = latest("hparams", args.results)
    if folder is None:
        raise LabError(
            f"no hparams results under {args.results}/: run `make hparams` first (final combines its winners)."
        )
    study = load(HparamsResult, folder)
    epochs = {"trainer": {"max_epochs": study.epochs}}
    plans = {n: combine(study, n) for n in study.best}
    specs = {n: ([study.base_configs[n], epochs], plans[n][0], f"final/{n}") for n in study.best}
    runs = over_seeds(args, specs)
    networks = [Combined(n, study.base_configs[n], plans[n][1], plans[n][2], plans[n][0], runs[n],
                         study.noise_runs.get(n, [])) for n in study.best]  # fmt: skip
    curves = plot_curves({f"{c.network} final": c.runs[0].history for c in networks}, out / "curves.png",
                         "Final configurations: training curves (seed 0)")  # fmt: skip
    return FinalResult(networks, [curves])


def render(r: FinalResult, folder: Path) -> list:
    rows = []
    for c in r.networks:
        final, base = Variant("", c.runs), Spread.of([x.test_acc for x in c.base_runs])
        chosen = ", ".join(c.chosen) or "none beat the noise band: the base config"
        rows.append([c.network, chosen, final.val.pct(), final.test.pct(), base.pct(), c.gain.points(), len(c.runs)])
    header = ["network", "combined changes (val gain in the study)", "val acc (%)", "test acc (%)",
              "base test acc (%)", "gain over base", "seeds"]  # fmt: skip
    text = []
    for c in r.networks:
        left = f"; left out (they set an option a larger winner had set): {', '.join(c.left_out)}" if c.left_out else ""
        text.append(f"- {c.network}, final against base config, test accuracy: {c.gain.verdict()}{left}.")
    return [
        Text("Every factor of the study whose best value beat the base config by more than the noise band joins one "
             "combined configuration per network, the largest gain first. Mean ± std over seeds; the base config "
             "runs over the same seeds in the study."),
        Text("\n".join(text)),
        Table("Final configurations against the base configs", markdown_table(header, rows, "llrrrrr"),
              "Validation and test accuracy of the best checkpoint of each run (test: 1,000 images)."),
        *placed(r.figures, folder),
    ]  # fmt: skip


def headline(r: FinalResult) -> str:
    return "; ".join(
        f"{c.network} {Variant('', c.runs).test.pct(1)}% test ({c.gain.points()} vs base)" for c in r.networks
    )
