"""Fine-tuning callbacks: LoadPretrained puts the CIFAR-10 weights into the network before training,
FreezeUnfreeze trains the new classifier alone first and then unfreezes the body at a lower rate.

    trainer:
      callbacks:
        - class_path: lab.callbacks.LoadPretrained
          init_args: {checkpoint: checkpoints/convnet_cifar10.pt, load_order: replace_then_load}
        - class_path: lab.callbacks.FreezeUnfreeze
          init_args: {unfreeze_at_epoch: 5, lr_factor: 0.1}
"""

from __future__ import annotations

from typing import Literal

import lightning as L
from lightning.pytorch.callbacks import BaseFinetuning
from torch import nn

from lab.models.base import Classifier
from lab.models.head import LoadOrder, load_then_replace, replace_then_load
from lab.models.pretrained import read_net_state
from lab.schedules import Cosine, OneCycle
from lab.utils import console
from lab.utils.errors import LabError


class LoadPretrained(L.Callback):
    """At the start of ``fit``, loads ``checkpoint`` into ``pl_module.net`` by ``load_order`` (see
    lab/models/head.py), keeping the network's own class count (a new classifier). A run resumed
    from its own checkpoint (``ckpt_path``) loads nothing: its weights come from that checkpoint."""

    def __init__(self, checkpoint: str, load_order: LoadOrder = "replace_then_load"):
        self.checkpoint, self.load_order = checkpoint, load_order

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit" or trainer.ckpt_path:
            return
        net, state = pl_module.net, read_net_state(self.checkpoint)
        if not isinstance(net, Classifier):
            raise LabError(f"LoadPretrained needs a lab.models network (with a classifier), got {type(net).__name__}")
        load = load_then_replace if self.load_order == "load_then_replace" else replace_then_load
        skipped = load(net, state, net.num_classes)
        old = state.get("classifier.weight")
        console.info(f"[lab] loaded {self.checkpoint} ({self.load_order}); not loaded: {', '.join(skipped) or '-'}")
        if old is not None:
            console.info(
                f"[lab] classifier: Linear(in_features={old.shape[1]}, out_features={old.shape[0]}) of the "
                f"checkpoint -> {net.get_classifier()}"
            )


def body_blocks(net: nn.Module) -> list[nn.Module]:
    """The network's blocks below the classifier, bottom to top (leaf-level for Sequentials)."""
    blocks: list[nn.Module] = []
    for name, child in net.named_children():
        if name == "classifier":
            continue
        blocks.extend(child.children() if isinstance(child, nn.Sequential) else [child])
    return [b for b in blocks if any(True for _ in b.parameters())]


class FreezeUnfreeze(BaseFinetuning):
    """Freezes the body before training; at ``unfreeze_at_epoch`` unfreezes it, all at once or one block
    at a time from the top (``mode: layerwise``, every ``layer_interval`` epochs). Each unfrozen part
    joins the optimizer as a new parameter group at lr = the classifier's current lr x ``lr_factor``.
    ``unfreeze_at_epoch: -1`` keeps the body frozen for the whole run (classifier-only fine-tuning)."""

    def __init__(
        self,
        unfreeze_at_epoch: int = 3,
        lr_factor: float = 0.1,
        mode: Literal["all", "layerwise"] = "all",
        layer_interval: int = 1,
        train_bn: bool = True,
    ):
        """
        Args:
            unfreeze_at_epoch: first epoch with a trainable body; -1 never unfreezes.
            lr_factor: learning rate of each unfrozen part relative to the classifier's current rate.
            mode: all (the whole body at once) or layerwise (one block per layer_interval epochs, top first).
            layer_interval: epochs between two layer-wise unfreezings.
            train_bn: whether BatchNorm layers inside frozen parts keep training their statistics and affine terms.
        """
        super().__init__()
        if lr_factor <= 0:
            raise ValueError(f"lr_factor must be > 0, got {lr_factor}")
        if layer_interval < 1:
            raise ValueError(f"layer_interval must be >= 1, got {layer_interval}")
        self.unfreeze_at_epoch, self.lr_factor = unfreeze_at_epoch, lr_factor
        self.mode, self.layer_interval, self.train_bn = mode, layer_interval, train_bn

    def on_fit_start(self, trainer, pl_module):
        schedules = [c.scheduler for c in trainer.lr_scheduler_configs]
        if self.unfreeze_at_epoch >= 0 and any(isinstance(s, OneCycle | Cosine) for s in schedules):
            raise LabError(
                f"FreezeUnfreeze adds parameter groups during training, which {type(schedules[0]).__name__} cannot "
                "follow; use lab.schedules.StepDecay or no lr_scheduler for fine-tuning."
            )
        return super().on_fit_start(trainer, pl_module)

    def freeze_before_training(self, pl_module) -> None:
        self.freeze(body_blocks(pl_module.net), train_bn=self.train_bn)

    def blocks_due(self, net: nn.Module, epoch: int) -> list[nn.Module]:
        """The blocks to unfreeze at the start of ``epoch``."""
        blocks = body_blocks(net)
        if self.unfreeze_at_epoch < 0 or epoch < self.unfreeze_at_epoch:
            return []
        if self.mode == "all":
            return blocks if epoch == self.unfreeze_at_epoch else []
        offset = epoch - self.unfreeze_at_epoch
        if offset % self.layer_interval:
            return []
        index = len(blocks) - 1 - offset // self.layer_interval  # top block first
        return [blocks[index]] if index >= 0 else []

    def finetune_function(self, pl_module, current_epoch: int, optimizer) -> None:
        due = self.blocks_due(pl_module.net, current_epoch)
        if due:
            lr = optimizer.param_groups[0]["lr"] * self.lr_factor
            self.unfreeze_and_add_param_group(due, optimizer, lr=lr, train_bn=self.train_bn)
