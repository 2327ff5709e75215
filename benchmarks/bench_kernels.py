"""Benchmark minigrad.kernels: the Numba backend against the numpy reference on the model's shapes.

    python benchmarks/bench_kernels.py            # float32, about 40 s, JSON on stdout
    python benchmarks/bench_kernels.py --busy     # the same with a busy-loop process running
    python benchmarks/bench_kernels.py --only softmax,adam --dtype float64
    python benchmarks/bench_kernels.py --sweep    # serial vs multi-threaded drivers by size

Each case times forward and backward separately for both backends (median over 7 rounds of
batches of calls, the backends taking turns, after a warm-up call that also compiles) and reports
time per call, effective GB/s (bytes the kernel must read and write) or GFLOP/s, and the speedup
of numba over numpy on forward + backward. A readable table goes to stderr.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import machine_info  # noqa: E402

import minigrad  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import kernels  # noqa: E402
from minigrad.kernels import _jit  # noqa: E402

BACKENDS = ("numpy", "numba")

ATTENTION = (32, 4, 24, 24, 16)  # batch, heads, query length, key length, head dim
ACTIVATIONS = ((768, 64), (2048, 128))
VOCAB_LOGITS = (2048, 8000)
ROW_BIASES = ((512, 32), (8000, 32))  # a decoding step's (out_features, sentences) products
ADAM_SIZE = 1_000_000
MATMULS = (
    ((768, 64), (64, 256)),
    ((768, 256), (256, 64)),
    ((2048, 128), (128, 8000)),
    ((128, 24, 16), (128, 16, 24)),
    ((128, 24, 24), (128, 24, 16)),
)


def time_alternating(variants, budget):
    """Median seconds per call for each variant {label: (context, fn)}: fn() runs inside
    context(). Variants are sampled in turn, 7 rounds of batches (~budget / 7 per round in
    all), so load from other processes hits them alike; each is warmed up (compiled) first."""
    batch = {}
    for label, (context, fn) in variants.items():
        with context():
            fn()
            start = time.perf_counter()
            fn()
            once = max(time.perf_counter() - start, 1e-7)
        batch[label] = max(1, int(budget / 7 / len(variants) / once))
    samples = {label: [] for label in variants}
    for _ in range(7):
        for label, (context, fn) in variants.items():
            with context():
                start = time.perf_counter()
                for _ in range(batch[label]):
                    fn()
                samples[label].append((time.perf_counter() - start) / batch[label])
    return {label: float(np.median(times)) for label, times in samples.items()}


def on_backend(name):
    """A context factory selecting kernel backend `name`."""
    return lambda: kernels.use_backend(name)


@contextlib.contextmanager
def parallel_threshold(elements):
    """Temporarily set the size from which kernels use their multi-threaded drivers."""
    saved = _jit.PARALLEL_MIN_ELEMENTS
    _jit.PARALLEL_MIN_ELEMENTS = elements
    try:
        yield
    finally:
        _jit.PARALLEL_MIN_ELEMENTS = saved


def measure(name, shape, calls, cost, budget):
    """Time every phase {phase: fn} of one case under both backends; `cost` gives each phase's
    (bytes moved, flops) for the GB/s or GFLOP/s figure."""
    row = {"kernel": name, "shape": shape}
    for phase, fn in calls.items():
        seconds = time_alternating({b: (on_backend(b), fn) for b in BACKENDS}, budget)
        moved, flops = cost[phase]
        for backend in BACKENDS:
            row[f"{phase}_{backend}_us"] = round(seconds[backend] * 1e6, 2)
            if flops:
                row[f"{phase}_{backend}_gflops"] = round(flops / seconds[backend] / 1e9, 2)
            else:
                row[f"{phase}_{backend}_gbps"] = round(moved / seconds[backend] / 1e9, 2)
    total = {b: sum(row[f"{p}_{b}_us"] for p in calls) for b in BACKENDS}
    row["speedup"] = round(total["numpy"] / total["numba"], 2)
    return row


def softmax_case(rng, dtype, budget, causal=True):
    """Softmax forward + backward on attention scores, with a causal mask or none."""
    b, h, lq, lk, _ = ATTENTION
    x = rng.standard_normal((b, h, lq, lk)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    mask = np.tril(np.ones((lq, lk), dtype=bool)) if causal else None
    y = kernels.masked_softmax_forward(x, 0.25, mask)
    calls = {
        "fwd": lambda: kernels.masked_softmax_forward(x, 0.25, mask),
        "bwd": lambda: kernels.softmax_backward(y, g, 0.25),
    }
    n = x.nbytes
    name = "softmax_causal" if causal else "softmax_nomask"
    return measure(name, list(x.shape), calls, {"fwd": (2 * n, 0), "bwd": (3 * n, 0)}, budget)


def attention_case(rng, dtype, budget):
    """The attention op (`F.attention`, one graph node) forward + backward (q, k, v (B, H, L, D),
    causal mask); its softmax runs on the selected backend, its products on BLAS."""
    b, h, lq, lk, d = ATTENTION
    q, k, v = (
        minigrad.tensor(rng.standard_normal((b, h, n, d)).astype(dtype), requires_grad=True)
        for n in (lq, lk, lk)
    )
    mask = np.tril(np.ones((lq, lk), dtype=bool))
    g = rng.standard_normal((b, h, lq, d)).astype(dtype)

    def forward():
        return F.attention(q, k, v, mask, d**-0.5)[0]

    def forward_backward():
        forward().backward(g)

    calls = {"fwd": forward, "fwd_bwd": forward_backward}
    flops = 2 * b * h * lq * lk * d
    cost = {"fwd": (0, 2 * flops), "fwd_bwd": (0, 6 * flops)}
    return measure("attention", [b, h, lq, lk, d], calls, cost, budget)


def layer_norm_case(rng, dtype, shape, budget):
    """Layer norm forward + backward with weight and bias."""
    x = rng.standard_normal(shape).astype(dtype)
    w, bias = rng.standard_normal((2, shape[1])).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    _, mean, rstd = kernels.layer_norm_forward(x, w, bias, 1e-5)
    calls = {
        "fwd": lambda: kernels.layer_norm_forward(x, w, bias, 1e-5),
        "bwd": lambda: kernels.layer_norm_backward(g, x, mean, rstd, w),
    }
    n = x.nbytes
    return measure("layer_norm", list(shape), calls, {"fwd": (2 * n, 0), "bwd": (3 * n, 0)}, budget)


def gelu_case(rng, dtype, shape, approximate, budget):
    """GELU forward + backward."""
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    calls = {
        "fwd": lambda: kernels.gelu_forward(x, approximate),
        "bwd": lambda: kernels.gelu_backward(x, g, approximate),
    }
    n = x.nbytes
    cost = {"fwd": (2 * n, 0), "bwd": (3 * n, 0)}
    return measure(f"gelu_{approximate}", list(shape), calls, cost, budget)


def dropout_case(rng, dtype, shape, budget):
    """Dropout (p = 0.1) forward + backward."""
    x = rng.standard_normal(shape).astype(dtype)
    _, keep = kernels.dropout_forward(x, 0.1)
    calls = {
        "fwd": lambda: kernels.dropout_forward(x, 0.1),
        "bwd": lambda: kernels.dropout_backward(x, keep, 0.1),
    }
    n = x.nbytes
    cost = {"fwd": (2 * n + x.size, 0), "bwd": (2 * n + x.size, 0)}
    return measure("dropout", list(shape), calls, cost, budget)


def row_bias_case(rng, dtype, shape, budget):
    """Bias add on a product stored weight-major, (out_features, rows): decoding's `Linear`."""
    y = rng.standard_normal(shape).astype(dtype)
    bias = rng.standard_normal(shape[0]).astype(dtype)
    calls = {"fwd": lambda: kernels.add_row_bias(y, bias)}
    return measure("add_row_bias", list(shape), calls, {"fwd": (2 * y.nbytes, 0)}, budget)


def cross_entropy_case(rng, dtype, budget):
    """Cross-entropy forward + backward on vocabulary logits, label smoothing 0.1, 10% ignored."""
    n, c = VOCAB_LOGITS
    logits = rng.standard_normal((n, c)).astype(dtype)
    target = rng.integers(0, c, n)
    target[::10] = -100
    grad = np.full(n, 1.0 / n, dtype=dtype)
    _, lse = kernels.cross_entropy_forward(logits, target, -100, 0.1)
    calls = {
        "fwd": lambda: kernels.cross_entropy_forward(logits, target, -100, 0.1),
        "bwd": lambda: kernels.cross_entropy_backward(logits, lse, target, grad, -100, 0.1),
    }
    cost = {"fwd": (logits.nbytes, 0), "bwd": (2 * logits.nbytes, 0)}
    return measure("cross_entropy", [n, c], calls, cost, budget)


def adam_case(rng, dtype, budget):
    """One AdamW step on a 1M-element parameter (the step alone has no backward)."""
    param, grad = rng.standard_normal((2, ADAM_SIZE)).astype(dtype)
    m, v = np.zeros_like(param), np.zeros_like(param)

    def step():
        kernels.adam_step(param, grad, m, v, 10, 1e-3, 0.9, 0.999, 1e-8, 0.01, True)

    calls = {"step": step}
    return measure("adam", [ADAM_SIZE], calls, {"step": (7 * param.nbytes, 0)}, budget)


def matmul_case(rng, dtype, shape_a, shape_b, budget):
    """matmul through the kernel interface, plus bare np.matmul as the yardstick."""
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    batch = int(np.prod(np.broadcast_shapes(shape_a[:-2], shape_b[:-2])))
    flops = 2 * batch * shape_a[-2] * shape_a[-1] * shape_b[-1]
    calls = {"fwd": lambda: kernels.matmul(a, b)}
    row = measure("matmul", [list(shape_a), list(shape_b)], calls, {"fwd": (0, flops)}, budget)
    variants = {
        "bare": (contextlib.nullcontext, lambda: np.matmul(a, b)),
        "numba": (on_backend("numba"), lambda: kernels.matmul(a, b)),
    }
    seconds = time_alternating(variants, budget)
    row["fwd_bare_numpy_us"] = round(seconds["bare"] * 1e6, 2)
    row["fwd_numba_again_us"] = round(seconds["numba"] * 1e6, 2)
    row["numba_vs_bare_numpy"] = round(seconds["bare"] / seconds["numba"], 3)
    return row


def parallel_sweep(rng, dtype, budget):
    """Serial against multi-threaded drivers at growing sizes (the basis of the threshold)."""
    rows = []
    for n in (1 << 16, 1 << 18, 1 << 20, 1 << 22):
        x = rng.standard_normal((n // 512, 512)).astype(dtype)
        flat, grad = x.reshape(-1), rng.standard_normal(n).astype(dtype)
        avg, avg_sq = np.zeros_like(flat), np.zeros_like(flat)
        targets = np.zeros(len(x), dtype=np.int64)
        calls = {
            "softmax": lambda x=x: kernels.masked_softmax_forward(x, 1.0, None),
            "layer_norm": lambda x=x: kernels.layer_norm_forward(x, None, None, 1e-5),
            "gelu_tanh": lambda x=x: kernels.gelu_forward(x, "tanh"),
            "dropout": lambda x=x: kernels.dropout_forward(x, 0.1),
            "cross_entropy": lambda x=x, t=targets: kernels.cross_entropy_forward(x, t),
            "adam": lambda p=flat, g=grad, m=avg, v=avg_sq: kernels.adam_step(
                p, g, m, v, 1, 1e-6, 0.9, 0.999, 1e-8, 0.0, True
            ),
        }
        for name, call in calls.items():
            row = {"kernel": name, "elements": n}
            variants = {
                "serial": (lambda: parallel_threshold(float("inf")), call),
                "parallel": (lambda: parallel_threshold(0), call),
            }
            seconds = time_alternating(variants, budget)
            row["serial_us"] = round(seconds["serial"] * 1e6, 1)
            row["parallel_us"] = round(seconds["parallel"] * 1e6, 1)
            row["parallel_speedup"] = round(seconds["serial"] / seconds["parallel"], 2)
            rows.append(row)
    return rows


def cases(rng, dtype, budget):
    """Every benchmark case, by family name, as zero-argument callables."""
    return {
        "softmax": [lambda c=c: softmax_case(rng, dtype, budget, c) for c in (True, False)],
        "attention": [lambda: attention_case(rng, dtype, budget)],
        "layer_norm": [lambda s=s: layer_norm_case(rng, dtype, s, budget) for s in ACTIVATIONS],
        "gelu": [
            lambda s=s, a=a: gelu_case(rng, dtype, s, a, budget)
            for s in ACTIVATIONS
            for a in ("none", "tanh")
        ],
        "dropout": [lambda s=s: dropout_case(rng, dtype, s, budget) for s in ACTIVATIONS],
        "row_bias": [lambda s=s: row_bias_case(rng, dtype, s, budget) for s in ROW_BIASES],
        "cross_entropy": [lambda: cross_entropy_case(rng, dtype, 3 * budget)],
        "adam": [lambda: adam_case(rng, dtype, budget)],
        "matmul": [lambda a=a, b=b: matmul_case(rng, dtype, a, b, budget) for a, b in MATMULS],
    }


def print_table(rows, out):
    """A markdown table of the results (fwd+bwd totals and speedups)."""
    print("| kernel | shape | numpy us | numba us | numba GB/s or GFLOP/s | speedup |", file=out)
    print("|---|---|---:|---:|---:|---:|", file=out)
    for row in rows:
        phases = sorted({k.split("_")[0] for k in row if k.endswith("_numba_us")})
        ref = sum(row[f"{p}_numpy_us"] for p in phases)
        fast = sum(row[f"{p}_numba_us"] for p in phases)
        rates = [f"{p} {row[k]}" for p in phases for k in row if k.startswith(f"{p}_numba_g")]
        print(
            f"| {row['kernel']} | {row['shape']} | {ref:.1f} | {fast:.1f} | "
            f"{', '.join(rates)} | {row['speedup']}x |",
            file=out,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--only", default="", help="comma-separated families, e.g. softmax,adam")
    parser.add_argument("--budget", type=float, default=0.5, help="seconds per measurement")
    parser.add_argument("--busy", action="store_true", help="keep another core busy meanwhile")
    parser.add_argument(
        "--sweep", action="store_true", help="serial vs parallel drivers by size, instead"
    )
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    families = cases(rng, np.dtype(args.dtype), args.budget)
    chosen = [f for f in args.only.split(",") if f] or list(families)
    unknown = sorted(set(chosen) - set(families))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {sorted(families)}")
    load_before = os.getloadavg()
    hog = None
    if args.busy:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        started = time.perf_counter()
        if args.sweep:
            rows = parallel_sweep(rng, np.dtype(args.dtype), args.budget)
        else:
            rows = [case() for family in chosen for case in families[family]]
        elapsed = time.perf_counter() - started
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    report = {
        **machine_info(),
        "numba_threads": numba.get_num_threads(),
        "dtype": args.dtype,
        "busy_core": args.busy,
        "loadavg_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "seconds": round(elapsed, 1),
        "results": rows,
    }
    print(json.dumps(report, indent=1))
    if not args.sweep:
        print_table(rows, sys.stderr)


if __name__ == "__main__":
    main()
