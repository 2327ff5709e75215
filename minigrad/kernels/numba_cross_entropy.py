"""Numba cross-entropy: log-softmax + NLL + label smoothing fused, forward and backward.
Same semantics as `reference.py`.

Forward reads each row of logits from memory once: a first sweep takes the max and the sum
(for the smoothing term), a second sweep sums exp(x - max) while the row is still in L1/L2
(a row of 8000 float32 is 32 KB), so no (N, C) temporary is ever written. Backward writes
g * (softmax - target distribution) in one sweep, recomputing softmax from the saved lse.

`cross_entropy_fused` does both in one visit of each row, with a bias added on the way: it
writes the gradient over the logits themselves (no second (N, C) array, no second read) and sums
the bias gradient per chunk of rows, the chunks then in a fixed order.
"""

import numpy as np
from numba import prange

from ._jit import chunk, kernel, parallel_chunks, use_parallel
from ._jit_math import exp, fmax


@kernel()
def _forward_rows(logits, target, ignore_index, smoothing, losses, lse, lo, hi):
    """Rows lo..hi: lse_i and loss_i = (1-eps)(lse_i - x_it) + eps(lse_i - mean_c x_ic)."""
    zero, one = logits.dtype.type(0), logits.dtype.type(1)
    n_classes = logits.dtype.type(logits.shape[1])
    for r in range(lo, hi):
        m = logits.dtype.type(-np.inf)
        row_sum = zero
        for j in range(logits.shape[1]):
            m = fmax(m, logits[r, j])
            row_sum += logits[r, j]
        if m == -np.inf:  # a row of all -inf: lse = -inf, not NaN
            m = zero
        total = zero
        for j in range(logits.shape[1]):
            total += exp(logits[r, j] - m)
        lse[r] = m + np.log(total)
        t = target[r]
        if t == ignore_index:
            losses[r] = zero
        else:
            losses[r] = (one - smoothing) * (lse[r] - logits[r, t])
            if smoothing != zero:  # skipped when 0: masked (-inf) logits would give NaN
                losses[r] += smoothing * (lse[r] - row_sum / n_classes)


@kernel(parallel=True)
def _forward_parallel(logits, target, ignore_index, smoothing, losses, lse, n):
    """`_forward_rows` over all rows, cut into n chunks spread across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, logits.shape[0])
        _forward_rows(logits, target, ignore_index, smoothing, losses, lse, lo, hi)


@kernel()
def _backward_rows(logits, lse, target, grad_losses, ignore_index, smoothing, out, lo, hi):
    """Rows lo..hi of grad = g_i (exp(x_i - lse_i) - eps/C - (1 - eps) onehot(t_i))."""
    uniform = smoothing / logits.dtype.type(logits.shape[1])
    one = logits.dtype.type(1)
    for r in range(lo, hi):
        t = target[r]
        if t == ignore_index:
            out[r, :] = logits.dtype.type(0)
            continue
        g, row_lse = grad_losses[r], lse[r]
        for j in range(logits.shape[1]):
            out[r, j] = g * (exp(logits[r, j] - row_lse) - uniform)
        out[r, t] -= g * (one - smoothing)


@kernel(parallel=True)
def _backward_parallel(logits, lse, target, grad_losses, ignore_index, smoothing, out, n):
    """`_backward_rows` over all rows, cut into n chunks spread across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, logits.shape[0])
        _backward_rows(logits, lse, target, grad_losses, ignore_index, smoothing, out, lo, hi)


def cross_entropy_forward(logits, target, ignore_index, label_smoothing):
    """Numba version of `reference.cross_entropy_forward`."""
    logits = np.ascontiguousarray(logits)
    losses = np.empty(len(logits), dtype=logits.dtype)
    lse = np.empty_like(losses)
    args = (logits, target, np.int64(ignore_index), logits.dtype.type(label_smoothing), losses, lse)
    if use_parallel(logits.size):
        _forward_parallel(*args, parallel_chunks(len(logits)))
    else:
        _forward_rows(*args, 0, len(logits))
    return losses, lse


def cross_entropy_backward(logits, lse, target, grad_losses, ignore_index, label_smoothing):
    """Numba version of `reference.cross_entropy_backward`."""
    logits = np.ascontiguousarray(logits)
    out = np.empty_like(logits)
    smoothing = logits.dtype.type(label_smoothing)
    args = (logits, np.ascontiguousarray(lse), target, np.ascontiguousarray(grad_losses))
    args += (np.int64(ignore_index), smoothing, out)
    if use_parallel(logits.size):
        _backward_parallel(*args, parallel_chunks(len(logits)))
    else:
        _backward_rows(*args, 0, len(logits))
    return out


@kernel()
def _fused_rows(logits, bias, target, ignore_index, smoothing, scale, losses, grad_bias, lo, hi):
    """Rows lo..hi of z = logits + bias: loss_i as `_forward_rows`, then logits[i] is replaced
    by scale * (softmax(z_i) - target distribution), which is also added into grad_bias."""
    zero, one = logits.dtype.type(0), logits.dtype.type(1)
    n_classes = logits.dtype.type(logits.shape[1])
    uniform = smoothing / n_classes
    for r in range(lo, hi):
        m = logits.dtype.type(-np.inf)
        row_sum = zero
        for j in range(logits.shape[1]):
            z = logits[r, j] + bias[j]
            m = fmax(m, z)
            row_sum += z
        if m == -np.inf:  # a row of all -inf: lse = -inf, not NaN
            m = zero
        total = zero
        for j in range(logits.shape[1]):
            total += exp(logits[r, j] + bias[j] - m)
        lse = m + np.log(total)
        t = target[r]
        if t == ignore_index:
            losses[r] = zero
            logits[r, :] = zero
            continue
        losses[r] = (one - smoothing) * (lse - (logits[r, t] + bias[t]))
        if smoothing != zero:  # skipped when 0: masked (-inf) logits would give NaN
            losses[r] += smoothing * (lse - row_sum / n_classes)
        for j in range(logits.shape[1]):
            g = scale * (exp(logits[r, j] + bias[j] - lse) - uniform)
            logits[r, j] = g
            grad_bias[j] += g
        logits[r, t] -= scale * (one - smoothing)
        grad_bias[t] -= scale * (one - smoothing)


@kernel(parallel=True)
def _fused_parallel(logits, bias, target, ignore_index, smoothing, scale, losses, bias_parts):
    """`_fused_rows` in chunks across threads, chunk c summing into bias_parts[c]."""
    n = bias_parts.shape[0]
    for c in prange(n):
        lo, hi = chunk(c, n, logits.shape[0])
        _fused_rows(logits, bias, target, ignore_index, smoothing, scale, losses, bias_parts[c],
                    lo, hi)  # fmt: skip


def cross_entropy_fused(logits, bias, target, ignore_index, label_smoothing, scale):
    """Numba version of `reference.cross_entropy_fused`."""
    n, classes = logits.shape
    dtype = logits.dtype.type
    b = np.zeros(classes, logits.dtype) if bias is None else np.ascontiguousarray(bias)
    losses = np.empty(n, dtype=logits.dtype)
    args = (logits, b, target, np.int64(ignore_index), dtype(label_smoothing), dtype(scale), losses)
    if use_parallel(logits.size):
        parts = np.zeros((parallel_chunks(n), classes), logits.dtype)
        _fused_parallel(*args, parts)
        grad_bias = parts.sum(axis=0)
    else:
        grad_bias = np.zeros(classes, logits.dtype)
        _fused_rows(*args, grad_bias, 0, n)
    return losses, logits, (None if bias is None else grad_bias)
