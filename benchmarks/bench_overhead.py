"""Lightning's overhead: one training epoch of ConvNet through the Trainer vs a bare PyTorch loop.

Same model, data, augmentation, loss and optimizer; the two are run alternately in one process
(REPEATS times each) so machine noise hits both alike. Reports the median epoch time of each.

    python -m benchmarks.bench_overhead [--images 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import lightning as L
import torch

from lab.callbacks import EpochHistory, FiniteLossGuard, SeedEachEpoch
from lab.data import AugmentConfig, CIFAR10DataModule
from lab.models import ConvNet
from lab.models.losses import CrossEntropy
from lab.models.module import ClassifierModule
from lab.utils.bench_results import environment, write_section

SGD = partial(torch.optim.SGD, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)


def bare_epoch(dm: CIFAR10DataModule, seed: int) -> float:
    torch.manual_seed(seed)
    model, loss_fn = ConvNet(), CrossEntropy()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    start = time.perf_counter()
    correct = 0
    for images, labels in dm.train_dataloader():
        x = dm.prepare_batch(images, training=True)
        logits = model(x)
        loss = loss_fn(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct += (logits.argmax(1) == labels).sum().item()
    return time.perf_counter() - start


class _EpochTimer(L.Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds = time.perf_counter() - self.start


def lightning_epoch(dm: CIFAR10DataModule, seed: int) -> float:
    torch.manual_seed(seed)
    timer = _EpochTimer()
    callbacks = [timer, FiniteLossGuard(), EpochHistory(), SeedEachEpoch(seed)]  # what every lab run carries per step
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=callbacks,
    )
    trainer.fit(ClassifierModule(ConvNet(), optimizer=SGD), datamodule=dm)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000, help="training images per epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    dm = CIFAR10DataModule(
        batch_size=args.batch_size, train_subset=args.images, augment=AugmentConfig(flip=True, translate=2)
    )
    dm.setup()
    bare_epoch(dm, 0)  # warm-up: first-touch allocations, oneDNN kernel selection
    times = {"bare PyTorch loop": [], "Lightning Trainer": []}
    for r in range(args.repeats):
        print(f"repeat {r + 1}/{args.repeats}", flush=True)
        times["bare PyTorch loop"].append(bare_epoch(dm, r))
        times["Lightning Trainer"].append(lightning_epoch(dm, r))
    bare, lit = (statistics.median(t) for t in times.values())
    ratios = [b_lit / b_bare for b_bare, b_lit in zip(*times.values())]
    rows = "\n".join(
        f"| {name} | {statistics.median(t):.2f} | {', '.join(f'{x:.2f}' for x in t)} |" for name, t in times.items()
    )
    body = f"""## Lightning overhead (ConvNet / LeNet-5, CIFAR-10, CPU)

`python -m benchmarks.bench_overhead --images {args.images} --repeats {args.repeats}` — {environment()}.
One training epoch of {args.images} images, batch {args.batch_size}, flip + translate augmentation, SGD, float32;
bare loop and Trainer alternated in one process (after one warm-up epoch); the Trainer carries the
per-step callbacks of every lab run (FiniteLossGuard, EpochHistory, SeedEachEpoch) and logs the
epoch's loss and accuracy (torchmetrics).

| loop | median epoch (s) | all repeats (s) |
| --- | ---: | --- |
{rows}

**Lightning / bare = {lit / bare:.3f}x** (medians; per repeat {min(ratios):.3f}-{max(ratios):.3f}x; target <= 1.10x).
"""
    write_section("overhead", body)
    print(body)


if __name__ == "__main__":
    main()
