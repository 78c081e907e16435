from functools import partial

import lightning as L
import pytest
import torch

from lab.callbacks import FreezeUnfreeze, LoadPretrained
from lab.callbacks.finetune import body_blocks
from lab.data import STL10SubsetDataModule
from lab.models import ConvNet, TwoLayerNet
from lab.models.head import load_pretrained, load_then_replace
from lab.models.module import ClassifierModule
from lab.schedules import OneCycle
from lab.utils.errors import CheckpointMismatchError, LabError


@pytest.fixture
def cifar_checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "convnet.pt"
    torch.save(ConvNet().state_dict(), path)
    return path


def test_both_loading_orders_give_identical_body_weights(cifar_checkpoint):
    a, b = ConvNet(), ConvNet(num_classes=5)
    assert load_pretrained(a, cifar_checkpoint, 5, "load_then_replace") == ["classifier.bias", "classifier.weight"]
    assert load_pretrained(b, cifar_checkpoint, 5, "replace_then_load") == ["classifier.bias", "classifier.weight"]
    saved = torch.load(cifar_checkpoint)
    sa, sb = a.state_dict(), b.state_dict()
    body = [k for k in sa if not k.startswith("classifier.")]
    assert body and all(torch.equal(sa[k], sb[k]) and torch.equal(sa[k], saved[k]) for k in body)
    assert a.num_classes == b.num_classes == 5


def test_lightning_checkpoint_keys_are_understood(cifar_checkpoint, tmp_path):
    state = {f"net.{k}": v for k, v in torch.load(cifar_checkpoint).items()}
    path = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": state, "epoch": 3}, path)
    net = ConvNet()
    load_pretrained(net, path, 5, "replace_then_load")
    assert torch.equal(net.f6[1].weight, state["net.f6.1.weight"])


def test_checkpoint_of_another_architecture_lists_the_keys(tmp_path):
    path = tmp_path / "mlp.pt"
    torch.save(TwoLayerNet().state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match="missing from checkpoint|no match") as err:
        load_pretrained(ConvNet(), path, 5, "load_then_replace")
    assert "features.c1.0.weight" in str(err.value)
    with pytest.raises(CheckpointMismatchError, match="features.c1.0.weight"):
        load_pretrained(ConvNet(), path, 5, "replace_then_load")
    bn_path = tmp_path / "bn.pt"
    torch.save(ConvNet(batch_norm=True).state_dict(), bn_path)
    with pytest.raises(CheckpointMismatchError, match="unexpected in checkpoint"):
        load_then_replace(ConvNet(), torch.load(bn_path), 5)
    with pytest.raises(CheckpointMismatchError, match="not found"):
        load_pretrained(ConvNet(), tmp_path / "nope.pt", 5, "replace_then_load")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatchError, match="cannot be read"):
        load_pretrained(ConvNet(), corrupt, 5, "replace_then_load")


class _Snapshots(L.Callback):
    def __init__(self):
        self.body, self.head, self.groups = [], [], []

    def on_train_epoch_end(self, trainer, pl_module):
        blocks = body_blocks(pl_module.net)
        self.body.append([p.detach().clone() for b in blocks for p in b.parameters()])
        self.head.append(pl_module.net.classifier.weight.detach().clone())
        self.groups.append(len(trainer.optimizers[0].param_groups))


def _finetune(tiny_stl10, checkpoint, unfreeze_at):
    L.seed_everything(0)
    dm = STL10SubsetDataModule(data_dir=str(tiny_stl10), val_size=20, batch_size=16, download=False)
    model = ClassifierModule(ConvNet(num_classes=5), optimizer=partial(torch.optim.SGD, lr=0.05))
    loader, snaps = LoadPretrained(str(checkpoint)), _Snapshots()
    freezer = FreezeUnfreeze(unfreeze_at_epoch=unfreeze_at, lr_factor=0.1)
    trainer = L.Trainer(
        max_epochs=4,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[loader, freezer, snaps],
    )
    trainer.fit(model, datamodule=dm)
    saved = torch.load(checkpoint)
    start = [saved[name] for name, _ in model.net.named_parameters() if not name.startswith("classifier.")]
    return start, snaps, trainer


def test_freeze_then_unfreeze(tiny_stl10, cifar_checkpoint):
    start, snaps, trainer = _finetune(tiny_stl10, cifar_checkpoint, unfreeze_at=2)
    frozen_epochs, unfrozen_epochs = snaps.body[:2], snaps.body[2:]
    assert all(torch.equal(a, b) for epoch in frozen_epochs for a, b in zip(start, epoch))  # loaded, untouched
    assert not torch.equal(snaps.head[0], snaps.head[1])  # the head trains meanwhile
    assert any(not torch.equal(a, b) for a, b in zip(start, unfrozen_epochs[-1]))  # the body trains after
    assert snaps.groups == [1, 1, 2, 2]  # the optimizer gains the body's group once, at epoch 2
    group = trainer.optimizers[0].param_groups[1]
    assert group["lr"] == pytest.approx(0.05 * 0.1)


def test_head_only_never_unfreezes(tiny_stl10, cifar_checkpoint):
    start, snaps, _ = _finetune(tiny_stl10, cifar_checkpoint, unfreeze_at=-1)
    assert all(torch.equal(a, b) for a, b in zip(start, snaps.body[-1])) and snaps.groups == [1, 1, 1, 1]


def test_layerwise_unfreezes_top_block_first():
    net = ConvNet(num_classes=5)
    freezer = FreezeUnfreeze(unfreeze_at_epoch=1, mode="layerwise", layer_interval=2)
    blocks = body_blocks(net)
    assert freezer.blocks_due(net, 0) == [] and freezer.blocks_due(net, 2) == []
    assert freezer.blocks_due(net, 1) == [blocks[-1]] and freezer.blocks_due(net, 3) == [blocks[-2]]


def test_freezing_refuses_schedulers_that_cannot_follow(tiny_stl10):
    dm = STL10SubsetDataModule(data_dir=str(tiny_stl10), val_size=20, batch_size=16, download=False)
    model = ClassifierModule(ConvNet(num_classes=5), lr_scheduler=OneCycle)
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        callbacks=[FreezeUnfreeze(unfreeze_at_epoch=1)],
    )
    with pytest.raises(LabError, match="StepDecay or no lr_scheduler"):
        trainer.fit(model, datamodule=dm)
