"""Fault suite, files and processes: bad image modes, SIGTERM with workers, a killed question, unknown
names, results written where they belong. Each fault ends in one line, a non-zero exit where it stops the
command, no orphan process, and the results already there intact."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lab.utils.paths import REPO_ROOT

SHIPPED = REPO_ROOT / "checkpoints" / "convnet_cifar10.pt"
WHITE = (255, 255, 255)


def _tiny(mode: str, value, size=(4, 4)) -> Image.Image:
    if mode in ("I", "F"):
        return Image.fromarray(np.full(size[::-1], value, dtype=np.int32 if mode == "I" else np.float32))
    if mode == "I;16":
        return Image.fromarray(np.full(size[::-1], value, dtype=np.uint16))
    if mode == "P":
        return Image.new("RGB", size, value).convert("P", palette=Image.Palette.ADAPTIVE)
    return Image.new(mode, size, value)


# (mode, file, pixel value in that mode, the 8-bit RGB expected; alpha is composited over white)
MODES = [
    ("1", "one.png", 1, WHITE),
    ("L", "gray.png", 100, (100, 100, 100)),
    ("LA", "gray_alpha.png", (100, 0), WHITE),
    ("LA", "gray_opaque.png", (100, 255), (100, 100, 100)),
    ("P", "palette.png", (10, 20, 30), (10, 20, 30)),
    ("RGB", "rgb.png", (10, 20, 30), (10, 20, 30)),
    ("RGBA", "clear.png", (10, 20, 30, 0), WHITE),
    ("RGBA", "half.png", (0, 0, 0, 128), (127, 127, 127)),
    ("CMYK", "cmyk.jpg", (0, 255, 255, 0), (255, 0, 0)),
    ("I;16", "gray16.png", 32768, (128, 128, 128)),  # 65535 * 0.5 -> 128, not white
    ("I", "gray32.tif", 16384, (64, 64, 64)),  # 32-bit integers hold 16-bit values
    ("F", "float.tif", 0.25, (64, 64, 64)),  # floats run from 0 to 1
]


@pytest.mark.parametrize("size", [(4, 4), (2, 2)], ids=["as-is", "resized"])
@pytest.mark.parametrize("mode, name, value, expected", MODES, ids=[m[1] for m in MODES])
def test_every_image_mode_gives_its_8bit_rgb_pixels(tmp_path, mode, name, value, expected, size):
    from lab.data.images import read_image

    _tiny(mode, value).save(tmp_path / name)
    pixels = read_image(tmp_path / name, size)
    assert pixels.dtype.is_floating_point is False and pixels.dtype.itemsize == 1
    assert tuple(pixels.shape) == (3, *size)
    tolerance = 3 if name.endswith(".jpg") else 1
    assert (pixels.permute(1, 2, 0).int() - np.array(expected)).abs().max() <= tolerance


def test_a_mixed_folder_predicts_the_good_images_and_names_the_bad_one_in_one_line(tmp_path, capsys):
    from lab.inference.predict import main

    folder = tmp_path / "photos"
    folder.mkdir()
    _tiny("RGB", (200, 30, 30), (40, 40)).save(folder / "red.png")
    _tiny("I;16", 50000, (40, 40)).save(folder / "deep.png")
    _tiny("F", 300.0).save(folder / "hdr.tif")  # float pixels beyond 0..1: no brightness scale to trust
    main([str(SHIPPED), str(folder), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "red.png: " in out and "deep.png: " in out
    skipped = [line for line in out.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "hdr.tif" in skipped[0] and "0..1" in skipped[0]


def test_predict_writes_under_runs_predict_not_into_the_working_tree(tmp_path, monkeypatch, capsys):
    from lab.inference.predict import main

    monkeypatch.chdir(tmp_path)
    _tiny("RGB", (10, 20, 30), (32, 32)).save(tmp_path / "plane.png")
    main([str(SHIPPED), "plane.png"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plane.png", "runs"]
    (folder,) = (tmp_path / "runs" / "predict").iterdir()
    assert (folder / "predictions.csv").is_file()
    assert f"-> {folder.relative_to(tmp_path)}" in capsys.readouterr().out


def _one_line(stream: str) -> str:
    """The one line a fault printed (besides the hint that --debug shows the traceback)."""
    lines = [line for line in stream.splitlines() if line.strip() and "--debug for the traceback" not in line]
    assert len(lines) == 1, stream
    return lines[0]


def test_an_unknown_question_is_one_line_listing_the_valid_ones(capsys):
    from lab.questions.__main__ import main

    with pytest.raises(SystemExit) as stopped:  # in this process: the command's own code path, no start-up
        main(["nosuch"])
    line = _one_line(capsys.readouterr().err)
    assert stopped.value.code == 2 and "nosuch" in line
    assert all(name in line for name in ("lr-curves", "finetune-bonus", "list", "all"))


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_an_unknown_make_target_is_one_line_listing_the_valid_ones_and_the_others_still_work():
    env = {**os.environ, "PYTHON": sys.executable}  # the question targets come from the registry: an interpreter
    completed = subprocess.run(["make", "nosuch"], cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    line = _one_line(completed.stderr)
    assert completed.returncode == 2 and "nosuch" in line
    assert all(name in line for name in ("help", "test", "predict", "lr-curves", "transfer"))
    for target in ("help", "test", "lr-curves", "checkpoints/convnet_cifar10.pt"):  # -n: print, run nothing
        ran = subprocess.run(["make", "-n", target], cwd=REPO_ROOT, capture_output=True, env=env)
        assert ran.returncode == 0, target


def _fake_answers(results: Path, smoke: str | None = None) -> None:
    """A finished answer (run.json, latest) of every question, ``smoke``'s made with SMOKE=1."""
    from lab.questions import questions
    from lab.questions.results import point_latest

    for q in questions():
        folder = results / q.name / "20240101-000000"
        folder.mkdir(parents=True)
        configs = ["experiments/smoke.yaml"] if q.name == smoke else []
        (folder / "run.json").write_text(json.dumps({"quick": False, "configs": configs, "git_commit": "abc"}))
        point_latest(folder)


def test_readme_refuses_smoke_results_like_publish_and_leaves_readme_unchanged(tmp_path, capsys):
    from lab.report.readme import main

    _fake_answers(tmp_path / "results", smoke="lr_curves")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- questions -->\nthe published table\n<!-- /questions -->\n")
    with pytest.raises(SystemExit) as stopped:
        main(["--results", str(tmp_path / "results"), "--readme", str(readme)])
    line = _one_line(capsys.readouterr().err)
    assert stopped.value.code == 2 and "lr_curves" in line and "SMOKE=1" in line
    assert readme.read_text() == "intro\n<!-- questions -->\nthe published table\n<!-- /questions -->\n"


def _previous_answer(results: Path, question: str) -> Path:
    from lab.questions.results import point_latest, save

    folder = results / question / "20240101-000000"
    folder.mkdir(parents=True)
    save({"answer": "the previous one"}, folder)
    point_latest(folder)
    return folder


def _children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` (from /proc): pid -> command line."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_sigterm_with_workers_stops_every_worker_says_where_and_keeps_the_previous_answer(question_args, tmp_path):
    results = tmp_path / "results"
    previous = _previous_answer(results, "lr_curves")
    argv = [*question_args[:-1], "2"]  # --workers 2
    err_file = tmp_path / "stderr.txt"
    with open(err_file, "w") as err:  # a file, not a pipe: an orphan would hold a pipe open
        parent = subprocess.Popen(
            [sys.executable, "-m", "lab.questions", "lr_curves", *argv],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.1)
            workers = {p: c for p, c in _children(parent.pid).items() if "spawn_main" in c}
        assert len(workers) == 2, "the question never started two workers"
        time.sleep(1.0)  # into their training runs
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = [p for p in workers if _alive(p)]
    finally:
        parent.kill()
        for pid in workers:  # this test's own workers, whatever the outcome
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    err = err_file.read_text()
    assert not orphans, "orphaned workers"
    assert parent.returncode == 143 and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "SIGTERM" in line]
    assert re.search(r"\b\d of 3 training runs\b", line) and "again" in line
    assert sorted(p.name for p in (results / "lr_curves").iterdir()) == [previous.name, "latest"]  # no half answer
    assert (results / "lr_curves" / "latest").resolve() == previous.resolve()


def test_a_question_in_progress_is_marked_and_a_failed_one_leaves_no_folder(question_args, monkeypatch, tmp_path):
    import lab.questions.runner as runner
    from lab.questions import questions

    bn = next(q for q in questions() if q.name == "bn")
    results = tmp_path / "results"
    previous = _previous_answer(results, "bn")
    marked, real_save = [], runner.save
    monkeypatch.setattr(
        runner, "save", lambda result, out: marked.append((out / "INCOMPLETE").is_file()) or real_save(result, out)
    )
    done = runner.main(bn, ["--iterations", "3", *question_args])
    assert marked == [True] and not (done / "INCOMPLETE").exists()  # marked while it ran (a kill leaves it so)
    assert (results / "bn" / "latest").resolve() == done.resolve() and (done / "result.json").is_file()

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "record", interrupted)  # after the figures and result.json are written
    with pytest.raises(SystemExit) as stopped:  # Ctrl-C: one line, the shell's status for SIGINT
        runner.main(bn, ["--iterations", "3", *question_args])
    assert stopped.value.code == 130
    assert sorted(p.name for p in (results / "bn").iterdir()) == sorted([previous.name, done.name, "latest"])
    assert (results / "bn" / "latest").resolve() == done.resolve()


def test_run_paths_in_result_json_resolve_from_any_working_directory(tmp_path, monkeypatch):
    from lab.questions.results import load, save
    from lab.questions.training import RunSummary

    run = tmp_path / "work" / "runs" / "lenet" / "version_0"
    run.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    save(RunSummary(seed=0, val_acc=0.5, test_acc=0.5, epochs=1, seconds=1.0, run_dir="runs/lenet/version_0"), tmp_path)
    monkeypatch.chdir(tmp_path)  # the loader's working directory is another one
    stored = json.loads((tmp_path / "result.json").read_text())["run_dir"]
    assert stored == str(run) and Path(load(RunSummary, tmp_path).run_dir).is_dir()
