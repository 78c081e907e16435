"""Batch normalization and a toy MLP in NumPy only (no torch inside this package)."""

from lab.numpy_bn.bn import (
    BatchNormState,
    batchnorm_backward,
    batchnorm_forward_inference,
    batchnorm_forward_train,
)
from lab.numpy_bn.mlp import ToyMLP, make_regression_data

__all__ = [
    "BatchNormState",
    "ToyMLP",
    "batchnorm_backward",
    "batchnorm_forward_inference",
    "batchnorm_forward_train",
    "make_regression_data",
]
