"""Numba layer norm over the last axis of (N, D): forward and backward, each one pass per row
(row statistics, then the output, while the row is in cache). Same semantics as `reference.py`.

Backward accumulates grad_weight and grad_bias over rows; the parallel driver gives each chunk of
rows its own partial sums and adds them at the end, so threads never write the same memory.
"""

import numpy as np
from numba import prange

from ._jit import chunk, kernel, parallel_chunks, use_parallel

_WORK_PER_ELEMENT = 0.5  # a few flops per element: threads pay off at twice the usual size


@kernel()
def _forward_rows(x, weight, bias, eps, out, mean, rstd, lo, hi):
    """Rows lo..hi: mean, rstd = 1/sqrt(var + eps), y = (x - mean) rstd weight + bias."""
    zero, n = x.dtype.type(0), x.dtype.type(x.shape[1])
    for r in range(lo, hi):
        total = zero
        for j in range(x.shape[1]):
            total += x[r, j]
        mu = total / n
        sq = zero
        for j in range(x.shape[1]):
            d = x[r, j] - mu
            sq += d * d
        rs = x.dtype.type(1) / np.sqrt(sq / n + eps)
        mean[r], rstd[r] = mu, rs
        for j in range(x.shape[1]):
            out[r, j] = (x[r, j] - mu) * rs * weight[j] + bias[j]


@kernel(parallel=True)
def _forward_parallel(x, weight, bias, eps, out, mean, rstd, n):
    """`_forward_rows` over all rows, cut into n chunks spread across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, x.shape[0])
        _forward_rows(x, weight, bias, eps, out, mean, rstd, lo, hi)


@kernel()
def _backward_rows(grad_y, x, mean, rstd, weight, out, grad_weight, grad_bias, lo, hi):
    """Rows lo..hi of grad_x; adds their grad_y * xhat and grad_y into grad_weight / grad_bias."""
    zero, n = x.dtype.type(0), x.dtype.type(x.shape[1])
    for r in range(lo, hi):
        mu, rs = mean[r], rstd[r]
        sum_g = zero
        sum_gx = zero
        for j in range(x.shape[1]):
            g = grad_y[r, j] * weight[j]
            sum_g += g
            sum_gx += g * ((x[r, j] - mu) * rs)
        sum_g /= n
        sum_gx /= n
        for j in range(x.shape[1]):
            xhat = (x[r, j] - mu) * rs
            out[r, j] = rs * (grad_y[r, j] * weight[j] - (sum_g + xhat * sum_gx))
            grad_weight[j] += grad_y[r, j] * xhat
            grad_bias[j] += grad_y[r, j]


@kernel(parallel=True)
def _backward_parallel(grad_y, x, mean, rstd, weight, out, weight_parts, bias_parts):
    """`_backward_rows` in chunks across threads, chunk c summing into weight_parts[c]."""
    n = weight_parts.shape[0]
    for c in prange(n):
        lo, hi = chunk(c, n, x.shape[0])
        _backward_rows(grad_y, x, mean, rstd, weight, out, weight_parts[c], bias_parts[c], lo, hi)


def layer_norm_forward(x, weight, bias, eps):
    """Numba version of `reference.layer_norm_forward`."""
    x = np.ascontiguousarray(x)
    n, d = x.shape
    weight = np.ones(d, x.dtype) if weight is None else np.ascontiguousarray(weight)
    bias = np.zeros(d, x.dtype) if bias is None else np.ascontiguousarray(bias)
    out = np.empty_like(x)
    mean, rstd = np.empty(n, x.dtype), np.empty(n, x.dtype)
    args = (x, weight, bias, x.dtype.type(eps), out, mean, rstd)
    if use_parallel(x.size, _WORK_PER_ELEMENT):
        _forward_parallel(*args, parallel_chunks(n))
    else:
        _forward_rows(*args, 0, n)
    return out, mean, rstd


def layer_norm_backward(grad_y, x, mean, rstd, weight):
    """Numba version of `reference.layer_norm_backward`."""
    x, grad_y = np.ascontiguousarray(x), np.ascontiguousarray(grad_y)
    n, d = x.shape
    w = np.ones(d, x.dtype) if weight is None else np.ascontiguousarray(weight)
    args = (grad_y, x, np.ascontiguousarray(mean), np.ascontiguousarray(rstd), w)
    out = np.empty_like(x)
    if use_parallel(x.size, _WORK_PER_ELEMENT):
        parts = np.zeros((2, parallel_chunks(n), d), x.dtype)
        _backward_parallel(*args, out, parts[0], parts[1])
        grad_weight, grad_bias = parts.sum(axis=1)
    else:
        grad_weight, grad_bias = np.zeros(d, x.dtype), np.zeros(d, x.dtype)
        _backward_rows(*args, out, grad_weight, grad_bias, 0, n)
    if weight is None:
        return out, None, None
    return out, grad_weight, grad_bias
