"""Two training aids from Keller Jordan's airbench (github.com/KellerJordan/cifar10-airbench) as callbacks:

- WhiteningInit: before training, set a CourseCNN "whiten" stem from the training images' 2x2 patches
  (its filters stay frozen); its bias trains for the first ``bias_epochs`` epochs only.
- Lookahead: from ``start_epoch`` on, every ``every`` steps, pull an exponential moving average of the
  weights (and BatchNorm statistics) and copy it back into the network, with a decay that grows over
  training (airbench: 0.95 ** 5 x (step / total) ** 3); at each epoch's end the network becomes the average.
"""

from __future__ import annotations

import lightning as L
import torch

from lab.utils.errors import LabError


class WhiteningInit(L.Callback):
    def __init__(self, images: int = 5000, bias_epochs: int = 3):
        self.images, self.bias_epochs = images, bias_epochs

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit" or trainer.ckpt_path:  # a resumed run has its stem in the checkpoint
            return
        net, dm = pl_module.net, trainer.datamodule
        if not hasattr(net, "init_whitening"):
            raise LabError(f"WhiteningInit needs a CourseCNN with stem: whiten, got {type(net).__name__}")
        dm.setup("fit")
        net.init_whitening(dm.prepare_batch(dm.train_set.images[: self.images], training=False))

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pl_module.net.stem[0].bias.requires_grad_(trainer.current_epoch < self.bias_epochs)


class Lookahead(L.Callback):
    def __init__(self, start_epoch: int = 3, every: int = 5, decay: float = 0.95, power: float = 3.0):
        self.start_epoch, self.every, self.decay, self.power = start_epoch, every, decay, power
        self.average: dict[str, torch.Tensor] | None = None

    def _tensors(self, pl_module) -> dict[str, torch.Tensor]:
        return {k: v for k, v in pl_module.net.state_dict().items() if v.is_floating_point()}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if trainer.current_epoch < self.start_epoch or step % self.every:
            return
        if self.average is None:
            self.average = {k: v.detach().clone() for k, v in self._tensors(pl_module).items()}
            return
        rho = self.decay**self.every * (step / trainer.estimated_stepping_batches) ** self.power
        self._pull(pl_module, rho)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.average is not None:
            self._pull(pl_module, 1.0)

    @torch.no_grad()
    def _pull(self, pl_module, decay: float) -> None:
        for name, tensor in self._tensors(pl_module).items():
            self.average[name].lerp_(tensor, 1 - decay)
            tensor.copy_(self.average[name])

    def state_dict(self) -> dict:
        return {"average": self.average}

    def load_state_dict(self, state_dict: dict) -> None:
        self.average = state_dict.get("average")
