"""The toy MLP of the course's Assignment 1 with batch normalization, in NumPy only (no torch inside).

    x (B, 784) -> @ W1 (784, 16) -> BN(gamma, beta) -> sigmoid -> @ W2 (16, 1) -> sigmoid -> p

Weights as the course's starter code draws them: seed 14, standard normal, in the order W1, W2, gamma,
beta (``np.random.seed(14)`` then ``np.random.randn`` four times; here through an equivalent private
``RandomState(14)``). Loss: binary cross-entropy summed over the batch; plain gradient descent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lab.numpy_bn.bn import (
    BatchNormState,
    batchnorm_backward,
    batchnorm_forward_inference,
    batchnorm_forward_train,
)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def binary_cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """Summed -[y log p + (1 - y) log(1 - p)] with p = sigmoid(logits), from the logits (stable)."""
    return float(np.sum(target * np.logaddexp(0, -logits) + (1 - target) * np.logaddexp(0, logits)))


@dataclass
class ToyMLP:
    params: dict[str, np.ndarray]
    bn: BatchNormState

    @classmethod
    def from_seed(cls, seed: int = 14, in_dim: int = 784, hidden: int = 16, momentum: float = 0.1) -> ToyMLP:
        rng = np.random.RandomState(seed)  # the stream np.random.seed(seed); np.random.randn(...) gives
        params = {
            "W1": rng.randn(in_dim, hidden),
            "W2": rng.randn(hidden, 1),
            "gamma": rng.randn(hidden),
            "beta": rng.randn(hidden),
        }
        return cls(params, BatchNormState.create(hidden, momentum=momentum))

    def forward(self, x: np.ndarray, train: bool) -> tuple[np.ndarray, tuple]:
        """Logits (B, 1) and what backward needs; ``train`` uses and updates the batch statistics,
        inference uses the running ones."""
        p = self.params
        h = x @ p["W1"]
        if train:
            z, bn_cache = batchnorm_forward_train(h, p["gamma"], p["beta"], self.bn)
        else:
            z, bn_cache = batchnorm_forward_inference(h, p["gamma"], p["beta"], self.bn), None
        a = sigmoid(z)
        return a @ p["W2"], (x, bn_cache, a)

    def backward(self, logits: np.ndarray, target: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
        x, bn_cache, a = cache
        dlogits = sigmoid(logits) - target  # d(summed BCE)/d(logits)
        grads = {"W2": a.T @ dlogits}
        dz = (dlogits @ self.params["W2"].T) * a * (1 - a)
        dh, grads["gamma"], grads["beta"] = batchnorm_backward(dz, bn_cache)
        grads["W1"] = x.T @ dh
        return grads

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One gradient-descent step on the whole batch; returns the loss before the step."""
        logits, cache = self.forward(x, train=True)
        loss = binary_cross_entropy(logits, y)
        for name, grad in self.backward(logits, y, cache).items():
            self.params[name] -= lr * grad
        return loss

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """Summed BCE in inference mode (running statistics)."""
        return binary_cross_entropy(self.forward(x, train=False)[0], y)
