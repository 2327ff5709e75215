"""Numba optimiser steps: the whole Adam/AdamW and SGD updates in one pass over the parameter,
in place. Same semantics as `reference.py` (PyTorch's documented algorithms).

The reference touches each 1M-float state array about a dozen times (one numpy op each);
here every element is read once and written once. Coefficients that depend only on the step
(bias corrections) are computed once in Python, in float64, then rounded to the parameter dtype.
"""

import math

import numpy as np
from numba import prange

from ._jit import chunk, kernel, parallel_chunks, use_parallel


@kernel()
def _adam_range(param, grad, exp_avg, exp_avg_sq, coef, decoupled, lo, hi):
    """Elements lo..hi of one Adam(W) step; coef = [wd, decay, b1, 1-b1, b2, 1-b2, step_size,
    sqrt(1 - b2^t), eps] (an array of param's dtype) with decay = 1 - lr wd (AdamW) and
    step_size = lr / (1 - b1^t)."""
    wd, decay, b1, c1, b2, c2 = coef[0], coef[1], coef[2], coef[3], coef[4], coef[5]
    step_size, sqrt_bc2, eps = coef[6], coef[7], coef[8]
    # Slices, so that indices run from 0: a loop from `lo` gets a negative-index check per access,
    # which stops LLVM from vectorising it.
    params, grads, avgs, avg_sqs = param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi]
    for i in range(params.shape[0]):
        p, g = params[i], grads[i]
        if decoupled:
            p = p * decay
        elif wd != 0:
            g = g + wd * p
        m = b1 * avgs[i] + c1 * g
        v = b2 * avg_sqs[i] + c2 * g * g
        avgs[i], avg_sqs[i] = m, v
        params[i] = p - step_size * m / (np.sqrt(v) / sqrt_bc2 + eps)


@kernel(parallel=True)
def _adam_parallel(param, grad, exp_avg, exp_avg_sq, coef, decoupled, n):
    """`_adam_range` over the whole vector, cut into n chunks spread across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, param.shape[0])
        _adam_range(param, grad, exp_avg, exp_avg_sq, coef, decoupled, lo, hi)


@kernel()
def _sgd(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first_step, use_buf):
    """One SGD step over the whole vector (see `reference.sgd_step`)."""
    keep = param.dtype.type(1) - dampening
    for i in range(param.shape[0]):
        g = grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        if use_buf:
            b = g if first_step else momentum * buf[i] + keep * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g


def adam_step(
    param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled
):
    """Numba version of `reference.adam_step`."""
    coef = np.array(
        [
            weight_decay,
            1.0 - lr * weight_decay,
            beta1,
            1.0 - beta1,
            beta2,
            1.0 - beta2,
            lr / (1.0 - beta1**step),
            math.sqrt(1.0 - beta2**step),
            eps,
        ],
        dtype=param.dtype,
    )
    g = np.ascontiguousarray(grad).reshape(-1)

    def update(p, m, v):
        args = (p, g, m, v, coef, bool(decoupled))
        if use_parallel(p.size):
            _adam_parallel(*args, parallel_chunks(p.size))
        else:
            _adam_range(*args, 0, p.size)

    _update_in_place(update, param, exp_avg, exp_avg_sq)


def sgd_step(
    param, grad, momentum_buf, lr, momentum, dampening, weight_decay, nesterov, first_step
):
    """Numba version of `reference.sgd_step`."""
    use_buf = momentum != 0.0
    buf = momentum_buf if use_buf else np.empty(0, param.dtype)
    dtype = param.dtype.type
    g = np.ascontiguousarray(grad).reshape(-1)
    args = (dtype(lr), dtype(momentum), dtype(dampening), dtype(weight_decay))
    _update_in_place(
        lambda p, b: _sgd(p, g, b, *args, bool(nesterov), bool(first_step), use_buf), param, buf
    )


def _update_in_place(update, *arrays):
    """Call update(*flat) with flat C-contiguous views of arrays it changes in place; an array
    that is not contiguous is worked on as a contiguous copy, written back afterwards. A plain
    call, not a context manager: optimizers call it once per parameter and step."""
    work = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
    update(*[w.reshape(-1) for w in work])
    for original, copy in zip(arrays, work, strict=True):
        if copy is not original:
            original[...] = copy
