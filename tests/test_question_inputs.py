"""What a question reads: declared in its registration, resolved by the runner, ordering `make all`; a
render error in the report fails instead of hiding as "Missing". Fake questions, no training."""

from dataclasses import dataclass

import pytest

from lab.blocks import Missing, Text
from lab.questions import REGISTRY, Question, questions, register, run_order
from lab.questions.runner import main
from lab.report.build import build_section
from tests.test_faults_io import _one_line


@dataclass
class Count:
    n: int


def _question(name: str, order: float, **kwargs) -> Question:
    defaults = {"run": lambda args, out: Count(1), "render": lambda r, folder: [Text(f"n = {r.n}")]}
    return Question(
        f"tests.{name}",
        name,
        "A2",
        "task 0",
        order=order,
        result_type=Count,
        asks="?",
        headline=lambda r: str(r.n),
        **{**defaults, **kwargs},
    )


@pytest.fixture
def registered():
    """Registers fake questions for one test, then removes them."""
    names = []

    def add(question: Question) -> Question:
        names.append(question.name)
        return register(question)

    yield add
    for name in names:
        REGISTRY.pop(name, None)


def test_make_all_runs_each_question_after_the_ones_it_reads_else_in_the_texts_order():
    a, b = _question("a", 1, reads=("c",)), _question("b", 2)
    c, d = _question("c", 3), _question("d", 4, may_read=("a",))
    assert [q.name for q in run_order([a, b, c, d])] == ["b", "c", "a", "d"]
    real = run_order(questions())
    position = {q.name: i for i, q in enumerate(real)}
    assert all(position[n] < position[q.name] for q in real for n in q.inputs)
    assert position["hparams"] < position["final"] < position["compare_nets"]


def test_a_read_of_an_unknown_question_or_a_cycle_is_an_error():
    with pytest.raises(ValueError, match="a reads nosuch"):
        run_order([_question("a", 1, reads=("nosuch",))])
    with pytest.raises(ValueError, match="a, b form a cycle"):
        run_order([_question("a", 1, reads=("b",)), _question("b", 2, may_read=("a",)), _question("c", 3)])
    with pytest.raises(TypeError, match="without run"):
        Question("tests.x", "x", "A2", "task 0", order=1, result_type=Count, asks="?", render=print, headline=str)


def test_the_runner_hands_a_question_the_results_it_reads_and_names_a_missing_one(registered, tmp_path, capsys):
    seen = {}

    def down_run(args, out, up, maybe):
        seen.update(up=up, maybe=maybe)
        return Count(up.n + 1)

    up = registered(_question("up", 1, run=lambda args, out: Count(41)))
    registered(_question("maybe", 2))
    down = registered(_question("down", 3, reads=("up",), may_read=("maybe",), run=down_run))
    args = ["--results", str(tmp_path), "--workers", "1"]
    with pytest.raises(SystemExit) as stopped:
        main(down, args)
    line = _one_line(capsys.readouterr().err)  # naming the command that makes the input
    assert (
        stopped.value.code == 2
        and line == f"error: no up results under {tmp_path}/: run `make up` first (down reads them)."
    )
    assert not (tmp_path / "down").exists()  # nothing made before the inputs were found
    main(up, args)
    out = main(down, args)
    assert seen == {"up": Count(41), "maybe": None} and (out / "result.json").read_text().split() == [
        "{",
        '"n":',
        "42",
        "}",
    ]


def test_the_report_lists_an_absent_result_as_missing_and_raises_a_render_error(tmp_path):
    def render(r, folder):
        return [Text({"renamed": 1}["label"])]  # a key another question renamed: a bug, not a missing result

    broken = _question("broken", 1, render=render)
    section = build_section(broken, tmp_path)
    assert section.folder is None and isinstance(section.blocks[0], Missing)
    folder = tmp_path / "broken" / "20240101-000000"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text('{"n": 1}\n')
    (tmp_path / "broken" / "latest").symlink_to(folder.name)
    with pytest.raises(KeyError, match="label"):
        build_section(broken, tmp_path)
