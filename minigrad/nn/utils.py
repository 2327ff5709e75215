"""Gradient utilities: ``clip_grad_norm_`` and ``clip_grad_value_`` (as ``torch.nn.utils``)."""

import math

import numpy as np

from minigrad import kernels
from minigrad.tensor import Tensor


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> np.float64:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of the vector of all gradient entries (``inf`` for
    the largest absolute value). When it exceeds ``max_norm`` every gradient is multiplied, in
    place, by ``max_norm / (total_norm + 1e-6)`` (PyTorch's coefficient). Parameters without a
    gradient are skipped.

    Returns the total norm *before* clipping as a ``numpy.float64``: a Python ``float``
    subclass that also has ``.item()``, where PyTorch returns a 0-d tensor. As in PyTorch, each
    gradient's norm is computed in its own dtype (the 2-norm by a BLAS dot, redone in float64
    when float32 overflows) and the norms are combined in float64.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return np.float64(0.0)
    if math.isinf(norm_type):
        total = max(float(np.abs(g.data).max(initial=0.0)) for g in grads)
    else:
        total = sum(_power_sum(g.data, norm_type) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        with np.errstate(invalid="ignore"):  # an inf gradient becomes NaN, as in PyTorch
            for g in grads:
                scale = g.data.dtype.type(coef)
                if g.data.flags.writeable:
                    g.data *= scale  # in place, as PyTorch's mul_
                else:
                    g.data = g.data * scale
    return np.float64(total)


def _power_sum(a: np.ndarray, p: float) -> float:
    """sum |a|^p: for p = 2 a dot product in a's dtype (memory-bound, no float64 copy), redone
    in float64 if that overflows; other p in float64."""
    flat = a.reshape(-1)
    if p == 2:
        with np.errstate(over="ignore"):
            total = float(kernels.matmul(flat, flat))
        if math.isfinite(total) or not np.isfinite(flat).all():
            return total
    flat = flat.astype(np.float64)
    return float(kernels.matmul(flat, flat)) if p == 2 else float(np.sum(np.abs(flat) ** p))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry to [-clip_value, clip_value], in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            p.grad.data = np.clip(p.grad.data, -clip_value, clip_value)
