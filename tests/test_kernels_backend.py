"""The kernel package's machinery: backend switch and environment variable, dtypes and fresh
outputs, matmul semantics, the multi-threaded drivers, the vectorised exp, the Numba cache
location, and running with NUMBA_DISABLE_JIT=1."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from helpers import assert_backend_tolerance_covers

from minigrad import kernels as K
from minigrad import threads
from minigrad.kernels import _backend, _jit
from minigrad.kernels._jit_math import exp as fast_exp
from minigrad.kernels.testing import compare_backends, run_both

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_backend_switch_and_context_manager():
    assert K.get_backend() in K.BACKENDS
    before = K.get_backend()
    with K.use_backend("numpy"):
        assert K.get_backend() == "numpy"
        with pytest.raises(RuntimeError), K.use_backend("numba"):
            assert K.get_backend() == "numba"
            raise RuntimeError
        assert K.get_backend() == "numpy"
    assert K.get_backend() == before
    with pytest.raises(ValueError, match=r"unknown kernel backend 'torch'.*'numba', 'numpy'"):
        K.set_backend("torch")


def test_backend_from_environment():
    before = K.get_backend()
    try:
        _backend.set_from_environment({"MINIGRAD_BACKEND": "NumPy"})
        assert K.get_backend() == "numpy"
        _backend.set_from_environment({})
        assert K.get_backend() == "numba"
        with pytest.raises(ValueError, match="MINIGRAD_BACKEND='jax' is not a kernel backend"):
            _backend.set_from_environment({"MINIGRAD_BACKEND": "jax"})
    finally:
        K.set_backend(before)


def run_python(code, **env):
    """Run `code` in a fresh interpreter with extra environment variables; returns stdout."""
    full_env = {**os.environ, "PYTHONPATH": ROOT, **env}
    done = subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_environment_variable_selects_backend_at_import():
    code = "import minigrad.kernels as k; print(k.get_backend())"
    assert run_python(code, MINIGRAD_BACKEND="numpy") == "numpy"


def test_kernels_run_as_python_with_jit_disabled():
    code = (
        "import numpy as np, minigrad.kernels as k\n"
        "x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]], dtype=np.float32)\n"
        "m = np.array([True, False, True])\n"
        "y = k.masked_softmax_forward(x, 2.0, m)\n"
        "with k.use_backend('numpy'):\n"
        "    r = k.masked_softmax_forward(x, 2.0, m)\n"
        "print(k.get_backend(), np.abs(y - r).max() <= 32 * 2.0**-24)"
    )  # exponents are small integers (exact): each side is within 2 * 3 ulps of exp, 3 additions
    # and 2 roundings for the division of the exact softmax (<= 1): 11u, so 22u < 32u apart
    assert run_python(code, NUMBA_DISABLE_JIT="1") == "numba True"


def all_calls(dtype):
    """One call of every kernel on small float inputs of `dtype`, and those inputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(dtype)
    _, mean, rstd = K.layer_norm_forward(x, None, None, 1e-5)
    target = np.array([0, 1, 5, 2])
    _, lse = K.cross_entropy_forward(x, target)
    calls = {
        "masked_softmax_forward": lambda: K.masked_softmax_forward(x, 0.5, x > 0),
        "softmax_backward": lambda: K.softmax_backward(x, x, 0.5),
        "log_softmax_forward": lambda: K.log_softmax_forward(x),
        "log_softmax_backward": lambda: K.log_softmax_backward(x, x),
        "cross_entropy_forward": lambda: K.cross_entropy_forward(x, target),
        "cross_entropy_backward": lambda: K.cross_entropy_backward(x, lse, target, x[:, 0]),
        "layer_norm_forward": lambda: K.layer_norm_forward(x, x[0], x[1], 1e-5),
        "layer_norm_backward": lambda: K.layer_norm_backward(x, x, mean, rstd, x[0]),
        "gelu_forward": lambda: K.gelu_forward(x),
        "gelu_backward": lambda: K.gelu_backward(x, x),
        "dropout_forward": lambda: K.dropout_forward(x, 0.5)[:1],
        "dropout_backward": lambda: K.dropout_backward(x, x > 0, 0.5),
        "matmul": lambda: K.matmul(x, x.T),
        "embedding_backward": lambda: K.embedding_backward(x, target, 7),
    }
    return calls, (x,)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_keeps_the_dtype_and_returns_fresh_arrays(backend, dtype):
    calls, inputs = all_calls(dtype)
    public = {n for n in K.__all__ if n.endswith(("_forward", "_backward")) or n == "matmul"}
    assert public == set(calls)
    with K.use_backend(backend):
        for name, call in calls.items():
            result = call()
            for out in result if isinstance(result, tuple) else (result,):
                if out is not None:
                    assert out.dtype == dtype, name
                    assert not any(np.shares_memory(out, a) for a in inputs), name


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2))],
)
def test_matmul_has_numpy_semantics(shape_a, shape_b):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    out = compare_backends(K.matmul, a, b)
    np.testing.assert_array_equal(out, np.matmul(a, b))
    with pytest.raises(ValueError, match=r"matmul\(\): shapes .* not aligned"):
        K.matmul(a, np.ones(shape_b[:-2] + (7, 2), np.float32))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
def test_parallel_drivers_match_reference(monkeypatch):
    """Rows are split across threads, never a row's sum; layer norm's grad_weight and grad_bias
    sum 37 rows in chunks, then the chunks. Against the reference, the most roundings: layer
    norm's two row sums of 29 and ~12 operations; the column sums of 37 in any order, fewer."""
    assert_backend_tolerance_covers(max(2 * 29 + 12, 37 + 12), np.float32)
    monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(threads, "NUMBA_GRAIN", 1)
    monkeypatch.setattr(threads, "_fixed", 2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((37, 29)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = compare_backends(K.masked_softmax_forward, x, 0.5, x[:1] > -1)
    compare_backends(K.softmax_backward, y, g, 0.5)
    target = rng.integers(0, 29, 37)
    _, lse = compare_backends(K.cross_entropy_forward, x, target, -100, 0.1)
    compare_backends(K.cross_entropy_backward, x, lse, target, g[:, 0], -100, 0.1)
    compare_backends(K.cross_entropy_fused, x, g[0], target, -100, 0.1, 0.5)
    _, mean, rstd = compare_backends(K.layer_norm_forward, x, g[0], g[1], 1e-5)
    compare_backends(K.layer_norm_backward, g, x, mean, rstd, g[0])
    compare_backends(K.gelu_forward, x, "tanh")
    compare_backends(K.gelu_backward, x, g, "tanh")
    _, keep = compare_backends(K.dropout_forward, x, 0.4)
    compare_backends(K.dropout_backward, g, keep, 0.4)
    compare_backends(K.adam_step, x, g, g * 0.1, g * g, 2, 1e-3, 0.9, 0.999, 1e-8, 0.01, True)


def test_float32_blas_results_hold_with_two_blas_threads():
    """With a pool of two BLAS threads (whatever this machine has), clip_grad_norm_'s float32
    dot over a million entries (kept on one thread) and a product large enough to be threaded
    stay within the gamma_n bounds of float64, and integer data exact."""
    code = f"""
import sys
sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
import numpy as np
import minigrad
from minigrad import nn
from minigrad.nn.utils import clip_grad_norm_
from helpers import float32_sum_tolerance, matmul_tolerance
rng = np.random.default_rng(0)

def norm(values):
    p = nn.Parameter(np.zeros(values.shape, np.float32))
    p.grad = minigrad.tensor(values)
    return clip_grad_norm_(p, 1e9)

g = rng.standard_normal(1_000_003).astype(np.float32)
squares = float(g.astype(np.float64) @ g.astype(np.float64))
assert abs(norm(g) ** 2 - squares) <= float32_sum_tolerance(g.size, squares)
ints = rng.integers(-2, 3, 1_000_003).astype(np.float32)
assert norm(ints) == float((ints.astype(np.int64) ** 2).sum()) ** 0.5
a = rng.standard_normal((256, 192)).astype(np.float32)
b = rng.standard_normal((192, 320)).astype(np.float32)
error = np.abs(a @ b - a.astype(np.float64) @ b.astype(np.float64))
assert (error <= matmul_tolerance(a, b)).all()
print("ok")
"""
    assert run_python(code, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2") == "ok"


@numba.njit
def _exp_all(t, out):
    for i in range(t.size):
        out[i] = fast_exp(t[i])


def test_vectorised_float32_exp_is_accurate_to_two_ulp():
    t = np.linspace(-87.3, 88.3, 400_001, dtype=np.float32)
    out = np.empty_like(t)
    _exp_all(t, out)
    exact = np.exp(t.astype(np.float64))
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(out - exact) / ulp) < 2.0
    edge = np.array([-200.0, -np.inf, 0.0, np.nan], dtype=np.float32)
    _exp_all(edge, out[:4])
    assert out[:3].tolist() == [0.0, 0.0, 1.0] and np.isnan(out[3])


def test_cache_dir_falls_back_when_the_package_is_read_only(tmp_path):
    read_only = tmp_path / "file"  # a file: nothing can be created inside it
    read_only.write_text("")
    env = {}
    assert _jit.choose_cache_dir(env, str(read_only), str(tmp_path / "c")) == str(tmp_path / "c")
    assert env == {"NUMBA_CACHE_DIR": str(tmp_path / "c")}
    env = {}
    assert _jit.choose_cache_dir(env, str(tmp_path), str(tmp_path / "c")) is None and env == {}
    env = {"NUMBA_CACHE_DIR": "/chosen"}
    assert _jit.choose_cache_dir(env, str(read_only), str(tmp_path / "c")) == "/chosen"
    env = {}
    assert _jit.choose_cache_dir(env, str(read_only), str(read_only / "x")) is None and env == {}


def test_an_openmp_runtime_loaded_before_us_is_found_unless_a_policy_is_set(tmp_path):
    maps = tmp_path / "maps"
    gomp = "/venv/torch/lib/libgomp.so.1"
    maps.write_text(
        f"7f00-7f01 r-xp 0 08:01 1 /usr/lib/libc.so.6\n7f02-7f03 r-xp 0 08:01 2 {gomp}\n"
    )
    assert _jit.openmp_loaded_without_policy({}, str(maps)) == gomp
    assert _jit.openmp_loaded_without_policy({"OMP_WAIT_POLICY": "ACTIVE"}, str(maps)) is None
    maps.write_text("7f00-7f01 r-xp 0 08:01 1 /usr/lib/libc.so.6\n")
    assert _jit.openmp_loaded_without_policy({}, str(maps)) is None
    assert _jit.openmp_loaded_without_policy({}, str(tmp_path / "missing")) is None


def test_importing_minigrad_after_an_openmp_runtime_warns():
    script = (
        "import ctypes, ctypes.util, warnings\n"
        "ctypes.CDLL(ctypes.util.find_library('gomp') or 'libgomp.so.1')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import minigrad\n"
        "print(any('OMP_WAIT_POLICY=PASSIVE' in str(w.message) for w in caught))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    if "OSError" in done.stderr:
        pytest.skip("no libgomp on this machine")
    assert done.stdout.strip() == "True", done.stderr


def test_kernels_still_compile_without_any_cache_location(monkeypatch):
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in Numba 0.61
    monkeypatch.setattr(impl, "_locator_classes", [])
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")

    def double(a):
        return 2 * a

    assert _jit.kernel()(double)(21) == 42


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="nothing is compiled under DISABLE_JIT")
def test_interleave_option_is_set_only_while_the_kernel_compiles(monkeypatch):
    calls = []
    monkeypatch.setattr(_jit.llvm, "set_option", lambda name, option: calls.append(option))

    def triple(a):
        return 3 * a

    compiled = _jit.kernel(interleave=1)(triple)
    assert calls == []  # lazy: nothing compiled yet
    assert compiled(7) == 21
    assert calls == ["-force-vector-interleave=1", "-force-vector-interleave=0"]
    assert compiled(8) == 24 and len(calls) == 2  # compiled once


def test_rng_state_round_trips():
    x = np.ones(100, dtype=np.float32)
    state = K.get_rng_state()
    first = K.dropout_forward(x, 0.5)[1]
    K.set_rng_state(state)
    assert (K.dropout_forward(x, 0.5)[1] == first).all()


def test_masked_and_unmasked_softmax_share_one_compiled_signature_per_dtype():
    from minigrad.kernels import numba_softmax

    x = np.ones((3, 4), dtype=np.float32)
    read_only_mask = np.ones((3, 4), dtype=bool)
    read_only_mask.flags.writeable = False
    with K.use_backend("numba"):
        for mask in (None, x > 0, read_only_mask):
            K.masked_softmax_forward(x, 1.0, mask)
    float32_signatures = [
        s for s in numba_softmax._softmax_short.signatures if str(s[0].dtype) == "float32"
    ]
    assert len(float32_signatures) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_backward_adds_repeated_ids_in_order_in_both_backends(dtype):
    """The same additions in the same order as np.add.at: equal bits, not just close."""
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((50, 7)).astype(dtype)
    ids = rng.integers(0, 5, 50)
    fast, ref = (result for result, _ in run_both(K.embedding_backward, rows, ids, 9))
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(ref[5:], 0)
    with pytest.raises(IndexError, match=r"ids must be integers in \[0, 9\)"):
        K.embedding_backward(rows, np.full(50, 9), 9)
    with pytest.raises(ValueError, match="need rows"):
        K.embedding_backward(rows, ids[:3], 9)
