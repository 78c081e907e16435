"""The ablation ladder (A2 task 2e): its rungs compose to the best recipe, its story follows the numbers."""

import copy
import inspect
import json

import pytest

from lab.engine.config import EXPERIMENTS, compose
from lab.models import CourseCNN
from lab.questions import ablation
from lab.questions.training import RunSummary
from lab.utils.errors import LabError

LADDER = EXPERIMENTS / "ablation.yaml"


def _without(config: dict) -> dict:
    """A run config less what the ladder sets on purpose otherwise: budget, TTA (measured after training),
    timing callbacks, GPU-only and logging switches, the baseline's unused stem width and train-eval subset."""
    c = copy.deepcopy(config)
    c["trainer"].pop("max_epochs"), c["trainer"].pop("log_every_n_steps")
    c["trainer"]["callbacks"] = [
        x for x in c["trainer"].get("callbacks", []) if "TimeToAccuracy" not in x["class_path"]
    ]
    c["model"].pop("tta", None), c["model"]["net"]["init_args"].pop("stem_width", None)
    c["data"]["init_args"].pop("data_on_device", None), c["data"]["init_args"].pop("train_eval_size", None)
    defaults = {k: v.default for k, v in inspect.signature(CourseCNN).parameters.items()}
    c["model"]["net"]["init_args"] = {k: v for k, v in c["model"]["net"]["init_args"].items() if defaults.get(k) != v}
    return c


def test_first_rung_is_the_course_cnn_and_last_rung_is_the_fast90_recipe():
    ladder = ablation.read_ladder(LADDER)
    assert _without(ablation.rung_config(ladder, 0)) == _without(compose(["course_cnn"]))
    assert _without(ablation.rung_config(ladder, len(ladder["rungs"]) - 1)) == _without(compose(["best", "fast90"]))
    assert all(ablation.rung_config(ladder, k)["model"]["tta"] == "none" for k in range(len(ladder["rungs"])))


def test_each_rung_changes_the_config(tmp_path):
    ladder = ablation.read_ladder(LADDER)
    configs = [ablation.rung_config(ladder, k) for k in range(len(ladder["rungs"]))]
    assert all(a != b for a, b in zip(configs, configs[1:]))
    bad = tmp_path / "bad.yaml"
    bad.write_text("rungs: [{name: x}]\n")
    with pytest.raises(LabError, match="rungs"):
        ablation.read_ladder(bad)


def _rung(name, plain, tta, seconds=10.0, gap=None):
    history = [{"val/acc": 0.5} | ({"train_eval/acc": 0.5 + gap} if gap is not None else {})]
    run = RunSummary(seed=0, val_acc=plain, test_acc=plain, epochs=1, seconds=seconds, run_dir="", history=history)
    return ablation.RungResult(name, f"change {name}", f"why {name}", [run], [tta])


def _result(values):
    rungs = [_rung(n, p, t, s, g) for n, p, t, s, g in values]
    return ablation.AblationResult("ablation.yaml", 3, 1, 1000, 2, rungs)


def test_story_and_table_follow_the_numbers_and_flip_when_reversed():
    up = _result([("base", 0.50, 0.52, 10, 0.2), ("aug", 0.60, 0.63, 12, 0.05), ("ls", 0.605, 0.64, 30, 0.0)])
    text = ablation.story(up)
    assert "At 3 epochs per rung" in text and "from 50.0% (base) to 60.5% (ls)" in text and "64.0% with it" in text
    assert "helped beyond the noise: aug +10.0 points (the problem: why aug)" in text and "cost accuracy" not in text
    assert "Within the noise" in text and "ls (+0.5)" in text
    assert "20.0 points above" in text and "after aug the difference is +5.0 points" in text
    assert "TTA adds 3.5 points" in text and "3.0x the baseline's time" in text
    rows = ablation.table(up).markdown
    assert "+10.0 |" in rows and "+0.5 (noise)" in rows
    down = _result([("base", 0.605, 0.60, 30, -0.1), ("aug", 0.60, 0.58, 12, 0.0), ("ls", 0.50, 0.45, 10, 0.0)])
    text = ablation.story(down)
    assert "aug (-0.5)" in text and "cost accuracy beyond the noise at this budget: ls -10.0 points" in text
    assert "helped" not in text and "10.0 points below" in text
    assert "TTA costs 5.0 points" in text and "0.3x the baseline's time" in text


def test_one_seed_never_shows_a_spread():
    rows = ablation.table(_result([("base", 0.5, 0.5, 1, None), ("x", 0.6, 0.6, 1, None)])).markdown
    assert "±" not in rows and "one seed" in ablation.table(_result([("base", 0.5, 0.5, 1, None)])).caption


@pytest.mark.slow
def test_ablation_trains_every_rung_and_tests_each_with_and_without_tta(question_args, tmp_path):
    from lab.questions.runner import main

    ladder = tmp_path / "ladder.yaml"
    full = ablation.read_ladder(LADDER)
    full["rungs"] = [full["rungs"][0], full["rungs"][1], full["rungs"][-1]]
    ladder.write_text(json.dumps(full))
    out = main(ablation.QUESTION, ["--ladder", str(ladder), "--quick", *question_args])
    result = json.loads((out / "result.json").read_text())
    assert [r["name"] for r in result["rungs"]] == ["course CNN", "augmentation", "wider"]
    assert all(len(r["runs"]) == 1 and len(r["tta_acc"]) == 1 for r in result["rungs"])
    assert all(0 <= r["tta_acc"][0] <= 1 for r in result["rungs"]) and result["epochs"] == 1
    assert (out / "ablation.png").is_file()


def test_a_diverged_rung_is_shown_and_the_story_steps_over_it(tmp_path):
    result = _result([("base", 0.50, 0.52, 10, None), ("sgd", 0.6, 0.6, 10, None), ("ls", 0.70, 0.71, 12, None)])
    result.rungs[1].runs, result.rungs[1].tta_acc = [], []
    assert "| 1 | change sgd | diverged |" in ablation.table(result).markdown
    assert "ls +20.0 points" in ablation.story(result)  # against the last rung that finished
    blocks = ablation.render(result, tmp_path)
    assert "Diverged (loss not finite): sgd." in blocks[2].body


def _leaves(config, path=()):
    if isinstance(config, dict):
        for key, value in config.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path[-1] if path else "", config


def test_each_rungs_description_names_the_values_its_config_sets():
    ladder = ablation.read_ladder(LADDER)
    named = {"lr", "momentum", "weight_decay", "batch_size", "label_smoothing", "translate", "bn_eps"}
    for rung in ladder["rungs"]:
        for key, value in _leaves(rung["config"]):
            if key in named:
                assert f"{value:g}" in rung["change"], (rung["name"], key, value)
            if key == "widths":
                assert "-".join(map(str, value)) in rung["change"], rung["name"]
    course = compose(["course_cnn"])["model"]["net"]["init_args"]
    assert "-".join(map(str, course["widths"])) in ladder["rungs"][0]["change"]


def test_the_ladder_trains_at_most_its_own_seeds_whatever_seeds_says():
    from lab.questions.ablation import ladder_context
    from lab.questions.context import RunContext

    ctx = RunContext(seeds=3)
    assert ladder_context(ctx, {"seeds": 1}).seeds == 1 and ctx.seeds == 3  # the caller's context untouched
    assert ladder_context(RunContext(seeds=1), {"seeds": 2}).seeds == 1
    assert ladder_context(ctx, {}).seeds == 3
