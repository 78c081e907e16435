"""One loader of trained networks (lab/inference/load.py, reading files through lab/models/pretrained.py, the one
module that knows the checkpoint format) and one input transform (lab/data/transform.py) that training
batches and every loaded network share."""

import pytest
import torch
from torchvision.io import write_png

from lab.data.images import ImageFilesDataModule
from lab.data.transform import InputTransform
from lab.inference.load import load_trained
from lab.models import ConvNet
from lab.models.pretrained import DataRecord, read_net_state, write_network

RECORD = DataRecord(tuple(f"class {i}" for i in range(10)), (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), (32, 32))


@pytest.fixture(scope="module")
def run_dir(tiny_data, tmp_path_factory):
    from lab.engine.train import run

    layers = {
        "trainer": {"accelerator": "cpu", "enable_progress_bar": False, "max_epochs": 1},
        "data": {"init_args": {"data_dir": str(tiny_data), "val_size": 20, "download": False}},
        "run": {"root": str(tmp_path_factory.mktemp("loader_runs")), "wandb": "disabled"},
    }
    return run(["lenet", layers], name="loader").run_dir


def test_training_batches_and_loaded_networks_share_one_input_transform(run_dir, tmp_path, monkeypatch):
    trained = load_trained(run_dir)
    datamodule = trained.datamodule()
    datamodule.setup()
    images = datamodule.test_set.images[:8]
    write_png(images[0], str(tmp_path / "first.png"))
    files = ImageFilesDataModule([str(tmp_path / "first.png")], trained.record)
    calls = []
    original = InputTransform.__call__
    monkeypatch.setattr(InputTransform, "__call__", lambda self, *a: calls.append(1) or original(self, *a))

    batch = datamodule.prepare_batch(images, training=False)
    assert torch.equal(trained.prepare(images), batch)
    assert torch.equal(files.on_after_batch_transfer((images, torch.arange(8)), 0)[0], batch)
    assert len(calls) == 3  # the data module's batch path, the loaded network and prediction on files
    assert trained.record == datamodule.record  # the checkpoint keeps what the data module computed


def test_a_run_and_its_shipped_export_load_as_the_same_network(run_dir, tmp_path):
    trained = load_trained(run_dir)
    assert trained.config["class_path"] == "lab.models.ConvNet" and trained.source.suffix == ".ckpt"
    state = read_net_state(trained.source)
    info = write_network(
        tmp_path / "net.pt", state, "ConvNet", trained.config["init_args"], trained.record, {"by": "x"}
    )
    assert info["by"] == "x" and info["classes"] == list(trained.record.classes)

    shipped = load_trained(tmp_path / "net.pt")
    assert shipped.record == trained.record and shipped.info["by"] == "x"
    assert shipped.config == {"class_path": "lab.models.ConvNet", "init_args": trained.config["init_args"]}
    x = trained.prepare(torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8))
    shipped.net.eval()
    trained.net.eval()
    assert torch.equal(shipped.net(x), trained.net(x))


def test_fine_tuning_and_transfer_read_a_shipped_network_through_the_loader(tmp_path):
    from lab.questions.finetune import starting_point
    from lab.questions.transfer import network_layer

    path = tmp_path / "small.pt"
    write_network(path, ConvNet(c1=8).state_dict(), "ConvNet", {"c1": 8, "num_classes": 10}, RECORD, {"test_acc": 0.5})
    layer = network_layer(path)  # a shipped network too, not only a run's checkpoint
    assert layer == {"model": {"net": {"class_path": "lab.models.ConvNet", "init_args": {"c1": 8}}}}
    same_net, info = starting_point(path)
    assert same_net == {"model": {"net": {"init_args": {"c1": 8}}}} and info["test_acc"] == 0.5


def test_the_data_record_reads_back_as_written_and_old_records_default_their_size():
    assert DataRecord.from_dict(RECORD.as_dict()) == RECORD
    old = {"classes": ["a", "b"], "mean": [0.5], "std": [0.25]}
    assert DataRecord.from_dict(old) == DataRecord(("a", "b"), (0.5,), (0.25,), (32, 32))
    x = InputTransform.of(DataRecord.from_dict(old))(torch.full((1, 1, 2, 2), 255, dtype=torch.uint8))
    assert torch.equal(x, torch.full((1, 1, 2, 2), 2.0))
