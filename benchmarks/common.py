"""Shared benchmark helpers: timing and a JSON header describing the machine and command."""

import os
import platform
import sys
import time

import numpy as np


def machine_info() -> dict:
    """Where and how the benchmark ran (quote figures together with this)."""
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:  # pragma: no cover - numba is a dependency
        numba_version = None
    return {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "numba": numba_version,
    }


def time_call(fn, repeat: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call of ``fn()``, each repeat running enough calls to last min_time."""
    fn()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        number *= 2
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return float(np.median(samples))
