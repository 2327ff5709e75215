"""Numba row-wise argmax for arrays stored transposed, as `Linear` leaves few-row outputs.

`Linear` computes few-row products weight-major, (W x^T)^T, so a decoding step's (32, 8000)
logits are the transpose of a C-contiguous (8000, 32) array. numpy's row-wise argmax then
strides through memory (about 240 µs); this kernel walks the stored rows once, keeping the
best value and index of every column (about 40 µs). Same semantics as `reference.argmax_rows`.
"""

import numpy as np

from ._jit import kernel


@kernel()
def _argmax_columns(a, out):
    """out[c] = the row of the first maximum of column c of a (R, C); a NaN is the maximum."""
    best = a[0].copy()
    out[:] = 0
    for r in range(1, a.shape[0]):
        for c in range(a.shape[1]):
            v, b = a[r, c], best[c]
            if (v > b or v != v) and b == b:  # the first NaN wins and stays, as np.argmax
                best[c] = v
                out[c] = r


def argmax_rows(x):
    """Numba version of `reference.argmax_rows`: the kernel for transposed storage, numpy's
    argmax (already a contiguous scan) for row-major arrays."""
    if x.flags.c_contiguous or not x.T.flags.c_contiguous:
        return np.argmax(x, axis=1)
    out = np.empty(x.shape[0], dtype=np.intp)
    _argmax_columns(x.T, out)
    return out
