"""Test setup: thread counts (before numpy is imported) and the shared helpers on the path.

Threads. One BLAS thread unless the environment chooses (setdefault, so the suite can be run
under other settings): small matrices on two shared cores are faster single-threaded, and
OpenBLAS's idle threads spin. With OPENBLAS_NUM_THREADS=2 and another process keeping one core
busy, 200 copy-task steps took 349 s instead of 15 s (95 s of CPU, 3.7 s of it work); with one
thread a busy core only halves the CPU we get. Subprocesses (examples, CLI, benchmarks) inherit
these settings. Numba's threads wait passively (OMP_WAIT_POLICY=PASSIVE, set by minigrad) and
its parallel drivers start at a million elements, so NUMBA_NUM_THREADS is left to Numba:
test_kernels_backend's parallel-driver test needs two (it skips with one), and its two-BLAS-thread
test covers OpenBLAS's threaded kernels in a subprocess.

Tolerances. A sum, dot product, matrix product, norm or softmax row is rounded in an order that
depends on the BLAS kernel for the CPU (OPENBLAS_CORETYPE), the vector width numpy and Numba
compile for, the thread count and numpy's pairwise blocking. So every tolerance holds for *any*
order and is computed from the arithmetic (helpers.py): gamma_n = n u / (1 - n u) bounds on sums
and products of n terms (relative to the sum of the terms' magnitudes where signs mix),
per-element bounds for softmax and attention, long sums tested exactly on integer data, and for
a whole float32 model, its rounding error measured against the same model in float64. Exact
comparisons stay only where the arithmetic is exact or the same code runs on the same shapes in
one process (determinism, causality, masking, resuming).

Every one of these must pass (the last two compile into their own Numba cache):

    .venv/bin/python -m pytest                                   # as `make test`
    OPENBLAS_NUM_THREADS=2 .venv/bin/python -m pytest            # two BLAS threads
    NUMBA_NUM_THREADS=1 .venv/bin/python -m pytest               # serial Numba kernels
    OPENBLAS_CORETYPE=Nehalem .venv/bin/python -m pytest         # or Sandybridge, Haswell, Zen
    NUMBA_CPU_NAME=generic NUMBA_CACHE_DIR=/tmp/numba-generic .venv/bin/python -m pytest
    NUMBA_DISABLE_JIT=1 .venv/bin/python -m pytest tests/test_kernels_softmax.py  # sequential sums

`pytest --durations=20` shows where the time goes.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")  # numpy built against MKL (conda) instead
sys.path.insert(0, str(Path(__file__).parent))
