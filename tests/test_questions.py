"""Each question's code path in SMOKE mode, with its output files checked."""

import json
import re

import pytest

import lab.questions.common as common


@pytest.fixture
def results_root(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS_ROOT", tmp_path / "results")
    monkeypatch.setenv("SMOKE", "1")
    return tmp_path / "results"


def test_bn_question_prints_figure1_lines_and_writes_results(results_root, capsys):
    from lab.questions import bn

    bn.main(["--iterations", "7"])
    out = capsys.readouterr().out
    assert len(re.findall(r"^iteration: \d+, loss: \d+\.\d{6}$", out, re.M)) == 7
    assert re.search(r"^validation loss: \d+\.\d{6}$", out, re.M)
    run_dir = (results_root / "bn" / "latest").resolve()
    data = json.loads((run_dir / "bn.json").read_text())
    assert len(data["train_loss"]) == 7 and data["train_loss"][-1] < data["train_loss"][0]
    assert f"validation loss: {data['validation_loss']:.6f}" in out
    assert (run_dir / "loss_curve.png").stat().st_size > 10_000


def test_runs_never_overwrite_and_latest_moves(results_root):
    first, second = common.new_run_dir("q"), common.new_run_dir("q")
    assert first != second and first.is_dir() and second.is_dir()
    assert (results_root / "q" / "latest").resolve() == second.resolve()
