"""How many threads each operation runs on: chosen per call, by the work it does and by the cores
that other programs leave free.

Why not one process-wide count. On a laptop a browser, an editor or a second run keeps a core
busy. OpenBLAS's worker threads spin while they wait; with two threads on two cores and one core
taken, every product waited for a thread that the other program had pushed off its core, and a
training step ran 2-3x slower than on one thread. And no single count fits both an (8000, 128)
product, which two threads speed up, and a 24-float attention row, which they only slow down.

The rule, applied before each matrix product large enough for a second thread (`prepare_blas`;
a smaller one takes one thread by BLAS's own rule) and each Numba parallel launch
(`prepare_numba`):

    threads = min(cores free, max(1, work // grain))

* work: multiply-adds of one 2-D product (BLAS_GRAIN = 2^18 per thread, OpenBLAS's own
  threshold for a second thread), or elements of a Numba kernel (NUMBA_GRAIN = 2^19).
* cores free: this process's CPUs (`os.sched_getaffinity`) minus those other processes keep
  busy, read from /proc/stat every CHECK_SECONDS: the busy time of our CPUs minus our own CPU
  time (`time.process_time`, all our threads) over the wall time. A core counts as taken when
  others use more than TAKEN_ABOVE of one. At least one core is always "free" (our own). Where
  /proc/stat does not exist (macOS, Windows) every core counts as free.
* never more than the thread pools were started with (OPENBLAS_NUM_THREADS, NUMBA_NUM_THREADS,
  read once), so those variables still cap minigrad as they cap numpy.

Overrides: the environment variable MINIGRAD_NUM_THREADS=N (or "auto", the default) and
`set_num_threads(n)` / `use_num_threads(n)` fix the count for every large operation; small ones
still take one thread. Our kernels' results do not depend on the thread count: the Numba
kernels cut their work into a fixed number of chunks, and a dot of two vectors, whose one sum
BLAS would split, takes one thread. OpenBLAS's float32 matrix products may differ in the last
bit between counts on some CPUs (its Haswell kernel); a fixed count repeats a run exactly.
The BLAS count is changed through threadpoolctl only when it differs from the last one set
(about 1 microsecond); the free cores cost about 10 microseconds to recheck.
"""

import os
import time
from contextlib import contextmanager

BLAS_GRAIN = 1 << 18
SECOND_BLAS_THREAD = 2 * BLAS_GRAIN  # smaller products: one thread, by BLAS's own rule too
NUMBA_GRAIN = 1 << 19
CHECK_SECONDS = 0.5
FIRST_CHECK_SECONDS = 0.1
TAKEN_ABOVE = 0.25
ENVIRONMENT_VARIABLE = "MINIGRAD_NUM_THREADS"


def parse_thread_setting(value: str | None) -> int | None:
    """MINIGRAD_NUM_THREADS's value as a fixed count, or None for "auto" (also unset or empty);
    ValueError naming the variable for anything else."""
    text = (value or "auto").strip().lower()
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"{ENVIRONMENT_VARIABLE}={value!r}: expected a positive number of threads or 'auto'"
        )
    return int(text)


def _our_cpus() -> list[int]:
    """The CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return list(range(os.cpu_count() or 1))


def busy_ticks(cpus, stat_path="/proc/stat") -> int | None:
    """Clock ticks the given CPUs have spent on anything but idling since boot (all processes),
    from /proc/stat's "cpuN user nice system idle iowait irq softirq steal" lines; None where the
    file cannot be read."""
    wanted = {f"cpu{n}" for n in cpus}
    total = 0
    try:
        with open(stat_path) as stat:
            for line in stat:
                fields = line.split()
                if fields and fields[0] in wanted:
                    ticks = [int(f) for f in fields[1:9]]
                    total += sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    except (OSError, ValueError):
        return None
    return total


def cores_taken(others_cpu_seconds: float, wall_seconds: float) -> int:
    """How many cores other processes occupy, given the CPU time they used over a wall-time
    window: each started core above TAKEN_ABOVE of one counts."""
    if wall_seconds <= 0:
        return 0
    load = max(0.0, others_cpu_seconds / wall_seconds)
    return int(load + 1 - TAKEN_ABOVE)


class FreeCores:
    """The number of our CPUs that other processes leave free, measured over the last
    CHECK_SECONDS and cached in between (`count()` is cheap on every call). Until the first
    measurement, FIRST_CHECK_SECONDS after construction, every CPU counts as free."""

    def __init__(self, stat_path="/proc/stat", clock=time.monotonic, own_cpu=time.process_time):
        self.cpus = _our_cpus()
        self.stat_path, self.clock, self.own_cpu = stat_path, clock, own_cpu
        self.ticks_per_second = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.free = len(self.cpus)
        self.sample = self._read()
        self.measured = False
        self.next_check = self.clock() + FIRST_CHECK_SECONDS

    def _read(self):
        """(wall time, busy ticks of our CPUs, our CPU seconds), or None without /proc/stat."""
        ticks = busy_ticks(self.cpus, self.stat_path)
        return None if ticks is None else (self.clock(), ticks, self.own_cpu())

    def count(self) -> int:
        """Cores free for this process, rechecked when the last check is CHECK_SECONDS old."""
        if self.sample is None or self.clock() < self.next_check:
            return self.free
        now = self._read()
        if now is not None:
            (wall0, ticks0, own0), (wall1, ticks1, own1) = self.sample, now
            others = (ticks1 - ticks0) / self.ticks_per_second - (own1 - own0)
            self.free = max(1, len(self.cpus) - cores_taken(others, wall1 - wall0))
            self.measured = True
        self.sample, self.next_check = now, self.clock() + CHECK_SECONDS
        return self.free

    def measure(self, sleep=time.sleep) -> int:
        """`count()`, after waiting for the first measurement if there is none yet (at most
        FIRST_CHECK_SECONDS, once)."""
        if not self.measured and self.sample is not None:
            sleep(max(0.0, self.next_check - self.clock()))
        return self.count()


class _Blas:
    """The BLAS library numpy uses, through threadpoolctl: its thread pool's size."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController

        libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        self.library = libraries[0] if libraries else None
        self.pool = self.library.get_num_threads() if self.library else 1

    def set(self, n: int) -> None:
        """Run the next BLAS calls on n threads, at most the pool's size."""
        if self.library is not None:
            self.library.set_num_threads(min(n, self.pool))


_fixed = parse_thread_setting(os.environ.get(ENVIRONMENT_VARIABLE))
_free_cores = None
_blas = None
_blas_threads = None  # the count last set, so that an unchanged count costs one comparison


def _cores() -> FreeCores:
    """This process's `FreeCores`, made on first use."""
    global _free_cores
    if _free_cores is None:
        _free_cores = FreeCores()
    return _free_cores


def _limit() -> int:
    """The most threads a large operation may take now: the fixed count, else the free cores."""
    return _fixed if _fixed is not None else _cores().count()


def threads_for(work: int, grain: int) -> int:
    """One thread per `grain` units of work, at least one, at most `_limit()`."""
    if work < 2 * grain:
        return 1
    return min(work // grain, _limit())


def prepare_blas(multiply_adds: int) -> None:
    """Set numpy's BLAS threads for the next product, which does `multiply_adds` per 2-D
    matrix product (m * k * n); a count unchanged since the last call costs one comparison.
    `kernels.matmul` calls it for products of SECOND_BLAS_THREAD multiply-adds or more, and for
    every product of vectors (a dot, whose one sum must not be split: 0 work, one thread);
    smaller matrix products take one thread by BLAS's own rule (OpenBLAS: one per 2^18)."""
    global _blas, _blas_threads
    wanted = threads_for(multiply_adds, BLAS_GRAIN)
    if wanted != _blas_threads:
        if _blas is None:
            _blas = _Blas()
        _blas.set(wanted)
        _blas_threads = wanted


def prepare_numba(elements: int) -> None:
    """Set Numba's threads (for this thread's next parallel launches) for a kernel over
    `elements` values."""
    import numba  # here, not at the top: minigrad.kernels sets Numba's environment first

    numba.set_num_threads(min(threads_for(elements, NUMBA_GRAIN), numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    """The threads a large operation would run on now: the count set by `set_num_threads` or
    MINIGRAD_NUM_THREADS, else the cores other programs leave free (PyTorch's name; its value
    there is fixed). Measured, not assumed: the first call in a process may wait up to
    FIRST_CHECK_SECONDS (0.1 s) for a first reading of the load."""
    return _fixed if _fixed is not None else _cores().measure()


def set_num_threads(n: int | None) -> None:
    """Run every large operation on `n` threads from now on (small ones still take one);
    None goes back to the default, adapting to the free cores."""
    global _fixed
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads(): expected a positive int or None, got {n!r}")
    _fixed = n


@contextmanager
def use_num_threads(n: int | None):
    """Context manager: `set_num_threads(n)` inside the block, the previous setting after."""
    previous = _fixed
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)
