"""minigrad.allocator: freed memory kept for reuse, so a step's arrays do not fault new pages."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULTS = """
import resource, sys
import numpy as np
from minigrad.allocator import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
def step():  # what a training step does: fresh arrays of a few hundred KiB, then freed
    arrays = [np.ones(64 * 1024, dtype=np.float32) for _ in range(8)]
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode):
    env = {**os.environ, "PYTHONPATH": ROOT}
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", FAULTS, mode], env=env, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc (Linux)")
def test_reused_memory_stops_the_page_faults_of_repeated_steps():
    """50 steps of eight 256 KiB arrays: each fresh mmap faults its 64 pages in again (about
    25,000 faults); kept and reused, they fault once."""
    default, reused = page_faults("default"), page_faults("reuse")
    assert default > 5_000 and reused < default / 10, (default, reused)


def test_without_glibc_it_does_nothing_and_says_so(monkeypatch):
    import ctypes

    from minigrad import allocator

    def no_library(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert allocator.reuse_freed_memory() is False
