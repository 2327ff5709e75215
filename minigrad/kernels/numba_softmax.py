"""Numba softmax-family kernels: masked softmax (scale + mask + softmax fused), its backward,
log-softmax forward and backward. Same semantics as `reference.py`.

Every kernel works on rows of a C-contiguous (R, C) view; a mask is packed once per call into
its distinct rows (M, C) and an index (R,) telling which mask row each data row uses, so any
broadcast (padding masks (B,1,1,L), causal masks (L,L), ...) costs O(M*C + R), not O(R*C).
Per row: one vectorised max, one pass of exp + sum that writes the numerators, one rescale.
"""

import functools
import math

import numba
import numpy as np
from numba import prange

from ._jit import chunk, kernel, parallel_chunks, use_parallel
from ._jit_math import exp, fmax


def as_rows(a):
    """a as a C-contiguous (R, C) array over its last axis (a view when it already is one)."""
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


def pack_mask(mask, shape):
    """(rows (M, C) bool, index (R,) intp) with mask[..., j] of data row r == rows[index[r], j]."""
    n_cols = shape[-1]
    if mask is None:
        return _all_true(n_cols), _row_index((1,), shape[:-1])
    mask_lead = (1,) * (len(shape) - mask.ndim) + mask.shape[:-1]
    if mask.shape[-1] != n_cols:
        mask = np.broadcast_to(mask, mask.shape[:-1] + (n_cols,))
    rows = np.ascontiguousarray(mask).reshape(-1, n_cols).view()
    rows.flags.writeable = False  # always read-only, like the cached rows: one compiled signature
    return rows, _row_index(mask_lead, shape[:-1])


@functools.lru_cache(maxsize=64)
def _row_index(mask_lead, lead):
    """index[r] = the mask row that data row r (of leading shape `lead`) reads, when the mask's
    leading shape `mask_lead` broadcasts to it. Depends on shapes only, so it is cached
    (read-only): attention calls it with the same shapes in every layer."""
    index = np.empty(lead, dtype=np.intp)
    index[...] = np.arange(math.prod(mask_lead), dtype=np.intp).reshape(mask_lead)
    index = index.reshape(-1)
    index.flags.writeable = False
    return index


@functools.lru_cache(maxsize=64)
def _all_true(n_cols):
    """The one mask row of a call without a mask (cached, read-only)."""
    row = np.ones((1, n_cols), dtype=np.bool_)
    row.flags.writeable = False
    return row


SHORT_ROW = 63  # rows of at most this many columns take the kernels compiled with interleave=1


@numba.njit(inline="always")
def _softmax_rows(x, scale, mask_rows, mask_index, out, lo, hi):
    """Rows lo..hi of y = softmax(scale * x) restricted to allowed entries (empty rows -> 0)."""
    zero, ninf = x.dtype.type(0), x.dtype.type(-np.inf)
    for r in range(lo, hi):
        m_row = mask_index[r]
        m = ninf
        for j in range(x.shape[1]):
            m = fmax(m, scale * x[r, j] if mask_rows[m_row, j] else ninf)
        if m == ninf:
            out[r, :] = zero
            continue
        total = zero
        for j in range(x.shape[1]):
            e = exp(scale * x[r, j] - m) if mask_rows[m_row, j] else zero
            out[r, j] = e
            total += e
        inv = x.dtype.type(1) / total
        for j in range(x.shape[1]):
            out[r, j] *= inv


# Two drivers per direction rather than one function compiled twice: Numba's on-disk cache is
# keyed by the function's name, so the two compilations need two names.
@kernel()
def _softmax_long(x, scale, mask_rows, mask_index, out):
    """`_softmax_rows` over all rows, compiled for long rows."""
    _softmax_rows(x, scale, mask_rows, mask_index, out, 0, x.shape[0])


@kernel(interleave=1)
def _softmax_short(x, scale, mask_rows, mask_index, out):
    """`_softmax_rows` over all rows, compiled for short rows (no vector interleaving)."""
    _softmax_rows(x, scale, mask_rows, mask_index, out, 0, x.shape[0])


@kernel(parallel=True)
def _softmax_parallel(x, scale, mask_rows, mask_index, out, n):
    """`_softmax_rows` over all rows, cut into n chunks spread across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, x.shape[0])
        _softmax_rows(x, scale, mask_rows, mask_index, out, lo, hi)


@numba.njit(inline="always")
def _softmax_backward_rows(y, grad_y, scale, out, lo, hi):
    """Rows lo..hi of grad_x = scale * y * (grad_y - sum(grad_y * y))."""
    for r in range(lo, hi):
        dot = y.dtype.type(0)
        for j in range(y.shape[1]):
            dot += grad_y[r, j] * y[r, j]
        for j in range(y.shape[1]):
            out[r, j] = scale * y[r, j] * (grad_y[r, j] - dot)


@kernel()
def _softmax_backward_long(y, grad_y, scale, out):
    """`_softmax_backward_rows` over all rows, compiled for long rows."""
    _softmax_backward_rows(y, grad_y, scale, out, 0, y.shape[0])


@kernel(interleave=1)
def _softmax_backward_short(y, grad_y, scale, out):
    """`_softmax_backward_rows` over all rows, compiled for short rows (no vector interleaving)."""
    _softmax_backward_rows(y, grad_y, scale, out, 0, y.shape[0])


@kernel(parallel=True)
def _softmax_backward_parallel(y, grad_y, scale, out, n):
    """`_softmax_backward_rows` over all rows, cut into n chunks spread across threads."""
    for c in prange(n):
        lo, hi = chunk(c, n, y.shape[0])
        _softmax_backward_rows(y, grad_y, scale, out, lo, hi)


@kernel()
def _log_softmax_rows(x, out):
    """y = (x - m) - log(sum exp(x - m)) per row; rows of -inf stay -inf."""
    ninf = x.dtype.type(-np.inf)
    for r in range(x.shape[0]):
        m = ninf
        for j in range(x.shape[1]):
            m = fmax(m, x[r, j])
        if m == ninf:
            out[r, :] = ninf
            continue
        total = x.dtype.type(0)
        for j in range(x.shape[1]):
            total += exp(x[r, j] - m)
        lse = np.log(total)
        for j in range(x.shape[1]):
            out[r, j] = (x[r, j] - m) - lse


@kernel()
def _log_softmax_backward_rows(y, grad_y, out):
    """grad_x = grad_y - exp(y) * sum(grad_y) per row; zero for rows that were all -inf."""
    ninf = y.dtype.type(-np.inf)
    for r in range(y.shape[0]):
        m = ninf
        total = y.dtype.type(0)
        for j in range(y.shape[1]):
            m = fmax(m, y[r, j])
            total += grad_y[r, j]
        if m == ninf:
            out[r, :] = y.dtype.type(0)
            continue
        for j in range(y.shape[1]):
            out[r, j] = grad_y[r, j] - exp(y[r, j]) * total


def masked_softmax_forward(x, scale, mask):
    """Numba version of `reference.masked_softmax_forward`."""
    rows = as_rows(x)
    mask_rows, mask_index = pack_mask(mask, x.shape)
    out = np.empty_like(rows)
    scale = rows.dtype.type(scale)
    if use_parallel(rows.size):
        _softmax_parallel(rows, scale, mask_rows, mask_index, out, parallel_chunks(len(rows)))
    elif rows.shape[1] <= SHORT_ROW:
        _softmax_short(rows, scale, mask_rows, mask_index, out)
    else:
        _softmax_long(rows, scale, mask_rows, mask_index, out)
    return out.reshape(x.shape)


def softmax_backward(y, grad_y, scale):
    """Numba version of `reference.softmax_backward`."""
    y_rows, g_rows = as_rows(y), as_rows(grad_y)
    out = np.empty_like(y_rows)
    scale = y_rows.dtype.type(scale)
    if use_parallel(y_rows.size):
        _softmax_backward_parallel(y_rows, g_rows, scale, out, parallel_chunks(len(y_rows)))
    elif y_rows.shape[1] <= SHORT_ROW:
        _softmax_backward_short(y_rows, g_rows, scale, out)
    else:
        _softmax_backward_long(y_rows, g_rows, scale, out)
    return out.reshape(y.shape)


def log_softmax_forward(x):
    """Numba version of `reference.log_softmax_forward`."""
    rows = as_rows(x)
    out = np.empty_like(rows)
    _log_softmax_rows(rows, out)
    return out.reshape(x.shape)


def log_softmax_backward(y, grad_y):
    """Numba version of `reference.log_softmax_backward`."""
    y_rows = as_rows(y)
    out = np.empty_like(y_rows)
    _log_softmax_backward_rows(y_rows, as_rows(grad_y), out)
    return out.reshape(y.shape)
