"""Batch normalization and the course's toy MLP in NumPy only (no torch inside this package)."""

from lab.numpy_bn.bn import (
    BatchNormState,
    batchnorm_backward,
    batchnorm_forward_inference,
    batchnorm_forward_train,
)
from lab.numpy_bn.mlp import ToyMLP, binary_cross_entropy, sigmoid

__all__ = [
    "BatchNormState",
    "ToyMLP",
    "batchnorm_backward",
    "batchnorm_forward_inference",
    "batchnorm_forward_train",
    "binary_cross_entropy",
    "sigmoid",
]
