"""Which product order `Linear` should use: x W^T, or (W x^T)^T, for the shapes it meets.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_linear_order.py

Both give the same numbers; OpenBLAS runs them as different kernels. `minigrad.ops.neural.Linear`
takes (W x^T)^T for at most `FEW_ROWS` rows (decoding feeds one row per sentence) and x W^T
otherwise. This prints both timings (median µs, bias add included) per (rows, in, out) as JSON,
and both again followed by the row-wise argmax of greedy decoding: (W x^T)^T leaves the result
transposed in memory, where numpy's argmax strides through it and `kernels.argmax_rows` does
not; both argmaxes are timed.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import machine_info, time_call  # noqa: E402

from minigrad import kernels  # noqa: E402
from minigrad.ops.neural import FEW_ROWS  # noqa: E402

SHAPES = [  # (rows, in_features, out_features)
    (32, 64, 64), (32, 64, 256), (32, 256, 64), (32, 64, 1000),  # tiny decoding step
    (32, 128, 128), (32, 128, 512), (32, 512, 128), (32, 128, 8000),  # small decoding step
    (64, 64, 64), (64, 128, 8000), (128, 64, 64),  # just above the threshold
    (768, 64, 64), (768, 64, 256), (2048, 128, 128), (2048, 128, 8000),  # training steps
]  # fmt: skip


def row_major(x, w, b):
    """x W^T + b, the textbook order."""
    y = x @ w.T
    y += b
    return y


def weight_major(x, w, b):
    """(W x^T)^T + b: the same values through W's rows (bias added before the transpose, by the
    kernel `Linear` uses)."""
    y = w @ x.T
    kernels.add_row_bias(y, b)
    return y.T


def row_major_argmax(x, w, b):
    """The row-wise argmax of `row_major`, as greedy decoding takes it."""
    return row_major(x, w, b).argmax(axis=1)


def weight_major_numpy_argmax(x, w, b):
    """The row-wise argmax of `weight_major` by numpy, striding through the transposed result."""
    return weight_major(x, w, b).argmax(axis=1)


def weight_major_argmax(x, w, b):
    """The row-wise argmax of `weight_major` by `kernels.argmax_rows`, as greedy decoding takes
    it."""
    return kernels.argmax_rows(weight_major(x, w, b))


def main() -> None:
    rng = np.random.default_rng(0)
    results = []
    for rows, n_in, n_out in SHAPES:
        x = rng.standard_normal((rows, n_in), dtype=np.float32)
        w = rng.standard_normal((n_out, n_in), dtype=np.float32)
        b = rng.standard_normal(n_out, dtype=np.float32)
        args = (x, w, b)
        times = {
            f.__name__: time_call(lambda f=f, a=args: f(*a)) * 1e6
            for f in (
                row_major,
                weight_major,
                row_major_argmax,
                weight_major_argmax,
                weight_major_numpy_argmax,
            )
        }
        results.append({
            "rows": rows, "in": n_in, "out": n_out,
            "x_wT_us": round(times["row_major"], 1),
            "w_xT_T_us": round(times["weight_major"], 1),
            "weight_major_speedup": round(times["row_major"] / times["weight_major"], 2),
            "then_argmax_us": [round(times["row_major_argmax"], 1),
                               round(times["weight_major_argmax"], 1)],
            "weight_major_speedup_with_argmax": round(
                times["row_major_argmax"] / times["weight_major_argmax"], 2),
            "weight_major_then_numpy_argmax_us": round(times["weight_major_numpy_argmax"], 1),
            "linear_uses": "weight_major" if rows <= FEW_ROWS else "row_major",
        })  # fmt: skip
    print(
        json.dumps(
            {
                "machine": machine_info(),
                "few_rows": FEW_ROWS,
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
