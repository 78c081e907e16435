"""FreezeUnfreeze: train only the output layer first, then unfreeze the backbone at a lower rate.

Built on Lightning's BaseFinetuning: the body (every child of the backbone except ``output``) is
frozen before training; at ``unfreeze_at_epoch`` it is unfrozen, all at once or one block at a time
from the top (``mode: layerwise``, one block every ``layer_interval`` epochs), each unfrozen part
joining the optimizer as a new parameter group with lr = current head lr x ``lr_factor``.
``unfreeze_at_epoch: -1`` keeps the body frozen for the whole run (head-only fine-tuning).
"""

from __future__ import annotations

from typing import Literal

from lightning.pytorch.callbacks import BaseFinetuning
from torch import nn

from lab.errors import LabError


def body_blocks(backbone: nn.Module) -> list[nn.Module]:
    """The backbone's blocks below the output layer, bottom to top (leaf-level for Sequentials)."""
    blocks: list[nn.Module] = []
    for name, child in backbone.named_children():
        if name == "output":
            continue
        blocks.extend(child.children() if isinstance(child, nn.Sequential) else [child])
    return [b for b in blocks if any(True for _ in b.parameters())]


class FreezeUnfreeze(BaseFinetuning):
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
            lr_factor: learning rate of each unfrozen part relative to the head's current rate.
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
        self.unfrozen: list[int] = []  # epochs at which a parameter group was added

    def on_fit_start(self, trainer, pl_module):
        scheduler = getattr(pl_module.hparams, "scheduler", "none")
        if self.unfreeze_at_epoch >= 0 and scheduler in ("onecycle", "cosine"):
            raise LabError(
                f"FreezeUnfreeze adds parameter groups during training, which the '{scheduler}' scheduler cannot "
                "follow; use --model.scheduler step or none for fine-tuning."
            )
        return super().on_fit_start(trainer, pl_module)

    def freeze_before_training(self, pl_module) -> None:
        self.freeze(body_blocks(pl_module.backbone), train_bn=self.train_bn)

    def _blocks_due(self, pl_module, epoch: int) -> list[nn.Module]:
        blocks = body_blocks(pl_module.backbone)
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
        due = self._blocks_due(pl_module, current_epoch)
        if due:
            lr = optimizer.param_groups[0]["lr"] * self.lr_factor
            self.unfreeze_and_add_param_group(due, optimizer, lr=lr, train_bn=self.train_bn)
            self.unfrozen.append(current_epoch)
