"""ClassifierModule: any backbone + the hand-written cross-entropy + torchmetrics + optimiser config."""

from __future__ import annotations

import math
from typing import Literal

import lightning as L
import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from lab.errors import NonFiniteLossError
from lab.losses import CrossEntropy
from lab.models.base import Backbone
from lab.models.transfer import LoadOrder, load_pretrained
from lab.run_record import built_by_cli


class ClassifierModule(L.LightningModule):
    """Trains ``backbone`` on images -> class logits; logs train/val/test loss and accuracy."""

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int = 10,
        optimizer: Literal["sgd", "adam", "adamw"] = "sgd",
        lr: float = 0.05,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        scheduler: Literal["none", "step", "cosine", "onecycle"] = "onecycle",
        step_size: int = 10,
        gamma: float = 0.1,
        warmup_fraction: float = 0.2,
        label_smoothing: float = 0.0,
        channels_last: bool = False,
        tta_flip: bool = False,
        pretrained: str | None = None,
        load_order: LoadOrder = "replace_then_load",
    ):
        """
        Args:
            backbone: the network (any ``lab.models`` class, chosen by class_path).
            num_classes: number of classes of the data (linked from the data module by the CLI);
                a backbone built for another count gets a new output layer.
            optimizer: sgd (momentum, optionally nesterov), adam or adamw.
            lr: learning rate (the peak rate under onecycle).
            momentum: SGD momentum (ignored by Adam/AdamW).
            nesterov: Nesterov momentum for SGD.
            weight_decay: L2 penalty (decoupled for AdamW).
            scheduler: none, step (x gamma every step_size epochs), cosine (to 0 over the run) or
                onecycle (warm-up for warmup_fraction of the steps, then cosine annealing).
            step_size: epochs between decays of the step scheduler.
            gamma: decay factor of the step scheduler.
            warmup_fraction: share of the steps spent warming up under onecycle.
            label_smoothing: smoothing of the targets in the cross-entropy.
            channels_last: keep the network's weights in channels_last memory format (faster
                convolutions on CPU; pair it with the data module's channels_last).
            tta_flip: evaluate (val/test/predict) on the mean logits of each image and its mirror.
            pretrained: checkpoint (Lightning .ckpt or state dict) whose backbone weights to start from.
            load_order: load_then_replace (load all, then a new output layer) or replace_then_load (new
                output layer, then load the matching parameters); see lab/models/transfer.py.
        """
        super().__init__()
        if lr <= 0 or not math.isfinite(lr):
            raise ValueError(f"lr must be a positive number, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if not 0 < warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in (0, 1), got {warmup_fraction}")
        by_cli = built_by_cli()  # then the CLI logs the whole config once (lab/run_record.py)
        self.save_hyperparameters(ignore=None if by_cli else ["backbone"], logger=not by_cli)
        self.backbone = backbone
        if pretrained:
            if not isinstance(backbone, Backbone):
                raise ValueError("pretrained weights need a lab.models backbone (one with an `output` layer)")
            before = backbone.output
            skipped = load_pretrained(backbone, pretrained, num_classes, load_order)
            print(f"[lab] loaded {pretrained} ({load_order}); not loaded: {', '.join(skipped) or 'nothing'}")
            if backbone.output is not before:
                print(f"[lab] output layer: {before} -> {backbone.output}")
        if isinstance(backbone, Backbone) and backbone.num_classes != num_classes:
            old, new = backbone.replace_head(num_classes)
            print(f"[lab] output layer replaced for {num_classes} classes: {old} -> {new}")
        if channels_last:
            self.backbone = self.backbone.to(memory_format=torch.channels_last)
        self.loss_fn = CrossEntropy(label_smoothing=label_smoothing)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def _evaluate(self, images: torch.Tensor) -> torch.Tensor:
        logits = self(images)
        if self.hparams.tta_flip:
            logits = (logits + self(images.flip(-1))) / 2
        return logits

    def _step(self, batch):
        images, labels = batch
        logits = self(images) if self.training else self._evaluate(images)
        return self.loss_fn(logits.float(), labels), logits, labels

    def training_step(self, batch, batch_idx):
        loss, logits, labels = self._step(batch)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, global step "
                f"{self.global_step}; lower the learning rate (now {self.hparams.lr}) or check the data. "
                "The last checkpoint written before this step is kept."
            )
        self.train_acc(logits, labels)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, logits, labels = self._step(batch)
        self.val_acc(logits, labels)
        self.log("val/loss", loss, on_epoch=True, prog_bar=True, sync_dist=True)
        self.log("val/acc", self.val_acc, on_epoch=True, prog_bar=True)

    def test_step(self, batch, batch_idx):
        loss, logits, labels = self._step(batch)
        self.test_acc(logits, labels)
        self.log("test/loss", loss, on_epoch=True, sync_dist=True)
        self.log("test/acc", self.test_acc, on_epoch=True)

    def predict_step(self, batch, batch_idx, dataloader_idx: int = 0):
        images, _ = batch
        return self._evaluate(images).argmax(dim=1)

    def configure_optimizers(self):
        hp = self.hparams
        params = [p for p in self.parameters() if p.requires_grad]
        if hp.optimizer == "sgd":
            opt = torch.optim.SGD(
                params,
                lr=hp.lr,
                momentum=hp.momentum,
                nesterov=hp.nesterov and hp.momentum > 0,
                weight_decay=hp.weight_decay,
            )
        elif hp.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=hp.lr, weight_decay=hp.weight_decay)
        else:
            opt = torch.optim.AdamW(params, lr=hp.lr, weight_decay=hp.weight_decay)
        if hp.scheduler == "none":
            return opt
        if hp.scheduler == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=hp.step_size, gamma=hp.gamma)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
        # OneCycleLR needs >= 2 warm-up steps; tiny runs (tests, smoke) get a slightly longer schedule
        total = max(int(self.trainer.estimated_stepping_batches), math.ceil(2 / hp.warmup_fraction) + 1)
        if hp.scheduler == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        else:
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt,
                max_lr=hp.lr,
                total_steps=total,
                pct_start=hp.warmup_fraction,
                cycle_momentum=hp.optimizer == "sgd" and hp.momentum > 0,
            )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
