"""minigrad: a small, readable reverse-mode tensor autograd engine on numpy.

    import minigrad
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])

Read `minigrad.autograd` first: it is the whole idea of backpropagation on one screen.
"""

import numpy as np

from minigrad import nn, optim
from minigrad.autograd import Function, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from minigrad.creation import (
    arange,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.fusion import fused, is_fused_enabled, set_fused
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.random import manual_seed
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, float32, float64, int32, int64
from minigrad.toplevel import (
    argmax,
    cat,
    chunk,
    clamp,
    exp,
    gather,
    log,
    masked_fill,
    matmul,
    maximum,
    mean,
    minimum,
    relu,
    sigmoid,
    split,
    sqrt,
    stack,
    sum,
    tanh,
    topk,
    where,
)

bool = np.bool_  # noqa: A001 (PyTorch's name, as torch.bool)

__all__ = [
    "arange", "argmax", "bool", "cat", "chunk", "clamp", "detect_anomaly", "enable_grad", "exp",
    "float32", "float64", "from_numpy", "full", "Function", "fused", "gather", "gradcheck",
    "GradcheckError", "int32", "int64", "is_fused_enabled", "is_grad_enabled", "load", "log",
    "manual_seed", "masked_fill", "matmul", "maximum", "mean", "minimum", "nn", "no_grad", "ones",
    "ones_like", "optim", "rand", "randn", "relu", "save", "set_fused", "sigmoid", "split", "sqrt",
    "stack", "sum", "tanh", "Tensor", "tensor", "topk", "where", "zeros", "zeros_like",
]  # fmt: skip
