"""Compile and start-up time of the Numba kernels, from an empty cache and from a warm one.

    python benchmarks/bench_startup.py

Runs three fresh processes sharing one new, empty NUMBA_CACHE_DIR:

1. `compile_all`: `import minigrad`, then every kernel in float32 and float64, through the
   serial and the multi-threaded drivers: the first-ever compile (target: under 30 s);
2. the same again: loading every kernel from the cache;
3. `first_step`: `import minigrad` and one training step of the "tiny" Transformer of
   bench_train.py, timed from before the import (target: under 3 s with a warm cache).

Prints JSON with the seconds of each.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import machine_info  # noqa: E402


def compile_all() -> None:
    """Call every kernel once per dtype and driver (serial, then multi-threaded)."""
    import numpy as np

    from minigrad import kernels as K
    from minigrad.kernels import _jit

    for threshold in (1 << 62, 0):  # serial drivers, then the parallel ones
        _jit.PARALLEL_MIN_ELEMENTS = threshold
        for dtype in (np.float32, np.float64):
            x = np.ones((4, 8), dtype)
            for columns in (8, 80):  # short and long softmax rows
                rows = np.ones((4, columns), dtype)
                K.softmax_backward(K.masked_softmax_forward(rows, 0.5, rows > 0), rows, 0.5)
            K.log_softmax_backward(K.log_softmax_forward(x), x)
            K.argmax_rows(np.ones((8, 4), dtype).T)  # transposed storage: the Numba kernel
            K.add_row_bias(x.copy(), x[:, 0])
            losses, lse = K.cross_entropy_forward(x, np.zeros(4, np.int64), label_smoothing=0.1)
            K.cross_entropy_backward(x, lse, np.zeros(4, np.int64), losses, label_smoothing=0.1)
            y, mean, rstd = K.layer_norm_forward(x, x[0], x[0], 1e-5)
            K.layer_norm_backward(y, x, mean, rstd, x[0])
            for mode in ("none", "tanh"):
                K.gelu_backward(x, K.gelu_forward(x, mode), mode)
            K.dropout_backward(*K.dropout_forward(x, 0.1), 0.1)
            K.adam_step(x.copy(), x, x.copy(), x.copy(), 1, 1e-3, 0.9, 0.98, 1e-9, 0.0, False)
            K.sgd_step(x.copy(), x, x.copy(), 1e-3, 0.9, 0.0, 0.0, False, True)


def first_step() -> None:
    """One training step of the tiny model (what `make demo` does first)."""
    from bench_train import CONFIGS, minigrad_step

    _, _, train_step = minigrad_step(CONFIGS["tiny"])
    train_step()


def run(job: str, cache_dir: str) -> float:
    """Seconds a fresh process takes for `job`, from before `import minigrad`."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    code = (
        "import sys, time; start = time.perf_counter(); "
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import minigrad, bench_startup; "
        f"bench_startup.{job}(); print(time.perf_counter() - start)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return round(float(done.stdout.split()[-1]), 2)


def main() -> None:
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.perf_counter()
        results = {
            "compile_all_empty_cache_s": run("compile_all", cache_dir),
            "compile_all_warm_cache_s": run("compile_all", cache_dir),
            "first_training_step_warm_cache_s": run("first_step", cache_dir),
        }
        results["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"machine": machine_info(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
