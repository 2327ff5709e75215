"""Which softmax kernels short rows should take: compiled with or without vector interleaving.

    python benchmarks/bench_short_rows.py

`minigrad.kernels.numba_softmax` compiles each softmax kernel twice: `_short` with LLVM's
vector interleaving off (`kernel(interleave=1)`) and `_long` with LLVM's own choice, and sends
rows of at most `SHORT_ROW` columns to the first. This times both, forward and backward, on
float32 blocks of 73,728 values (the benchmark's attention scores) cut into rows of different
lengths, and prints median µs per call as JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import machine_info, time_call  # noqa: E402

from minigrad.kernels import numba_softmax as ns  # noqa: E402

N_VALUES = 73_728
COLUMNS = (16, 24, 32, 40, 48, 56, 63, 64, 128, 8000)


def time_kernels(forward, backward, x, grad, scale):
    """(forward µs, backward µs) of one compiled pair on the rows of x."""
    mask_rows, mask_index = ns.pack_mask(None, x.shape)
    y = np.empty_like(x)
    dx = np.empty_like(x)
    fwd = time_call(lambda: forward(x, scale, mask_rows, mask_index, y))
    bwd = time_call(lambda: backward(y, grad, scale, dx))
    return round(fwd * 1e6, 1), round(bwd * 1e6, 1)


def main() -> None:
    rng = np.random.default_rng(0)
    scale = np.float32(0.25)
    results = []
    for columns in COLUMNS:
        shape = (max(1, N_VALUES // columns), columns)
        x = rng.standard_normal(shape, dtype=np.float32)
        grad = rng.standard_normal(shape, dtype=np.float32)
        short = time_kernels(ns._softmax_short, ns._softmax_backward_short, x, grad, scale)
        long = time_kernels(ns._softmax_long, ns._softmax_backward_long, x, grad, scale)
        results.append({
            "columns": columns, "rows": shape[0],
            "no_interleave_fwd_bwd_us": short, "llvm_choice_fwd_bwd_us": long,
            "softmax_uses": "no_interleave" if columns <= ns.SHORT_ROW else "llvm_choice",
        })  # fmt: skip
    print(json.dumps({"machine": machine_info(), "short_row": ns.SHORT_ROW, "results": results}))


if __name__ == "__main__":
    main()
