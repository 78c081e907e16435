"""ClassifierModule: a network, the hand-written cross-entropy, torchmetrics, and an injected optimizer.

The network is built first (``model.net`` in a config, any ``lab.models.Classifier``); the optimizer
and schedule are injected as callables (``model.optimizer: {class_path: torch.optim.SGD, ...}``).
"""

from __future__ import annotations

import warnings
from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from lab.models.base import Classifier
from lab.models.losses import CrossEntropy
from lab.schedules import ScheduleCallable


class ClassifierModule(L.LightningModule):
    """Trains ``net`` on images -> class logits; logs loss and accuracy per split, and at test time
    the accuracy of every class and the confusion matrix.

    Args:
        net: the network (a ``lab.models`` class chosen by class_path); its class count is linked to the data's.
        optimizer: the optimizer class and its arguments, e.g. torch.optim.SGD with lr, momentum, weight_decay.
        lr_scheduler: a ``lab.schedules`` class (OneCycle, Cosine, StepDecay, Triangle) or none for a constant rate.
        label_smoothing: smoothing of the targets in the cross-entropy (0 = none).
        tta: test-time augmentation of test and predict (validation stays plain, for speed): none, flip (the
            mean logits of each image and its mirror) or flip_translate (also 1-px shifts, airbench's level 2).
        bn_bias_lr_scale: learning rate of BatchNorm shifts (biases) relative to the rest, with their weight
            decay divided by the same factor (airbench trains them 64x faster).
        channels_last: keep the weights in channels_last memory format (faster convolutions on CPU).
    """

    def __init__(
        self,
        net: Classifier,
        optimizer: OptimizerCallable = torch.optim.SGD,
        lr_scheduler: ScheduleCallable | None = None,
        label_smoothing: float = 0.0,
        tta: Literal["none", "flip", "flip_translate"] = "none",
        bn_bias_lr_scale: float = 1.0,
        channels_last: bool = False,
    ):
        super().__init__()
        self._save_config()
        self.net = net.to(memory_format=torch.channels_last) if channels_last else net
        self.optimizer, self.lr_scheduler = optimizer, lr_scheduler
        self.loss_fn = CrossEntropy(label_smoothing=label_smoothing)
        self.tta, self.bn_bias_lr_scale = tta, bn_bias_lr_scale
        n = net.num_classes
        accuracies = (MulticlassAccuracy(n, average="micro") for _ in range(4))  # top-1 over all images
        self.train_acc, self.val_acc, self.test_acc, self.train_eval_acc = accuracies
        self.train_loss = MeanMetric()
        self.test_per_class, self.test_confusion = MulticlassAccuracy(n, average="none"), MulticlassConfusionMatrix(n)

    def _save_config(self) -> None:
        """The CLI hands over the config of each argument (so load_from_checkpoint rebuilds the network);
        a module built in code holds the network object itself, which the checkpoint already stores."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is an instance of `nn.Module`.*")
            self.save_hyperparameters(logger=False)
        if isinstance(self.hparams.get("net"), nn.Module):
            self.hparams.pop("net")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def evaluate(self, images: torch.Tensor, tta: str = "none") -> torch.Tensor:
        """Logits for evaluation, averaged over the test-time augmented views of each image."""
        if tta == "none":
            return self(images)
        mirrored = (self(images) + self(images.flip(-1))) / 2
        if tta == "flip":
            return mirrored
        padded = F.pad(images, (1, 1, 1, 1), mode="reflect")
        h, w = images.shape[-2:]
        shifted = [padded[..., :h, :w], padded[..., 2:, 2:]]  # up-left and down-right by one pixel
        return 0.5 * mirrored + 0.25 * sum((self(x) + self(x.flip(-1))) / 2 for x in shifted)

    def _loss(self, batch, train: bool, tta: str = "none"):
        images, labels = batch
        logits = self(images) if train else self.evaluate(images, tta)
        return self.loss_fn(logits.float(), labels), logits, labels

    def training_step(self, batch, batch_idx):
        loss, logits, labels = self._loss(batch, train=True)
        self.train_loss.update(loss.detach(), weight=len(labels))
        self.train_acc.update(logits.detach(), labels)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        """The epoch's training loss and accuracy, logged once, after its last batch (before validation):
        logging every step costs about a millisecond a step on a CPU."""
        if batch_idx + 1 == self.trainer.num_training_batches:
            metrics = {"train/loss": self.train_loss, "train/acc": self.train_acc}
            self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=True)

    def validation_step(self, batch, batch_idx, dataloader_idx: int = 0):
        """Loader 0: the validation split; loader 1 (if the data module has one): a fixed subset of the
        training images, un-augmented and in eval mode (``train_eval/*``), for honest train-val gaps."""
        split = "val" if dataloader_idx == 0 else "train_eval"
        loss, logits, labels = self._loss(batch, train=False)
        accuracy = getattr(self, f"{split}_acc")
        accuracy(logits, labels)
        self.log(f"{split}/loss", loss, prog_bar=split == "val", sync_dist=True, add_dataloader_idx=False)
        self.log(f"{split}/acc", accuracy, prog_bar=True, add_dataloader_idx=False)

    def test_step(self, batch, batch_idx):
        loss, logits, labels = self._loss(batch, train=False, tta=self.tta)
        self.test_acc(logits, labels)
        self.test_per_class.update(logits, labels)
        self.test_confusion.update(logits, labels)
        self.log("test/loss", loss, sync_dist=True)
        self.log("test/acc", self.test_acc)

    def on_test_epoch_end(self) -> None:
        classes = getattr(self.trainer.datamodule, "classes", None) or range(self.net.num_classes)
        for name, acc in zip(classes, self.test_per_class.compute()):
            self.log(f"test/acc/{name}", acc)
        self.confusion = self.test_confusion.compute().cpu()
        self.test_per_class.reset()
        self.test_confusion.reset()

    def predict_step(self, batch, batch_idx, dataloader_idx: int = 0):
        """Class probabilities (softmax of the evaluation logits)."""
        images = batch[0] if isinstance(batch, list | tuple) else batch
        return self.evaluate(images, self.tta).float().softmax(dim=1)

    def parameter_groups(self) -> list[dict]:
        """The trainable parameters; with ``bn_bias_lr_scale``, BatchNorm shifts in a group of their own."""
        shifts = {id(m.bias) for m in self.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)}
        trainable = [p for p in self.parameters() if p.requires_grad]
        if self.bn_bias_lr_scale == 1:
            return [{"params": trainable}]
        return [
            {"params": [p for p in trainable if id(p) not in shifts]},
            {"params": [p for p in trainable if id(p) in shifts]},
        ]

    def configure_optimizers(self):
        optimizer = self.optimizer(self.parameter_groups())
        for group in optimizer.param_groups[1:]:  # the BatchNorm shifts: faster, decayed as much per step
            group["lr"] *= self.bn_bias_lr_scale
            group["weight_decay"] = group.get("weight_decay", 0) / self.bn_bias_lr_scale
        if self.lr_scheduler is None:
            return optimizer
        scheduler = self.lr_scheduler(optimizer, int(self.trainer.estimated_stepping_batches))
        interval = getattr(scheduler, "interval", "epoch")
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": interval}}
