"""Shared test helpers: random float64 leaves, and tolerances stated from the arithmetic.

Why tolerances are computed, not picked: a sum, dot product, matrix product, norm or softmax row
is rounded in an order that depends on the BLAS kernel OpenBLAS picks for the CPU (Haswell,
SkylakeX, Zen, or an older core type that OPENBLAS_CORETYPE selects), on the vector width Numba
and numpy compile for, on the number of BLAS threads and on numpy's pairwise blocking. A
tolerance that "passed here" can fail on the next machine (issue 15: a float32 norm over a million
entries, 1.2e-6 off on an AMD EPYC against rel=1e-6). So the tolerances below hold for *any*
summation order; u is the unit roundoff (2**-24 for float32, 2**-53 for float64):

- ``gamma(n) = n u / (1 - n u)``: n chained roundings change a value by at most this relative
  amount (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Lemma 3.1).
- A sum of n terms, in any order (any tree of additions has depth <= n - 1), or a dot product of
  length n (one more rounding for the products; an FMA only removes roundings):
  ``|computed - exact| <= gamma(n) * sum(|terms|)`` (Higham, eq. 3.5 and section 4.2). For terms
  of one sign (squares, exponentials) sum(|terms|) is the sum itself: a relative bound.
- Two computations of the same quantity in different orders (our kernel against the numpy
  reference, fused against composed, cached against full) each obey the bound: they may differ
  by twice it.
- For very long sums gamma(n) is pessimistic (6 % at n = 10**6), but it is the bound that holds:
  the sqrt(n) u estimates for random rounding errors (Higham and Mary, 2019) assume errors of
  mean zero, and a float32 running sum swallows every term below half its ulp, always in the
  same direction (a sequential float32 sum of 10**6 squares is 4.4e-4 off). Long sums are
  better tested exactly: data whose partial sums are all representable (small integers below
  2**24 in float32) make any order exact.

Comparisons that stay exact (``==``, ``assert_array_equal``) are ones that run the same code on
the same shapes twice in one process (determinism, causality, masking), or whose arithmetic is
exact (small integers, powers of two, copies).
"""

import importlib.util

import numpy as np

import minigrad

TINY_TRAIN = [
    "--data", "reverse", "--data-option", "num_train=200", "--data-option", "num_valid=16",
    "--data-option", "num_test=16", "--data-option", "max_len=6", "--d-model", "16",
    "--num-heads", "2", "--num-encoder-layers", "1", "--num-decoder-layers", "1", "--d-ff", "32",
    "--batch-size", "32", "--warmup", "5", "--no-progress",
]  # fmt: skip
"""`python -m transformer train` options for a run of a second or so (the reverse task)."""

RNG = np.random.default_rng(1234)


def leaf(*shape, positive=False, requires_grad=True):
    """A float64 tensor of standard-normal values (``positive``: |x| + 0.5)."""
    data = RNG.standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    return minigrad.tensor(data, dtype=np.float64, requires_grad=requires_grad)


def unit_roundoff(dtype=np.float32):
    """u: half the distance from 1.0 to the next float (2**-24 for float32, 2**-53 for float64)."""
    return float(np.finfo(dtype).eps) / 2


def gamma(n, dtype=np.float32):
    """Higham's gamma_n = n u / (1 - n u): the largest relative change of n chained roundings
    (n: a count, or an array of counts)."""
    nu = np.asarray(n, dtype=np.float64) * unit_roundoff(dtype)
    assert (nu < 1).all(), f"gamma({n}) is unbounded in {np.dtype(dtype).name}"
    return nu / (1 - nu) if nu.ndim else float(nu / (1 - nu))


def sum_tolerance(n, magnitude=1.0, dtype=np.float32):
    """Worst-case |computed - exact| of a sum or dot product of n terms in `dtype`, summed in any
    order (any BLAS kernel, vector width, thread split): gamma(n) * magnitude, where `magnitude`
    is sum(|terms|) (a scalar or an array of them, one per result)."""
    return gamma(n, dtype) * np.asarray(magnitude, dtype=np.float64)


def float32_sum_tolerance(n, magnitude=1.0):
    """`sum_tolerance` in float32: gamma_n (u = 2**-24) times sum(|terms|)."""
    return sum_tolerance(n, magnitude, np.float32)


def matmul_tolerance(a, b, bias=None, dtype=None):
    """Elementwise worst-case error of a @ b (+ bias) computed in `dtype` (default: the result's
    dtype), in any order: gamma(k + 1) * (|a| @ |b| + |bias|), k the inner dimension (Higham
    eq. 3.5; the bias is one more addition). Computed in float64 from the inputs as given."""
    a, b = np.asarray(a), np.asarray(b)
    if dtype is None:
        dtype = np.result_type(a, b) if bias is None else np.result_type(a, b, np.asarray(bias))
    k = a.shape[-1]
    magnitude = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    if bias is not None:
        magnitude = magnitude + np.abs(np.asarray(bias, dtype=np.float64))
    return gamma(k + 1, dtype) * magnitude


def assert_within(actual, expected, bound, err_msg=""):
    """|actual - expected| <= bound elementwise (bound: a scalar or an array that broadcasts);
    the message names the worst entry and how far past its bound it is."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    error = np.abs(actual - expected)
    bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), error.shape)
    if not (error <= bound).all():
        worst = np.unravel_index(np.argmax(error - bound), error.shape)
        raise AssertionError(
            f"{err_msg}: |{actual[worst]!r} - {expected[worst]!r}| = {error[worst]:.3g} exceeds "
            f"the bound {bound[worst]:.3g} at {worst} ({int((error > bound).sum())} of "
            f"{error.size} entries)"
        )


def assert_backend_tolerance_covers(roundings, dtype):
    """minigrad.kernels.testing.compare_backends allows TOLERANCE[dtype] relative to each value
    plus TOLERANCE[dtype] times the largest magnitude. Two backends that each make at most
    `roundings` chained roundings (sums of n terms count n, in any order) differ by at most
    2 gamma(roundings) of that: check that the fixed tolerance covers the kernel under test
    (float32: up to 83 roundings, e.g. two row sums of 33 and 17 more operations)."""
    from minigrad.kernels.testing import TOLERANCE

    allowed = TOLERANCE[np.dtype(dtype)]
    assert 2 * gamma(roundings, dtype) <= allowed, (
        f"{roundings} roundings in {np.dtype(dtype).name} may differ by "
        f"{2 * gamma(roundings, dtype):.2g}, more than compare_backends' {allowed:g}"
    )


def float32_order_tolerance(result32, result64, factor=4.0, ulps=8):
    """Tolerance for two float32 evaluations of one deep computation (a whole model: layer norms,
    attention, residuals) that differ only in the order of their sums, e.g. cached against full
    decoding. A worst-case bound through every layer would be orders of magnitude loose, with a
    data-dependent amplification by layer norm and softmax; instead the rounding error of this
    computation is measured: `result32` against `result64`, the same model and inputs evaluated
    in float64 (exact to 1e-16 here). Both float32 evaluations round at the same operations, with
    the same gamma bounds, through the same sensitivities, so each differs from the exact result
    by an error of that size. `factor` (4) leaves room for how the largest error over many
    outputs varies from one order to another, and `ulps` float32 ulps of the largest output are a
    floor for a lucky small measurement. Returns the allowance for one evaluation: compare two of
    them within twice it."""
    result32 = np.asarray(result32, dtype=np.float64)
    result64 = np.asarray(result64, dtype=np.float64)
    measured = float(np.abs(result32 - result64).max())
    return factor * measured + ulps * 2 * unit_roundoff(np.float32) * float(np.abs(result64).max())


def layer_norm_tolerance(x, weight=None, bias=None, dtype=None, eps=0.0):
    """Worst-case error of y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis of
    n entries, in any order: the mean and the variance are sums of n terms, with ~10 more
    operations (gamma_{2n+10}); the mean's error moves every entry by |mean| / std, and y can
    cancel to near zero through the bias, so the bound is relative to the terms
    (|x_hat| + mean|x| / std) |weight| + |bias|, not to y. Computed in float64."""
    x64 = np.asarray(x, dtype=np.float64)
    n = x64.shape[-1]
    std = np.sqrt(x64.var(-1, keepdims=True) + eps)
    x_hat = (x64 - x64.mean(-1, keepdims=True)) / std
    terms = np.abs(x_hat) + np.abs(x64).mean(-1, keepdims=True) / std
    if weight is not None:
        terms = terms * np.abs(np.asarray(weight, dtype=np.float64))
    if bias is not None:
        terms = terms + np.abs(np.asarray(bias, dtype=np.float64))
    return gamma(2 * n + 10, dtype or np.asarray(x).dtype) * terms


def load_script(path, name=None):
    """A script (an example, a benchmark: file names that may start with a digit) imported as a
    module, so tests can call its functions in-process."""
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
