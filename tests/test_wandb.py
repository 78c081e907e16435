"""W&B in offline mode: what a run writes locally is what `make wandb-sync` would upload."""

import json
import struct
import time
from pathlib import Path

import pytest

BLOCK = 32768  # the offline run file is a LevelDB-style log of protobuf records in 32 KiB blocks


def read_records(path: Path) -> list:
    """The protobuf Records of an offline run-*.wandb file (full, first/middle/last fragments)."""
    from wandb.proto import wandb_internal_pb2

    data, pos, records, pending = path.read_bytes(), 7, [], b""
    if len(data) < 7:  # not written yet
        return []
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    while pos + 7 <= len(data):
        if BLOCK - pos % BLOCK < 7:
            pos += BLOCK - pos % BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 0:
            break
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def _offline_run(folder: Path) -> Path:
    runs = list(folder.rglob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1, runs
    return runs[0]


def finished_records(folder: Path, timeout: float = 60.0) -> list:
    """The records of the folder's offline run once its writer (the wandb-core process, which
    flushes after ``finish()`` returns) has written the final ``exit`` record."""
    deadline = time.monotonic() + timeout
    while True:
        records = read_records(_offline_run(folder))
        if any(r.HasField("exit") for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")


def test_fit_logs_metrics_and_the_config_once(offline, tiny_config, tmp_path, monkeypatch):
    from lab.engine.cli import main

    monkeypatch.setenv("WANDB_PROJECT", "from-env")  # respected: no --run.project given

    main(
        [
            "fit",
            "--config",
            "experiments/lenet.yaml",
            "--config",
            str(tiny_config),
            "--run.wandb",
            "auto",
            "--trainer.max_epochs",
            "2",
            "--trainer.limit_train_batches",
            "2",
            "--run.group",
            "questionX",
            "--seed_everything",
            "7",
            "--run.test_after_fit",
            "true",
        ]
    )
    run_dir = tmp_path / "runs" / "lenet" / "version_0"
    records = finished_records(run_dir)
    kinds = [r.WhichOneof("record_type") for r in records]
    run = records[kinds.index("run")].run
    assert run.project == "from-env" and run.run_group == "questionX"
    assert set(run.tags) == {"network:ConvNet", "dataset:cifar10", "seed:7"}
    configs = [r.config for r in records if r.WhichOneof("record_type") == "config"]
    assert len(configs) == 1  # the resolved config, logged once; no separate module/data hparams
    config = {_key(u): json.loads(u.value_json) for u in configs[0].update}
    assert config["model"]["optimizer"]["init_args"]["lr"] == 0.05
    assert config["data"]["class_path"] == "lab.data.CIFAR10DataModule"
    assert config["seed_everything"] == 7
    history = [{_key(i): json.loads(i.value_json) for i in r.history.item} for r in records if r.HasField("history")]
    val_acc = [h["val/acc"] for h in history if "val/acc" in h]
    assert len(val_acc) == 2 and all(0 <= a <= 1 for a in val_acc)  # one per epoch
    csv_val = [line.split(",") for line in (run_dir / "metrics.csv").read_text().splitlines()]
    column = csv_val[0].index("val/acc")
    assert [float(row[column]) for row in csv_val[1:] if row[column]] == pytest.approx(val_acc)
    assert json.loads((run_dir / "run.json").read_text())["seed"] == 7
    logged = {k for h in history for k in h}
    assert "test/acc/airplane" in logged and "test/confusion_matrix/_type" in logged  # per class + the matrix
    assert (
        history[[i for i, h in enumerate(history) if "test/confusion_matrix/_type" in h][0]][
            "test/confusion_matrix/_type"
        ]
        == "table-file"
    )


def test_published_figures_are_logged_as_images_in_the_training_runs_project(offline, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lab.questions.results import new_run_dir
    from lab.questions.runner import log_figures

    monkeypatch.setenv("WANDB_PROJECT", "my-project")
    out = new_run_dir("somequestion", tmp_path / "results")
    for name in ("a", "b"):
        plt.figure(figsize=(2, 2))
        plt.plot([0, 1])
        plt.savefig(out / f"{name}.png")
        plt.close()
    log_figures("somequestion", out)
    records = finished_records(out)
    run = next(r.run for r in records if r.HasField("run"))
    assert run.run_group == "somequestion" and run.job_type == "figures" and run.project == "my-project"
    logged = {_key(i): json.loads(i.value_json) for r in records if r.HasField("history") for i in r.history.item}
    for name in ("a", "b"):
        assert logged[f"figures/{name}/_type"] == "image-file"
        media = _offline_run(out).parent / "files" / logged[f"figures/{name}/path"]
        assert media.read_bytes() == (out / f"{name}.png").read_bytes()  # the figure itself, uploaded on sync


def test_project_and_entity_come_from_the_option_then_the_environment(monkeypatch):
    from lab.engine.loggers import wandb_entity, wandb_project

    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    monkeypatch.delenv("WANDB_ENTITY", raising=False)
    assert wandb_project(None) == "lab" and wandb_entity(None) is None
    monkeypatch.setenv("WANDB_PROJECT", "env-project")
    monkeypatch.setenv("WANDB_ENTITY", "env-team")
    assert wandb_project(None) == "env-project" and wandb_entity(None) == "env-team"
    assert wandb_project("mine") == "mine" and wandb_entity("me") == "me"
