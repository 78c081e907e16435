"""A2's code part: the hand-written pieces as listings read from the source (so they never drift), the
batch norm backward derivation, the gradient check and the cross-entropy's measured agreement with
``torch.nn.functional.cross_entropy``. Everything here is computed when the document is built."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lab.data import augment, base, transform
from lab.models import cnn, losses, module
from lab.numpy_bn import bn
from lab.utils.paths import REPO_ROOT

# (title, module, the functions and classes listed, in order)
LISTINGS = (
    (
        "NumPy batch norm: forward (training, running statistics), backward, inference",
        bn,
        ("batchnorm_forward_train", "batchnorm_backward", "batchnorm_forward_inference"),
    ),
    ("Cross-entropy: stable log-softmax, label smoothing", losses, ("log_softmax", "cross_entropy")),
    (
        "The CNN modules (CourseCNN: the course CNN and, with options, the best CNN)",
        cnn,
        ("_bn", "_conv", "ConvGroup", "CourseCNN"),
    ),
    (
        "Data augmentation and the batch path (uint8 batch -> augmented, normalised float batch)",
        base,
        (
            "InMemoryImageDataModule.on_after_batch_transfer",
            "InMemoryImageDataModule.prepare_batch",
            "InMemoryImageDataModule._augmentation",
            "InMemoryImageDataModule._preflip",
        ),
    ),
    (
        "Data augmentation and the batch path (uint8 batch -> augmented, normalised float batch)",
        transform,
        ("InputTransform",),
    ),
    (
        "Data augmentation and the batch path (uint8 batch -> augmented, normalised float batch)",
        augment,
        ("BatchAugment", "random_flip", "random_translate", "adjust_brightness", "adjust_contrast"),
    ),
    (
        "The training step, the loss call and test-time augmentation",
        module,
        ("ClassifierModule._loss", "ClassifierModule.training_step", "ClassifierModule.evaluate"),
    ),
)

DERIVATION = r"""With $\hat x_i = (x_i - \mu)/\sqrt{\sigma^2 + \epsilon}$ over a batch of $B$ rows and
$y_i = \gamma \hat x_i + \beta$, write $g_i = \partial L / \partial y_i$. Then
$\partial L/\partial \beta = \sum_i g_i$ and $\partial L/\partial \gamma = \sum_i g_i \hat x_i$. Since $\mu$ and
$\sigma^2$ depend on every $x_j$, $\partial \hat x_j / \partial x_i = (\delta_{ij} - 1/B - \hat x_i \hat x_j / B) /
\sqrt{\sigma^2 + \epsilon}$, and summing over $j$:

$$\frac{\partial L}{\partial x_i} = \frac{\gamma}{\sqrt{\sigma^2+\epsilon}}\Big(g_i - \frac{1}{B}\sum_j g_j
- \hat x_i \frac{1}{B}\sum_j g_j \hat x_j\Big)$$

which is `batchnorm_backward`: `dx = gamma * inv_std * (dy - dbeta / B - x_hat * dgamma / B)`."""


@dataclass
class Listing:
    title: str
    file: str  # relative to the repository
    name: str
    first_line: int
    source: str


def listings() -> list[Listing]:
    """Every listed function or class, its source as it is in the repository."""
    found = []
    for title, source_module, names in LISTINGS:
        file = Path(inspect.getsourcefile(source_module)).relative_to(REPO_ROOT).as_posix()
        for name in names:
            lines, first = inspect.getsourcelines(attribute(source_module, name))
            found.append(Listing(title, file, name, first, "".join(lines)))
    return found


def attribute(owner, dotted: str):
    """``module`` + "Class.method" -> the method (listings name methods by their class)."""
    for part in dotted.split("."):
        owner = getattr(owner, part)
    return owner


def gradient_check(batch: int = 8, channels: int = 5, seed: int = 0, h: float = 1e-5) -> dict[str, float]:
    """Max relative error of dx, dgamma, dbeta from ``batchnorm_backward`` against central differences
    (float64) of L = sum(y * r), the check tests/test_numpy_bn.py makes."""
    rng = np.random.default_rng(seed)
    x, gamma, beta = (
        rng.normal(2.0, 3.0, (batch, channels)),
        rng.normal(1.0, 0.5, channels),
        rng.normal(0, 0.5, channels),
    )
    r = rng.normal(size=(batch, channels))

    def loss(*args) -> float:
        return float(np.sum(bn.batchnorm_forward_train(*args, bn.BatchNormState.create(channels))[0] * r))

    _, cache = bn.batchnorm_forward_train(x, gamma, beta, bn.BatchNormState.create(channels))
    analytic = dict(zip(("dx", "dgamma", "dbeta"), bn.batchnorm_backward(r, cache)))
    errors = {}
    for which, name in enumerate(analytic):
        numeric = np.zeros_like(analytic[name])
        for idx in np.ndindex(numeric.shape):
            plus, minus = [[a.copy() for a in (x, gamma, beta)] for _ in range(2)]
            plus[which][idx] += h
            minus[which][idx] -= h
            numeric[idx] = (loss(*plus) - loss(*minus)) / (2 * h)
        errors[name] = relative_error(analytic[name], numeric)
    return errors


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def cross_entropy_agreement(smoothing: float, seed: int = 0) -> dict[str, float]:
    """|ours - F.cross_entropy| / |F.cross_entropy| of the loss and the largest absolute difference of its
    gradient, on 1,024 x 10 random logits
    (float32, scale 5) and on extreme logits (scale 1e4, where a naive softmax overflows)."""
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 10, (1024,), generator=g)
    result = {}
    for name, scale in (("typical", 5.0), ("extreme", 1e4)):
        logits = (torch.randn(1024, 10, generator=g) * scale).requires_grad_(True)
        ours = losses.cross_entropy(logits, target, label_smoothing=smoothing)
        (ours_grad,) = torch.autograd.grad(ours, logits)
        ref = F.cross_entropy(logits, target, label_smoothing=smoothing)
        (ref_grad,) = torch.autograd.grad(ref, logits)
        result[f"{name} loss"] = float(((ours - ref).abs() / ref.abs()).detach())
        result[f"{name} gradient"] = float((ours_grad - ref_grad).abs().max())
        result[f"{name} finite"] = float(torch.isfinite(ours).item())
    return result


def best_smoothing() -> float:
    from lab.engine.config import load_layer

    return float(load_layer("best").get("model", {}).get("label_smoothing", 0.0))


def listing_lines(listing: Listing) -> list[str]:
    return [
        f"*{listing.name}* ({listing.file}, line {listing.first_line}):",
        "",
        "```python",
        listing.source.rstrip("\n"),
        "```",
        "",
    ]


def agreement_table(smoothings: tuple[float, ...] = (0.0, 0.2)) -> list[str]:
    rows = [
        "| label smoothing | logits | relative loss difference | max abs. gradient difference | finite |",
        "| ---: | --- | ---: | ---: | --- |",
    ]
    for s in smoothings:
        found = cross_entropy_agreement(s)
        for kind in ("typical", "extreme"):
            finite = "yes" if found[f"{kind} finite"] else "no"
            rows.append(
                f"| {s:g} | {kind} | {found[f'{kind} loss']:.1e} | {found[f'{kind} gradient']:.1e} | {finite} |"
            )
    return rows


def code_part() -> list[str]:
    """The Markdown of A2's code part."""
    errors = gradient_check()
    lines = [
        "## Code: the hand-written pieces",
        "",
        "Read from the source when this document was built, so they are the code that produced the results "
        "above. Batch norm is NumPy only, without Python loops (tests/test_numpy_bn.py checks both).",
        "",
        "### Batch norm backward, derived",
        "",
        DERIVATION,
        "",
        "### Gradient check",
        "",
        "Central differences (h = 1e-5, float64) of L = sum(y * r) on an 8 x 5 batch against "
        "`batchnorm_backward`; relative error max |a - n| / (|a| + |n|): "
        + ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
        + ". tests/test_numpy_bn.py also matches forward, backward and running statistics with "
        "`torch.nn.functional.batch_norm` to 1e-10.",
        "",
        "### Cross-entropy as implemented",
        "",
        r"$\log p_c = (z_c - \max_k z_k) - \log \sum_k e^{z_k - \max_k z_k}$ (the row maximum is subtracted "
        r"before exp, so no logit overflows), and with label smoothing $\epsilon$ the target is "
        r"$(1-\epsilon)$ one-hot $+ \epsilon / C$: $L = (1-\epsilon)(-\log p_y) + \epsilon \cdot "
        r"\frac{1}{C}\sum_c (-\log p_c)$, averaged over the batch (PyTorch's convention). The best CNN trains "
        f"with $\\epsilon = {best_smoothing():g}$ (experiments/best.yaml).",
        "",
        "**Table C1. Hand-written cross-entropy against `torch.nn.functional.cross_entropy`.** 1,024 x 10 "
        "random float32 logits, scale 5 (typical) and 1e4 (extreme); the loss's relative difference and the "
        "largest absolute difference of its gradient.",
        "",
        *agreement_table(),
        "",
    ]
    current = None
    for listing in listings():
        if listing.title != current:
            current = listing.title
            lines += [f"### Listing: {listing.title}", ""]
        lines += listing_lines(listing)
    return lines
