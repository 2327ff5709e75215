"""Keeping freed memory for the next training step instead of handing it back to the OS.

Every op allocates its output afresh, and a training step frees them all again. glibc's
malloc serves a block above its threshold (128 KiB at first, raised as blocks are freed) with a
fresh `mmap` and hands the heap's free top back to the OS, so the next step touches new pages
and the kernel zeroes each one on first use: about 2,300 page faults a step for the tiny
Transformer of `benchmarks/bench_train.py`, about 9% of its time (200-700 a step and 0-3% for
the small one, whose 64 MB logits stay above any threshold).

`reuse_freed_memory()` asks malloc to serve blocks below 32 MiB from its heap and to keep up to
128 MiB of freed heap: the pages are faulted once and reused. The price is a process that holds
on to that much freed memory. It changes the whole process's allocator, so the library never
calls it on import: `python -m transformer` and `make demo` do, and so can your own training
script. glibc only (Linux); elsewhere it does nothing and returns False.
"""

import ctypes

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20


def reuse_freed_memory(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD):
    """Serve allocations below `mmap_threshold` bytes from the heap and keep up to
    `trim_threshold` bytes of freed heap for reuse (glibc's `mallopt`). True when glibc took
    both settings, False where there is no glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the symbols already loaded, the C library's included
    except (OSError, AttributeError, TypeError):  # no mallopt (not glibc), or no CDLL(None)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, mmap_threshold) and mallopt(M_TRIM_THRESHOLD, trim_threshold)
    )
