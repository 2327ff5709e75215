"""Which product order `Linear` should use: x W^T, or (W x^T)^T, for the shapes it meets.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_linear_order.py

Both give the same numbers; OpenBLAS runs them as different kernels. `minigrad.ops.nn.Linear`
takes (W x^T)^T for at most `FEW_ROWS` rows (decoding feeds one row per sentence) and x W^T
otherwise; this prints both timings (median µs, bias add included) per (rows, in, out) as JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import machine_info, time_call  # noqa: E402

from minigrad.ops.nn import FEW_ROWS  # noqa: E402

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
    """(W x^T)^T + b: the same values through W's rows."""
    y = (w @ x.T).T
    y += b
    return y


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
            for f in (row_major, weight_major)
        }
        results.append({
            "rows": rows, "in": n_in, "out": n_out,
            "x_wT_us": round(times["row_major"], 1),
            "w_xT_T_us": round(times["weight_major"], 1),
            "weight_major_speedup": round(times["row_major"] / times["weight_major"], 2),
            "linear_uses": "weight_major" if rows <= FEW_ROWS else "row_major",
        })  # fmt: skip
    print(
        json.dumps({"machine": machine_info(), "few_rows": FEW_ROWS, "results": results}, indent=1)
    )


if __name__ == "__main__":
    main()
