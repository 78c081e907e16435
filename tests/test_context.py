"""One option grammar: the command line and keyword arguments build the same typed, frozen run context."""

import dataclasses

import pytest

from lab.engine.config import EXPERIMENTS
from lab.questions import REGISTRY, ask, discover
from lab.questions.context import RunContext
from lab.questions.results import latest, load
from lab.questions.runner import parse, split_options


def _question(name):
    discover()
    return REGISTRY[name]


def test_flags_and_keyword_arguments_build_the_same_context_and_options(tmp_path):
    argv = ["--config", "a.yaml", "--config", "b.yaml", "--quick", "--results", str(tmp_path), "--lrs", "1e-3", "1e-5"]
    from_flags = parse(_question("lr_curves"), argv)
    keywords = dict(configs=["a.yaml", "b.yaml"], quick=True, results=tmp_path, lrs=[1e-3, 1e-5])
    from_keywords = split_options(_question("lr_curves"), keywords)
    assert from_flags == from_keywords
    ctx, opts = from_flags  # QUICK resolved once: one seed, quick.yaml first
    assert ctx.seeds == 1 and [p.name for p in ctx.configs] == [
        "quick.yaml",
        "a.yaml",
        "b.yaml",
    ]
    assert ctx.configs[0] == EXPERIMENTS / "quick.yaml" and opts.lrs == (1e-3, 1e-5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.seeds = 3  # type: ignore[misc]


def test_a_hyphenated_option_and_the_defaults_come_from_the_dataclass():
    ctx, opts = parse(_question("cifar10_classes"), ["--per-class", "2", "--accelerator", "cpu"])
    assert opts.per_class == 2 and ctx.seeds == RunContext().seeds and ctx.epochs is None


def test_bad_values_are_one_error_line_and_exit_2(capsys):
    for argv in (["--seeds", "0"], ["--accelerator", "tpu"]):
        with pytest.raises(SystemExit) as stop:
            parse(_question("bn"), argv)
        assert stop.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: ")
    with pytest.raises(TypeError, match="no option lrs"):
        split_options(_question("bn"), {"lrs": [0.1]})


def test_a_question_runs_from_python_with_keyword_arguments(tiny_config, tmp_path):
    from tests.conftest import SMOKE

    results = tmp_path / "results"
    result = ask("bn", iterations=3, configs=[tiny_config, SMOKE], results=results, accelerator="cpu", workers=1)
    assert result.iterations == 3 and len(result.train_loss) == 3
    assert load(type(result), latest("bn", results)) == result  # through the runner: saved, latest moved
