"""Benchmark minigrad.kernels: the Numba backend against the numpy reference on the model's shapes.

    python benchmarks/bench_kernels.py            # float32, about 40 s, JSON on stdout
    python benchmarks/bench_kernels.py --busy     # the same with a busy-loop process running
    python benchmarks/bench_kernels.py --only softmax,adam --dtype float64

Each case times forward and backward separately (median over repeats of a batch of calls, after
a warm-up call that also compiles) for both backends and reports time per call, effective GB/s
(bytes the kernel must read and write) or GFLOP/s, and the speedup of numba over numpy on
forward + backward. A readable table goes to stderr.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minigrad import kernels  # noqa: E402

ATTENTION = (32, 4, 24, 24, 16)  # batch, heads, query length, key length, head dim
ACTIVATIONS = ((768, 64), (2048, 128))
VOCAB_LOGITS = (2048, 8000)
ADAM_SIZE = 1_000_000
MATMULS = (
    ((768, 64), (64, 256)),
    ((768, 256), (256, 64)),
    ((2048, 128), (128, 8000)),
    ((128, 24, 16), (128, 16, 24)),
    ((128, 24, 24), (128, 24, 16)),
)


def time_call(fn, budget):
    """Median seconds per call of fn(), over repeats of batches lasting ~budget/7 seconds each."""
    fn()  # warm-up: compiles on first use
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(budget / 7 / once))
    samples = []
    for _ in range(7 if once * batch * 7 <= 3 * budget else 3):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return float(np.median(samples))


def measure(name, shape, make_calls, cost, budget):
    """Time every phase of one case under both backends; `make_calls()` returns
    {phase: callable} built for the current backend, `cost` {phase: (bytes, flops)}."""
    row = {"kernel": name, "shape": shape}
    for backend in ("numpy", "numba"):
        with kernels.use_backend(backend):
            calls = make_calls()
            for phase, fn in calls.items():
                seconds = time_call(fn, budget)
                moved, flops = cost[phase]
                row[f"{phase}_{backend}_us"] = round(seconds * 1e6, 2)
                if flops:
                    row[f"{phase}_{backend}_gflops"] = round(flops / seconds / 1e9, 2)
                else:
                    row[f"{phase}_{backend}_gbps"] = round(moved / seconds / 1e9, 2)
    phases = list(cost)
    total = {b: sum(row[f"{p}_{b}_us"] for p in phases) for b in ("numpy", "numba")}
    row["speedup"] = round(total["numpy"] / total["numba"], 2)
    return row


def softmax_case(rng, dtype, budget):
    """Masked softmax forward + backward on attention scores with a causal mask."""
    b, h, lq, lk, _ = ATTENTION
    x = rng.standard_normal((b, h, lq, lk)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    mask = np.tril(np.ones((lq, lk), dtype=bool))
    y = kernels.masked_softmax_forward(x, 0.25, mask)
    calls = lambda: {  # noqa: E731
        "fwd": lambda: kernels.masked_softmax_forward(x, 0.25, mask),
        "bwd": lambda: kernels.softmax_backward(y, g, 0.25),
    }
    n = x.nbytes
    return measure("softmax", list(x.shape), calls, {"fwd": (2 * n, 0), "bwd": (3 * n, 0)}, budget)


def attention_case(rng, dtype, budget):
    """Attention core forward + backward (q, k, v (B, H, L, D), causal mask)."""
    b, h, lq, lk, d = ATTENTION
    q, k, v = (rng.standard_normal((b, h, n, d)).astype(dtype) for n in (lq, lk, lk))
    mask = np.tril(np.ones((lq, lk), dtype=bool))
    out, w = kernels.attention_forward(q, k, v, mask, d**-0.5)
    g = rng.standard_normal(out.shape).astype(dtype)
    calls = lambda: {  # noqa: E731
        "fwd": lambda: kernels.attention_forward(q, k, v, mask, d**-0.5),
        "bwd": lambda: kernels.attention_backward(q, k, v, w, g, d**-0.5),
    }
    flops = 2 * b * h * lq * lk * d
    cost = {"fwd": (0, 2 * flops), "bwd": (0, 4 * flops)}
    return measure("attention", [b, h, lq, lk, d], calls, cost, budget)


def layer_norm_case(rng, dtype, shape, budget):
    """Layer norm forward + backward with weight and bias."""
    x = rng.standard_normal(shape).astype(dtype)
    w, bias = rng.standard_normal((2, shape[1])).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    _, mean, rstd = kernels.layer_norm_forward(x, w, bias, 1e-5)
    calls = lambda: {  # noqa: E731
        "fwd": lambda: kernels.layer_norm_forward(x, w, bias, 1e-5),
        "bwd": lambda: kernels.layer_norm_backward(g, x, mean, rstd, w),
    }
    n = x.nbytes
    return measure("layer_norm", list(shape), calls, {"fwd": (2 * n, 0), "bwd": (3 * n, 0)}, budget)


def gelu_case(rng, dtype, shape, approximate, budget):
    """GELU forward + backward."""
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    calls = lambda: {  # noqa: E731
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
    calls = lambda: {  # noqa: E731
        "fwd": lambda: kernels.dropout_forward(x, 0.1),
        "bwd": lambda: kernels.dropout_backward(x, keep, 0.1),
    }
    n = x.nbytes
    cost = {"fwd": (2 * n + x.size, 0), "bwd": (2 * n + x.size, 0)}
    return measure("dropout", list(shape), calls, cost, budget)


def cross_entropy_case(rng, dtype, budget):
    """Cross-entropy forward + backward on vocabulary logits, label smoothing 0.1, 10% ignored."""
    n, c = VOCAB_LOGITS
    logits = rng.standard_normal((n, c)).astype(dtype)
    target = rng.integers(0, c, n)
    target[::10] = -100
    grad = np.full(n, 1.0 / n, dtype=dtype)
    _, lse = kernels.cross_entropy_forward(logits, target, -100, 0.1)
    calls = lambda: {  # noqa: E731
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

    calls = lambda: {"step": step}  # noqa: E731
    return measure("adam", [ADAM_SIZE], calls, {"step": (7 * param.nbytes, 0)}, budget)


def matmul_case(rng, dtype, shape_a, shape_b, budget):
    """matmul through the kernel interface, plus bare np.matmul as the yardstick."""
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    batch = int(np.prod(np.broadcast_shapes(shape_a[:-2], shape_b[:-2])))
    flops = 2 * batch * shape_a[-2] * shape_a[-1] * shape_b[-1]
    calls = lambda: {"fwd": lambda: kernels.matmul(a, b)}  # noqa: E731
    row = measure("matmul", [list(shape_a), list(shape_b)], calls, {"fwd": (0, flops)}, budget)
    row["fwd_bare_numpy_us"] = round(time_call(lambda: np.matmul(a, b), budget) * 1e6, 2)
    row["numba_vs_bare_numpy"] = round(row["fwd_bare_numpy_us"] / row["fwd_numba_us"], 3)
    return row


def cases(rng, dtype, budget):
    """Every benchmark case, by family name, as zero-argument callables."""
    return {
        "softmax": [lambda: softmax_case(rng, dtype, budget)],
        "attention": [lambda: attention_case(rng, dtype, budget)],
        "layer_norm": [lambda s=s: layer_norm_case(rng, dtype, s, budget) for s in ACTIVATIONS],
        "gelu": [
            lambda s=s, a=a: gelu_case(rng, dtype, s, a, budget)
            for s in ACTIVATIONS
            for a in ("none", "tanh")
        ],
        "dropout": [lambda s=s: dropout_case(rng, dtype, s, budget) for s in ACTIVATIONS],
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
        rates = [
            f"{p} {row[k]}" for p in phases for k in row if k.startswith(f"{p}_numba_g")
        ]
        print(
            f"| {row['kernel']} | {row['shape']} | {ref:.1f} | {fast:.1f} | "
            f"{', '.join(rates)} | {row['speedup']}x |",
            file=out,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--only", default="", help="comma-separated families, e.g. softmax,adam")
    parser.add_argument("--budget", type=float, default=0.25, help="seconds per measurement")
    parser.add_argument("--busy", action="store_true", help="keep another core busy meanwhile")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    families = cases(rng, np.dtype(args.dtype), args.budget)
    chosen = [f for f in args.only.split(",") if f] or list(families)
    unknown = sorted(set(chosen) - set(families))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {sorted(families)}")
    hog = None
    if args.busy:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        started = time.perf_counter()
        rows = [case() for family in chosen for case in families[family]]
        elapsed = time.perf_counter() - started
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    report = {
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "dtype": args.dtype,
        "busy_core": args.busy,
        "seconds": round(elapsed, 1),
        "results": rows,
    }
    print(json.dumps(report, indent=1))
    print_table(rows, sys.stderr)


if __name__ == "__main__":
    main()
