"""Numba elementwise kernels: GELU (exact and tanh) and dropout, forward and backward, each one
pass over flat C-contiguous arrays. Same semantics as `reference.py`.

The tanh GELU uses x * sigmoid(2u) with the vectorised `exp`; the exact GELU calls libm erfc in
float64 per element. Dropout draws from `counter_rng` (same stream as the reference), so the
parallel driver produces the same mask as the serial loop.
"""

import math

import numpy as np
from numba import njit, prange

from . import counter_rng
from ._jit import chunk, kernel, parallel_chunks, use_parallel
from ._jit_math import exp
from .reference import dropout_scale

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_CUBIC = 0.044715
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_mix = njit(inline="always")(counter_rng.mix)


@kernel()
def _gelu_range(x, tanh, out, lo, hi):
    """out[lo:hi] = GELU(x): x sigmoid(2u) (tanh form) or x erfc(-x/sqrt 2)/2 in float64 (exact)."""
    c, a = x.dtype.type(_SQRT_2_OVER_PI), x.dtype.type(_CUBIC)
    one, two = x.dtype.type(1), x.dtype.type(2)
    xs, outs = x[lo:hi], out[lo:hi]  # slices: indices from 0 vectorise (see numba_optim)
    for i in range(xs.shape[0]):
        v = xs[i]
        if tanh:
            u = c * (v + a * v * v * v)
            outs[i] = v / (one + exp(-two * u))
        else:
            w = np.float64(v)
            outs[i] = 0.5 * w * math.erfc(-w * _INV_SQRT_2)


@kernel()
def _gelu_backward_range(x, grad_y, tanh, out, lo, hi):
    """out[lo:hi] = grad_y * GELU'(x) (see `reference.gelu_backward`)."""
    c, a = x.dtype.type(_SQRT_2_OVER_PI), x.dtype.type(_CUBIC)
    one, two, three = x.dtype.type(1), x.dtype.type(2), x.dtype.type(3)
    xs, grads, outs = x[lo:hi], grad_y[lo:hi], out[lo:hi]
    for i in range(xs.shape[0]):
        v = xs[i]
        if tanh:
            u = c * (v + a * v * v * v)
            s = one / (one + exp(-two * u))
            outs[i] = grads[i] * (s + two * v * s * (one - s) * c * (one + three * a * v * v))
        else:
            w = np.float64(v)
            cdf = 0.5 * math.erfc(-w * _INV_SQRT_2)
            outs[i] = grads[i] * (cdf + w * _INV_SQRT_2PI * np.exp(-0.5 * w * w))


@kernel(parallel=True)
def _gelu_parallel(x, grad_y, tanh, backward, out, n):
    """The GELU forward (backward=False, grad_y unused) or backward range kernel, across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, x.shape[0])
        if backward:
            _gelu_backward_range(x, grad_y, tanh, out, lo, hi)
        else:
            _gelu_range(x, tanh, out, lo, hi)


@kernel()
def _dropout_range(x, key, offset, threshold, scale, out, keep, lo, hi):
    """out[lo:hi] = x * scale where the counter stream's bits >= threshold, else 0."""
    zero = x.dtype.type(0)
    xs, outs, keeps = x[lo:hi], out[lo:hi], keep[lo:hi]
    first = offset + np.uint64(lo + 1)
    for i in range(xs.shape[0]):
        bits = _mix(key + (first + np.uint64(i)) * _GAMMA) >> np.uint64(32)
        kept = bits >= threshold
        keeps[i] = kept
        outs[i] = xs[i] * scale if kept else zero


@kernel()
def _dropout_backward_range(grad_y, keep, scale, out, lo, hi):
    """out[lo:hi] = grad_y * scale where kept, else 0."""
    zero = grad_y.dtype.type(0)
    grads, keeps, outs = grad_y[lo:hi], keep[lo:hi], out[lo:hi]
    for i in range(grads.shape[0]):
        outs[i] = grads[i] * scale if keeps[i] else zero


@kernel(parallel=True)
def _dropout_parallel(x, key, offset, threshold, scale, out, keep, n):
    """`_dropout_range` across threads (the counters make the mask independent of the split)."""
    for c in prange(n):
        lo, hi = chunk(c, n, x.shape[0])
        _dropout_range(x, key, offset, threshold, scale, out, keep, lo, hi)


@kernel(parallel=True)
def _dropout_backward_parallel(grad_y, keep, scale, out, n):
    """`_dropout_backward_range` across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, grad_y.shape[0])
        _dropout_backward_range(grad_y, keep, scale, out, lo, hi)


def _flat(a):
    """a as a flat C-contiguous array (a view when possible)."""
    return np.ascontiguousarray(a).reshape(-1)


def gelu_forward(x, approximate):
    """Numba version of `reference.gelu_forward`."""
    flat = _flat(x)
    out = np.empty_like(flat)
    tanh = approximate == "tanh"
    if use_parallel(flat.size):
        _gelu_parallel(flat, flat, tanh, False, out, parallel_chunks(flat.size))
    else:
        _gelu_range(flat, tanh, out, 0, flat.size)
    return out.reshape(x.shape)


def gelu_backward(x, grad_y, approximate):
    """Numba version of `reference.gelu_backward`."""
    flat, grad = _flat(x), _flat(grad_y)
    out = np.empty_like(flat)
    tanh = approximate == "tanh"
    if use_parallel(flat.size):
        _gelu_parallel(flat, grad, tanh, True, out, parallel_chunks(flat.size))
    else:
        _gelu_backward_range(flat, grad, tanh, out, 0, flat.size)
    return out.reshape(x.shape)


def dropout_forward(x, p, key, offset):
    """Numba version of `reference.dropout_forward`."""
    flat = _flat(x)
    out = np.empty_like(flat)
    keep = np.empty(flat.size, dtype=np.bool_)
    scale = flat.dtype.type(dropout_scale(p))
    args = (flat, np.uint64(key), np.uint64(offset), counter_rng.threshold(p), scale, out, keep)
    if use_parallel(flat.size):
        _dropout_parallel(*args, parallel_chunks(flat.size))
    else:
        _dropout_range(*args, 0, flat.size)
    return out.reshape(x.shape), keep.reshape(x.shape)


def dropout_backward(grad_y, keep_mask, p):
    """Numba version of `reference.dropout_backward`."""
    grad, keep = _flat(grad_y), _flat(keep_mask)
    out = np.empty_like(grad)
    scale = grad.dtype.type(dropout_scale(p))
    if use_parallel(grad.size):
        _dropout_backward_parallel(grad, keep, scale, out, parallel_chunks(grad.size))
    else:
        _dropout_backward_range(grad, keep, scale, out, 0, grad.size)
    return out.reshape(grad_y.shape)
