"""How every Numba kernel in this package is compiled and when it runs on several threads.

- Cache: `@njit(cache=True)` writes next to the source. When the package folder is read-only and
  NUMBA_CACHE_DIR is unset, we point NUMBA_CACHE_DIR at ~/.cache/minigrad/numba before Numba
  decides where to cache; if no cache location works at all, kernels compile without a cache.
- Fast math: `reassoc`/`contract` let LLVM vectorise reductions and fuse multiply-adds. We leave
  out `nnan`/`ninf`: -inf is a real value here (masked entries, empty rows).
- error_model="numpy": x / 0 gives inf/NaN as in numpy. Numba's default ("python") tests every
  divisor for zero to raise ZeroDivisionError, and that branch stops LLVM from vectorising any
  loop that divides (Adam's update ran 4x slower).
- Short rows: LLVM's loop vectoriser interleaves a vectorised reduction loop (4 vectors, 32
  float32 per iteration with AVX2), so a loop over fewer elements, such as attention's 24 keys,
  never enters its vector body and runs scalar. Kernels for short rows are compiled with
  `kernel(interleave=1)`: 24 keys are then 3 vector iterations (softmax forward + backward 15%
  faster), while rows of 64 or more lose up to 20% that way, hence separate kernels
  (benchmarks/bench_short_rows.py).
- Threads: `PARALLEL_MIN_ELEMENTS` (see docs/performance.md for the measurements) decides by
  size alone when a kernel's `prange` driver is used instead of its serial loop, and the driver
  always cuts the work into `PARALLEL_CHUNKS` chunks, so the result never depends on how many
  threads run it; `minigrad.threads` picks that count per launch (the free cores). OpenMP
  threads that spin while waiting stalled calls for ~6-10 ms whenever another process kept the
  second core busy, so OMP_WAIT_POLICY defaults to PASSIVE (set before Numba starts its OpenMP
  pool). If another library (torch) loaded an OpenMP runtime before us, Numba shares that
  runtime and its policy: we warn, since its spinning threads made our 2-thread training steps
  25-30% slower.
"""

import functools
import os
import tempfile

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
USER_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "minigrad", "numba")


def _writable(folder):
    """True when `folder` exists (or can be made) and a file can be written in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def choose_cache_dir(environ, package_dir=_PACKAGE_DIR, fallback=USER_CACHE_DIR):
    """Set environ['NUMBA_CACHE_DIR'] to `fallback` when the package's __pycache__ is not writable
    and the user chose nothing; returns the folder used (None: Numba's own choice)."""
    if environ.get("NUMBA_CACHE_DIR"):
        return environ["NUMBA_CACHE_DIR"]
    if _writable(os.path.join(package_dir, "__pycache__")) or not _writable(fallback):
        return None
    environ["NUMBA_CACHE_DIR"] = fallback
    return fallback


def openmp_loaded_without_policy(environ, maps_path="/proc/self/maps"):
    """The path of an OpenMP runtime already loaded in this process (Linux) while
    OMP_WAIT_POLICY is unset, else None: that runtime has fixed its policy to spinning, and
    Numba's OpenMP threads will use it."""
    if environ.get("OMP_WAIT_POLICY"):
        return None
    try:
        with open(maps_path) as maps:
            for line in maps:
                if any(name in line for name in ("libgomp", "libiomp", "libomp")):
                    return line.split()[-1]
    except OSError:
        return None
    return None


def _warn_about_spinning_openmp(environ):
    """A RuntimeWarning saying how to avoid `openmp_loaded_without_policy`'s slowdown."""
    runtime = openmp_loaded_without_policy(environ)
    if runtime is not None:
        import warnings

        warnings.warn(
            f"minigrad: an OpenMP runtime ({runtime}) was loaded before minigrad, with threads "
            "that spin while they wait; its threads and OpenBLAS's then compete for the cores, "
            "and training can run 25-30% slower on two threads. Import minigrad first, or set "
            "OMP_WAIT_POLICY=PASSIVE in the environment before Python starts.",
            RuntimeWarning,
            stacklevel=2,
        )


choose_cache_dir(os.environ)
_warn_about_spinning_openmp(os.environ)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import llvmlite.binding as llvm  # noqa: E402
import numba  # noqa: E402  (after the environment above is settled)

from minigrad import threads  # noqa: E402

if os.environ.get("NUMBA_CACHE_DIR"):  # Numba may have read its config before we ran
    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
PARALLEL_MIN_ELEMENTS = 1 << 20
PARALLEL_CHUNKS = 64


def kernel(parallel=False, interleave=None):
    """Decorator: `njit(cache=True, fastmath=FASTMATH)`, compiled lazily (first call per dtype).
    `interleave=1` compiles it with LLVM's vector interleaving off (short rows, see above)."""

    def wrap(fn):
        options = {"fastmath": set(FASTMATH), "parallel": parallel, "error_model": "numpy"}
        try:
            dispatcher = numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # no cache location is writable: compile on every run instead
            dispatcher = numba.njit(cache=False, **options)(fn)
        if interleave is not None and hasattr(dispatcher, "compile"):  # not under DISABLE_JIT
            dispatcher.compile = _with_interleave(dispatcher.compile, interleave)
        return dispatcher

    return wrap


def _with_interleave(compile_signature, count):
    """`compile_signature` run with LLVM's -force-vector-interleave set to `count`. The option
    is process-wide, so it is set only while this kernel compiles (a cache hit compiles
    nothing) and put back to 0, LLVM's default (its own choice), afterwards."""

    @functools.wraps(compile_signature)
    def compile_with_interleave(signature):
        llvm.set_option("", f"-force-vector-interleave={count}")
        try:
            return compile_signature(signature)
        finally:
            llvm.set_option("", "-force-vector-interleave=0")

    return compile_with_interleave


def use_parallel(n_elements, work_per_element=1.0):
    """Whether a call touching `n_elements` values takes the parallel driver (by size alone:
    the same inputs always take the same path); if so, sets Numba's threads for the launch.
    `work_per_element` < 1 for kernels cheaper than an exp per element (layer norm)."""
    work = n_elements * work_per_element
    if work < PARALLEL_MIN_ELEMENTS:
        return False
    threads.prepare_numba(int(work))
    return True


@numba.njit(inline="always")
def chunk(index, n_chunks, n):
    """The half-open range [lo, hi) of chunk `index` when 0..n is cut into `n_chunks` parts."""
    step = (n + n_chunks - 1) // n_chunks
    return min(n, index * step), min(n, (index + 1) * step)


def parallel_chunks(n):
    """How many chunks a parallel driver cuts n rows into: `PARALLEL_CHUNKS` (fewer for fewer
    rows), whatever the thread count, so sums over chunks are the same on 1 thread or 16."""
    return max(1, min(n, PARALLEL_CHUNKS))
