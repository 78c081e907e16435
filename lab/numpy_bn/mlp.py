"""The toy MLP of the course (Linear -> BN -> ReLU -> Linear), forward, backward and SGD in NumPy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lab.numpy_bn.bn import (
    BatchNormState,
    batchnorm_backward,
    batchnorm_forward_inference,
    batchnorm_forward_train,
)


def make_regression_data(n: int, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs x ~ N(0, 1) and a smooth nonlinear target, y = 3 sin(x a) + (x b)^2 / 2 + noise."""
    rng = np.random.default_rng(seed)
    teacher = np.random.default_rng(1234)  # the same function for every split
    a, b = teacher.normal(size=(dim, 1)) / np.sqrt(dim), teacher.normal(size=(dim, 1)) / np.sqrt(dim)
    x = rng.normal(size=(n, dim))
    y = 3 * np.sin(x @ a) + 0.5 * (x @ b) ** 2 + 0.05 * rng.normal(size=(n, 1))
    return x, y


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error and its gradient w.r.t. pred."""
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / diff.size


@dataclass
class ToyMLP:
    """x -> W1 -> BN(gamma, beta) -> ReLU -> W2 + b2 -> y. W1 has no bias: BN's beta plays it."""

    in_dim: int
    hidden: int = 64
    out_dim: int = 1
    seed: int = 0
    params: dict[str, np.ndarray] = field(init=False)
    bn: BatchNormState = field(init=False)

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self.params = {
            "W1": rng.normal(size=(self.in_dim, self.hidden)) * np.sqrt(2 / self.in_dim),
            "gamma": np.ones(self.hidden),
            "beta": np.zeros(self.hidden),
            "W2": rng.normal(size=(self.hidden, self.out_dim)) * np.sqrt(2 / self.hidden),
            "b2": np.zeros(self.out_dim),
        }
        self.bn = BatchNormState.create(self.hidden)

    def forward(self, x: np.ndarray, train: bool):
        p = self.params
        h = x @ p["W1"]
        if train:
            z, bn_cache = batchnorm_forward_train(h, p["gamma"], p["beta"], self.bn)
        else:
            z, bn_cache = batchnorm_forward_inference(h, p["gamma"], p["beta"], self.bn), None
        a = np.maximum(z, 0)
        return a @ p["W2"] + p["b2"], (x, bn_cache, z, a)

    def backward(self, dout: np.ndarray, cache) -> dict[str, np.ndarray]:
        x, bn_cache, z, a = cache
        p = self.params
        grads = {"W2": a.T @ dout, "b2": dout.sum(axis=0)}
        dz = (dout @ p["W2"].T) * (z > 0)
        dh, grads["gamma"], grads["beta"] = batchnorm_backward(dz, bn_cache)
        grads["W1"] = x.T @ dh
        return grads

    def sgd_step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        for name, grad in grads.items():
            self.params[name] -= lr * grad

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        pred, cache = self.forward(x, train=True)
        loss, dpred = mse(pred, y)
        self.sgd_step(self.backward(dpred, cache), lr)
        return loss

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        return mse(self.forward(x, train=False)[0], y)[0]
