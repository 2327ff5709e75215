"""minigrad: a small, readable reverse-mode tensor autograd engine on numpy.

    import minigrad
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])

Read `minigrad.autograd` first: it is the whole idea of backpropagation on one screen.
"""

import numpy as np

from minigrad import nn, optim
from minigrad.autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.fusion import fused, is_fused_enabled, set_fused
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.random import manual_seed
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, float32, float64, int32, int64
from minigrad.threads import get_num_threads, set_num_threads, use_num_threads
from minigrad.toplevel import (
    all,
    allclose,
    any,
    argmax,
    bmm,
    cat,
    ceil,
    chunk,
    clamp,
    cumsum,
    einsum,
    exp,
    flip,
    floor,
    gather,
    isclose,
    log,
    logsumexp,
    masked_fill,
    matmul,
    maximum,
    mean,
    minimum,
    norm,
    prod,
    relu,
    roll,
    round,
    sigmoid,
    sign,
    split,
    sqrt,
    stack,
    std,
    sum,
    tanh,
    topk,
    tril,
    triu,
    unbind,
    where,
)

bool = np.bool_  # noqa: A001 (PyTorch's name, as torch.bool)

__all__ = [
    "all", "allclose", "any", "arange", "argmax", "bmm", "bool", "cat", "ceil", "chunk", "clamp",
    "cumsum", "detect_anomaly", "einsum", "empty", "enable_grad", "exp", "eye", "flip", "float32",
    "float64", "floor", "from_numpy", "full", "Function", "fused", "gather", "get_num_threads",
    "gradcheck", "GradcheckError", "gradgradcheck", "int32", "int64", "is_fused_enabled",
    "is_grad_enabled", "isclose", "linspace", "load", "log", "logsumexp", "manual_seed",
    "masked_fill", "matmul", "maximum", "mean", "minimum", "nn", "no_grad", "norm", "ones",
    "ones_like", "optim", "prod", "rand", "randint", "randn", "relu", "roll", "round", "save",
    "set_fused", "set_grad_enabled", "set_num_threads", "sigmoid", "sign", "split", "sqrt",
    "stack", "std", "sum", "tanh", "Tensor", "tensor", "topk", "tril", "triu", "unbind",
    "use_num_threads", "where", "zeros", "zeros_like",
]  # fmt: skip
