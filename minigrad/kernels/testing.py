"""Helpers for testing kernels: run a call under both backends, compare with a dtype-aware
tolerance, and take central-difference gradients of the references."""

import numpy as np

from . import _backend, counter_rng

TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def run_both(fn, *args, **kwargs):
    """(numba result, numpy result) of fn(*args, **kwargs); the dropout stream restarts from the
    same position for both, and array arguments are copied so in-place kernels see equal inputs."""
    results = []
    state = counter_rng.get_state()
    for backend in ("numba", "numpy"):
        counter_rng.set_state(state)
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        with _backend.use_backend(backend):
            results.append((fn(*copies, **kwargs), copies))
    return results


def compare_backends(fn, *args, **kwargs):
    """Run fn under both backends and assert that every returned array, and every array argument
    (in-place kernels), agrees; returns the reference's result."""
    (fast, fast_args), (ref, ref_args) = run_both(fn, *args, **kwargs)
    pairs = list(zip(_as_tuple(fast), _as_tuple(ref), strict=True))
    pairs += [(a, b) for a, b in zip(fast_args, ref_args, strict=True) if isinstance(b, np.ndarray)]
    for a, b in pairs:
        if b is None:
            assert a is None
        elif b.dtype.kind != "f":  # masks, targets: exactly equal
            np.testing.assert_array_equal(a, b)
        else:
            assert a.dtype == b.dtype, f"dtype {a.dtype} != {b.dtype}"
            assert_close(a, b)
    return ref


def _as_tuple(result):
    """A kernel's result as a tuple of its outputs."""
    return result if isinstance(result, tuple) else (result,)


def assert_close(actual, expected, dtype=None, scale=1.0):
    """Equal within TOLERANCE[dtype] relative to each value, or to `scale` times the largest
    magnitude in `expected` near zero; infinities must match exactly and NaN never appears."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    tol = TOLERANCE[np.dtype(dtype or expected.dtype)] * scale
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert not np.isnan(actual).any(), "NaN in result"
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite], expected[~finite])
    magnitude = float(np.abs(expected[finite]).max(initial=0.0))
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=tol, atol=tol * magnitude)


def numerical_grad(f, x, eps=1e-6):
    """Central-difference gradient of the scalar f at float64 array x (x is restored after)."""
    grad = np.zeros_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = f()
        flat[i] = saved - eps
        down = f()
        flat[i] = saved
        out[i] = (up - down) / (2 * eps)
    return grad
