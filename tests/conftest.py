"""Test setup: the shared helpers on the path; how threads and tolerances are handled.

Threads. Left to minigrad.threads, as a user gets them: one per operation below its size
threshold, and no more than the cores other processes leave free. (Before it, OpenBLAS's
spinning threads made 200 copy-task steps take 349 s instead of 15 s when another process kept
a core busy, and the suite pinned one BLAS thread.) test_threads.py runs pools of two threads
in a subprocess, to check that results do not depend on the count.

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
    MINIGRAD_NUM_THREADS=1 .venv/bin/python -m pytest            # one thread everywhere
    MINIGRAD_NUM_THREADS=2 .venv/bin/python -m pytest            # two, whatever the load
    OPENBLAS_CORETYPE=Nehalem .venv/bin/python -m pytest         # or Sandybridge, Haswell, Zen
    NUMBA_CPU_NAME=generic NUMBA_CACHE_DIR=/tmp/numba-generic .venv/bin/python -m pytest
    NUMBA_DISABLE_JIT=1 .venv/bin/python -m pytest tests/test_kernels_softmax.py  # sequential sums

`pytest --durations=20` shows where the time goes.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
