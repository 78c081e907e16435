"""The run cache: a run is identified by what determines its result (config without names and folders,
seed, training code, data), a finished run of the same identity is reused, an interrupted or deleted one
is not, and --retrain trains again."""

import dataclasses
import json
import shutil

import pytest

from lab.engine import run_cache
from lab.questions import questions
from lab.questions.context import RunContext
from lab.questions.runner import main
from lab.questions.training import Job, fit, fit_many
from tests.conftest import SMOKE


@pytest.fixture
def args(run_context):
    return run_context


@pytest.fixture(autouse=True)
def fresh_ledger():
    run_cache.LEDGER.reset()


def _key(tiny_config, *changes):
    return run_cache.identify(["lenet", *changes, tiny_config, SMOKE]).key


def test_identity_ignores_names_folders_and_loggers_but_not_a_hyperparameter_or_the_seed(tiny_config, tmp_path):
    base = _key(tiny_config)
    renamed = {"run": {"name": "elsewhere/x", "group": "g", "wandb": "offline", "tags": ["t"]}}
    assert _key(tiny_config, renamed, {"trainer": {"enable_progress_bar": True}}) == base
    assert _key(tiny_config, {"model": {"optimizer": {"init_args": {"lr": 0.051}}}}) != base
    assert _key(tiny_config, {"seed_everything": 1}) != base
    assert _key(tiny_config, {"data": {"init_args": {"split_seed": 1}}}) != base
    moved = run_cache.identify(["lenet", tiny_config, SMOKE, {"run": {"root": str(tmp_path / "other")}}])
    assert moved.key == base and moved.cache_dir == tmp_path / "other" / ".cache"


def test_identity_follows_the_training_code_and_the_data(tiny_config, tiny_data, tmp_path, monkeypatch):
    base = _key(tiny_config)
    package = tmp_path / "lab"
    shutil.copytree(run_cache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(run_cache, "PACKAGE", package)
    run_cache.code_fingerprint.cache_clear()
    losses = (package / "models" / "losses.py").read_text()
    try:
        assert _key(tiny_config) == base  # the same code, elsewhere
        (package / "models" / "losses.py").write_text(losses + "\n# a changed line\n")
        run_cache.code_fingerprint.cache_clear()
        assert _key(tiny_config) != base
        (package / "models" / "losses.py").write_text(losses)
        (package / "questions" / "augment.py").write_text("# not training code\n")
        run_cache.code_fingerprint.cache_clear()
        assert _key(tiny_config) == base
    finally:
        run_cache.code_fingerprint.cache_clear()
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    moved = ["lenet", tiny_config, SMOKE, {"data": {"init_args": {"data_dir": str(data)}}}]
    assert run_cache.identify(moved).key == base  # the same files, elsewhere
    batch = next((data / "cifar10").rglob("data_batch_1"))
    batch.write_bytes(batch.read_bytes()[:-1] + bytes([batch.read_bytes()[-1] ^ 1]))
    assert run_cache.identify(moved).key != base


def test_identity_follows_the_content_of_a_file_the_config_names(tiny_config, tmp_path):
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"first")
    load = {
        "trainer": {
            "callbacks": [{"class_path": "lab.callbacks.LoadPretrained", "init_args": {"checkpoint": str(weights)}}]
        }
    }
    before = _key(tiny_config, load)
    weights.write_bytes(b"other")
    assert _key(tiny_config, load) != before


def test_a_finished_run_is_reused_and_retrain_trains_again(args, tmp_path):
    first = fit(args, ["lenet"], name="cache/a")
    again = fit(args, ["lenet"], name="cache/b")  # another name, the same run
    assert len(run_cache.LEDGER.trained) == 1 and run_cache.LEDGER.reused == [str(first.run_dir.resolve())]
    assert again.history == first.history and again.test == first.test and again.fit_seconds == first.fit_seconds
    assert not (tmp_path / "runs" / "cache" / "b").exists()
    retrained = fit(dataclasses.replace(args, retrain=True), ["lenet"], name="cache/a")
    assert retrained.run_dir != first.run_dir and len(run_cache.LEDGER.trained) == 2


def test_jobs_of_one_identity_train_once_and_a_deleted_run_is_a_miss(args):
    jobs = [Job(("lenet",), {}, "cache/x"), Job(("lenet",), {}, "cache/y"), Job(("lenet",), {}, "cache/z", seed=1)]
    first = fit_many(args, jobs)
    assert len(run_cache.LEDGER.trained) == 2 and first[0] is first[1] and first[2].run_dir != first[0].run_dir
    shutil.rmtree(first[0].run_dir)  # a deleted run folder: trained again, no error
    run_cache.LEDGER.reset()
    second = fit_many(args, jobs)
    assert len(run_cache.LEDGER.trained) == 1 and len(run_cache.LEDGER.reused) == 1
    assert second[2] == first[2]


def test_an_interrupted_run_is_never_reused(args, tiny_config):
    crash = {
        "trainer": {"callbacks": [{"class_path": "tests.callbacks_for_tests.CrashAtEpoch", "init_args": {"epoch": 0}}]}
    }
    identity = run_cache.identify(["lenet", crash, tiny_config, SMOKE])
    with pytest.raises(RuntimeError, match="injected crash"):
        fit(args, ["lenet", crash])
    assert run_cache.lookup(identity) is None and not identity.entry.exists()
    identity.cache_dir.mkdir(parents=True, exist_ok=True)
    identity.entry.write_text('{"key": "' + identity.key + '", "run_dir": ')  # a torn entry
    assert run_cache.lookup(identity) is None


def test_a_question_rerun_from_cached_runs_gives_the_same_result_json(question_args, capsys):
    question = next(q for q in questions() if q.name == "lr_curves")
    first = main(question, ["--lrs", "1e-3", "1e-5", *question_args])
    second = main(question, ["--lrs", "1e-3", "1e-5", *question_args])
    assert (first / "result.json").read_bytes() == (second / "result.json").read_bytes()
    record = json.loads((second / "run.json").read_text())
    assert (record["runs_trained"], record["runs_reused"]) == (0, 2)
    assert json.loads((first / "run.json").read_text())["runs_trained"] == 2
    assert "2 reused from earlier identical runs" in capsys.readouterr().out


def _answer(results, name: str, trained: int, reused: int) -> None:
    folder = results / name / "20260101-000000"
    folder.mkdir(parents=True)
    info = {
        "quick": True,
        "configs": ["experiments/quick.yaml"],
        "seconds": 10.0,
        "workers": 2,
        "runs_trained": trained,
        "runs_reused": reused,
    }
    (folder / "run.json").write_text(json.dumps(info))
    (results / name / "latest").symlink_to(folder.name)


@pytest.mark.parametrize("trained, section", [(1, "make_all_quick"), (0, "make_all_quick_rebuilt")])
def test_make_all_records_runs_trained_and_reused_and_a_rebuild_apart(tmp_path, monkeypatch, trained, section):
    import lab.utils.bench_results
    from lab.questions.__main__ import record_wall_times

    monkeypatch.setattr(lab.utils.bench_results, "RESULTS", tmp_path / "results.md")
    for q in questions():
        _answer(tmp_path / "results", q.name, trained, 2)
    record_wall_times(RunContext(results=tmp_path / "results", quick=True, seeds=1))
    text = (tmp_path / "results.md").read_text()
    count = len(questions())
    assert f"<!-- bench:{section} -->" in text and text.count("<!-- bench:") == 1
    assert f"| **{trained * count}** | **{2 * count}** |" in text
    assert ("rebuilt from cached runs" in text) == (trained == 0)


def test_the_make_all_table_keeps_the_answer_that_trained_the_runs_not_a_later_rebuild(tmp_path, monkeypatch):
    import lab.utils.bench_results
    from lab.questions.__main__ import record_wall_times

    monkeypatch.setattr(lab.utils.bench_results, "RESULTS", tmp_path / "results.md")
    for q in questions():
        _answer(tmp_path / "results", q.name, 1, 0)
    first = next(iter(questions()))
    earlier = tmp_path / "results" / first.name / "20250101-000000"  # before the latest (2026)
    earlier.mkdir()
    info = {"quick": True, "configs": [], "seconds": 500.0, "workers": 2, "runs_trained": 7, "runs_reused": 0}
    (earlier / "run.json").write_text(json.dumps(info))
    record_wall_times(RunContext(results=tmp_path / "results", quick=True, seeds=1))
    text = (tmp_path / "results.md").read_text()
    assert f"| `make {first.target}` | 500 | 8.3 | 2 | 7 | 0 |" in text
    assert "| `make " + next(q for q in questions() if q is not first).target + "` | 10 |" in text
