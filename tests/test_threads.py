"""minigrad.threads: threads per operation, by its size and the cores other programs leave free."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import assert_within, matmul_tolerance

import minigrad
from minigrad import kernels, threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]


def run_python(code, **env):
    """Run `code` in a fresh interpreter with extra environment variables: (exit code, output)."""
    full_env = {**os.environ, "PYTHONPATH": ROOT, **env}
    done = subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.mark.parametrize(
    "value, expected", [(None, None), ("", None), ("auto", None), (" AUTO ", None), ("3", 3)]
)
def test_setting_reads_auto_or_a_count(value, expected):
    assert threads.parse_thread_setting(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_setting_names_the_variable(value):
    with pytest.raises(ValueError, match="MINIGRAD_NUM_THREADS=.*positive number of threads"):
        threads.parse_thread_setting(value)


def test_environment_variable_fixes_the_count_and_a_bad_one_fails_at_import():
    code = "import minigrad; print(minigrad.get_num_threads())"
    assert run_python(code, MINIGRAD_NUM_THREADS="3") == (0, "3")
    status, output = run_python(code, MINIGRAD_NUM_THREADS="many")
    assert status != 0 and "MINIGRAD_NUM_THREADS='many'" in output


@pytest.mark.parametrize(
    "others, wall, taken", [(0.0, 0.5, 0), (0.1, 0.5, 0), (0.15, 0.5, 1), (0.5, 0.5, 1),
                            (0.6, 0.5, 1), (0.65, 0.5, 2), (-0.1, 0.5, 0), (1.0, 0.0, 0)],
)  # fmt: skip
def test_a_core_counts_as_taken_above_a_quarter_of_its_time(others, wall, taken):
    assert threads.cores_taken(others, wall) == taken


def write_stat(path, busy, idle):
    """A /proc/stat with one line per CPU of ours: `busy` ticks split over user and system,
    `idle` over idle and iowait, and lines for CPUs that are not ours, which must be ignored."""
    lines = [f"cpu  {busy * 9} 0 0 {idle * 9} 0 0 0 0 0 0"]
    for cpu in CPUS:
        lines.append(f"cpu{cpu} {busy - busy // 2} 0 {busy // 2} {idle - 5} 5 0 0 0 0 0")
    lines.append(f"cpu{max(CPUS) + 1} 999999 0 0 0 0 0 0 0 0 0")
    path.write_text("\n".join(lines + ["intr 1 2 3"]) + "\n")


def test_busy_ticks_sum_our_cpus_without_idle_time(tmp_path):
    stat = tmp_path / "stat"
    write_stat(stat, busy=70, idle=30)
    assert threads.busy_ticks(CPUS, stat) == 70 * len(CPUS)
    assert threads.busy_ticks(CPUS, tmp_path / "missing") is None


class FakeTime:
    """A wall clock and our process's CPU clock, moved by the test."""

    def __init__(self):
        self.wall = self.own = 100.0


def test_free_cores_subtract_what_others_use_and_ignore_our_own_time(tmp_path):
    stat, now = tmp_path / "stat", FakeTime()
    hz = os.sysconf("SC_CLK_TCK")
    write_stat(stat, busy=0, idle=0)
    free = threads.FreeCores(stat, clock=lambda: now.wall, own_cpu=lambda: now.own)
    assert free.count() == len(CPUS)  # nothing measured yet: every core

    # 1 s: we use every core ourselves, nobody else runs: every core stays free
    now.wall += 1.0
    now.own += len(CPUS)
    write_stat(stat, busy=hz, idle=0)
    assert free.count() == len(CPUS)

    # 0.1 s later another process has taken a core: not rechecked yet
    now.wall += 0.1
    write_stat(stat, busy=hz + hz // 10, idle=0)
    assert free.count() == len(CPUS)

    # 1 s after the last check: others used one core's worth (spread over our CPUs)
    now.wall += 0.9
    write_stat(stat, busy=hz + hz // len(CPUS), idle=0)
    assert free.count() == max(1, len(CPUS) - 1)

    # another process on every core: still one for us (our own)
    now.wall += 1.0
    write_stat(stat, busy=2 * hz + hz // len(CPUS), idle=0)
    assert free.count() == 1


def test_the_first_reading_comes_sooner_than_the_later_ones(tmp_path):
    """A short run on a busy machine must adapt too: the first check is due FIRST_CHECK_SECONDS
    after the start, the later ones CHECK_SECONDS apart."""
    stat, now = tmp_path / "stat", FakeTime()
    hz = os.sysconf("SC_CLK_TCK")
    write_stat(stat, busy=0, idle=0)
    free = threads.FreeCores(stat, clock=lambda: now.wall, own_cpu=lambda: now.own)
    now.wall += threads.FIRST_CHECK_SECONDS / 2
    assert free.count() == len(CPUS) and not free.measured

    now.wall += threads.FIRST_CHECK_SECONDS / 2  # others used every core over the window
    write_stat(stat, busy=int(hz * threads.FIRST_CHECK_SECONDS) * 2, idle=0)
    assert free.count() == 1 and free.measured
    assert threads.FIRST_CHECK_SECONDS < threads.CHECK_SECONDS


def test_measure_waits_for_the_first_reading_once(tmp_path):
    stat, now = tmp_path / "stat", FakeTime()
    hz = os.sysconf("SC_CLK_TCK")
    write_stat(stat, busy=0, idle=0)
    free = threads.FreeCores(stat, clock=lambda: now.wall, own_cpu=lambda: now.own)
    waits = []

    def sleep(seconds):  # others take every core while we wait
        waits.append(seconds)
        now.wall += seconds
        write_stat(stat, busy=int(hz * seconds) * 2, idle=0)

    assert free.measure(sleep) == 1
    assert waits == [pytest.approx(threads.FIRST_CHECK_SECONDS)]
    assert free.measure(sleep) == 1 and len(waits) == 1  # measured: no second wait


def test_without_proc_stat_every_core_counts_as_free(tmp_path):
    free = threads.FreeCores(tmp_path / "missing", clock=time.monotonic)
    assert free.count() == len(CPUS)


@pytest.mark.skipif(len(CPUS) < 2 or not os.path.exists("/proc/stat"), reason="Linux, 2+ CPUs")
def test_a_busy_process_is_seen_as_a_taken_core():
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        free = threads.FreeCores()
        time.sleep(threads.CHECK_SECONDS + 0.1)
        assert free.count() <= len(CPUS) - 1  # more load elsewhere can only take more
    finally:
        busy.kill()
        busy.wait()


@pytest.mark.skipif(len(CPUS) < 2 or not os.path.exists("/proc/stat"), reason="Linux, 2+ CPUs")
def test_get_num_threads_right_after_import_sees_a_busy_core():
    """What `make demo` prints as the free cores: measured, not assumed to be every core."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        code = "import minigrad; print(minigrad.get_num_threads())"
        status, output = run_python(code, MINIGRAD_NUM_THREADS="auto")
        assert status == 0 and int(output) <= len(CPUS) - 1, output
    finally:
        busy.kill()
        busy.wait()


def test_small_work_takes_one_thread_and_large_work_up_to_the_limit():
    with minigrad.use_num_threads(4):
        assert threads.threads_for(threads.BLAS_GRAIN, threads.BLAS_GRAIN) == 1
        assert threads.threads_for(3 * threads.BLAS_GRAIN, threads.BLAS_GRAIN) == 3
        assert threads.threads_for(100 * threads.BLAS_GRAIN, threads.BLAS_GRAIN) == 4
        assert minigrad.get_num_threads() == 4
    with minigrad.use_num_threads(1):
        assert threads.threads_for(100 * threads.BLAS_GRAIN, threads.BLAS_GRAIN) == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match="set_num_threads"):
        minigrad.set_num_threads(bad)


def test_use_num_threads_restores_the_setting_after_an_error():
    before = threads._fixed
    with pytest.raises(RuntimeError), minigrad.use_num_threads(3):
        assert minigrad.get_num_threads() == 3
        raise RuntimeError
    assert threads._fixed == before


def test_dot_products_of_vectors_take_one_thread():
    assert kernels._multiply_adds_per_product(np.ones(10**6), np.ones(10**6)) == 0
    assert kernels._multiply_adds_per_product(np.ones((2, 3, 4)), np.ones(4)) == 12
    assert kernels._multiply_adds_per_product(np.ones(3), np.ones((5, 3, 4))) == 12


def test_products_set_blas_threads_by_size_and_results_do_not_depend_on_them(tmp_path):
    """In a fresh process with pools of two threads: a large product runs on two BLAS threads
    and a dot of two vectors on one (a smaller matrix product leaves the count to BLAS's own
    rule, which gives it one thread); a layer norm backward and a fused cross-entropy (Numba,
    parallel drivers summing chunks) and a gradient norm give the same bits on one thread as
    on two. OpenBLAS promises no such thing for a matrix product (its Haswell kernel, on an
    AMD EPYC, changes the last bit of 1-5% of a float32 product's entries), so the two products
    are held to twice the error bound of any summation order instead (`matmul_tolerance`)."""
    code = """
import numpy as np
import minigrad
from minigrad import kernels
from minigrad.nn.utils import clip_grad_norm_
from threadpoolctl import threadpool_info

def blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"][0]

rng = np.random.default_rng(0)
a = rng.standard_normal((300, 400)).astype(np.float32)
b = rng.standard_normal((400, 500)).astype(np.float32)
x = rng.standard_normal((4096, 512)).astype(np.float32)
g = rng.standard_normal(x.shape).astype(np.float32)
out, mean, rstd = kernels.layer_norm_forward(x, g[0], g[1], 1e-5)
p = minigrad.nn.Parameter(np.zeros(x.shape, np.float32))

target = rng.integers(0, 512, 4096)

def results():
    p.grad = minigrad.tensor(g)
    fused = kernels.cross_entropy_fused(x.copy(), g[0], target, -100, 0.1, 1e-3)
    return *kernels.layer_norm_backward(g, x, mean, rstd, g[0]), clip_grad_norm_(p, 1e9), *fused

with minigrad.use_num_threads(2):
    product_two = kernels.matmul(a, b)
    seen = [blas_threads()]
    kernels.matmul(a[0], b[:, 0])
    seen.append(blas_threads())
    two = results()
with minigrad.use_num_threads(1):
    one = results()
    product_one = kernels.matmul(a, b)
same = all(np.array_equal(u, v) for u, v in zip(one, two))
np.savez(PRODUCTS, a=a, b=b, one=product_one, two=product_two)
print(seen, same)
"""
    products = tmp_path / "products.npz"
    code = code.replace("PRODUCTS", repr(str(products)))
    env = {"OPENBLAS_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    assert run_python(code, **env) == (0, "[2, 1] True")
    saved = np.load(products)
    bound = 2 * matmul_tolerance(saved["a"], saved["b"])
    assert_within(saved["one"], saved["two"], bound, "the product on 1 and on 2 BLAS threads")
