"""Autograd overhead per op: minigrad forward (and forward+backward) vs the bare numpy expression.

    python benchmarks/bench_ops.py [--quick]

Prints JSON: for each op and size, microseconds per call and the overhead over numpy.
"""

import argparse
import json

import numpy as np
from common import machine_info, time_call

import minigrad
import minigrad.nn.functional as F

SIZES = {"small (32, 64)": ((32, 64), (64, 64)), "transformer (768, 256)": ((768, 256), (256, 256))}


def cases(x, w, xn, wn):
    """(name, minigrad expression, numpy expression) triples."""
    return [
        ("add", lambda: x + x, lambda: xn + xn),
        ("mul", lambda: x * x, lambda: xn * xn),
        ("exp", lambda: x.exp(), lambda: np.exp(xn)),
        ("relu", lambda: x.relu(), lambda: np.maximum(xn, 0)),
        ("sum(dim=-1)", lambda: x.sum(-1), lambda: xn.sum(-1)),
        ("matmul", lambda: x @ w, lambda: xn @ wn),
        ("transpose", lambda: x.T, lambda: xn.T),
        ("reshape", lambda: x.reshape(-1), lambda: xn.reshape(-1)),
        ("softmax", lambda: F.softmax(x, -1), lambda: _np_softmax(xn)),
    ]


def _np_softmax(v):
    e = np.exp(v - v.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (for tests)")
    args = parser.parse_args()
    repeat, min_time = (2, 0.002) if args.quick else (7, 0.05)
    results = []
    for size, (xs, ws) in SIZES.items():
        xn = np.random.default_rng(0).standard_normal(xs).astype(np.float32)
        wn = np.random.default_rng(1).standard_normal(ws).astype(np.float32)
        x = minigrad.tensor(xn, requires_grad=True)
        w = minigrad.tensor(wn, requires_grad=True)
        for name, ours, theirs in cases(x, w, xn, wn):
            forward = time_call(ours, repeat, min_time)
            with minigrad.no_grad():
                forward_no_grad = time_call(ours, repeat, min_time)
            numpy_time = time_call(theirs, repeat, min_time)

            def step(ours=ours):
                out = ours()
                out.backward(np.ones(out.shape, dtype=np.float32))

            both = time_call(step, repeat, min_time)
            results.append(
                {
                    "op": name,
                    "size": size,
                    "numpy_us": round(numpy_time * 1e6, 2),
                    "forward_us": round(forward * 1e6, 2),
                    "forward_no_grad_us": round(forward_no_grad * 1e6, 2),
                    "forward_backward_us": round(both * 1e6, 2),
                    "forward_overhead_us": round((forward - numpy_time) * 1e6, 2),
                }
            )
    print(json.dumps({"machine": machine_info(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
