"""Layer norm, GELU and dropout: Numba against the reference, the references against finite
differences and known values, and dropout's seeding and statistics."""

import math

import numpy as np
import pytest
from helpers import assert_backend_tolerance_covers, assert_within, gamma, layer_norm_tolerance

from minigrad import kernels as K
from minigrad.kernels.testing import compare_backends, numerical_grad

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_reference(dtype, affine):
    # Forward: the mean and the variance are sums of 33 terms, plus ~10 operations per entry;
    # backward: two row sums of 33 and ~10 operations, column sums (weight, bias) of 19 rows.
    assert_backend_tolerance_covers(2 * 33 + 10, dtype)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((19, 33)) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal((2, 33)).astype(dtype) if affine else (None, None)
    y, mean, rstd = compare_backends(K.layer_norm_forward, x, w, b, 1e-5)
    assert y.dtype == mean.dtype == rstd.dtype == dtype
    grad = rng.standard_normal(x.shape).astype(dtype)
    compare_backends(K.layer_norm_backward, grad, x, mean, rstd, w)


def test_layer_norm_reference_matches_definition_and_finite_differences():
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((2, 3, 6))
    w, b = rng.standard_normal((2, 6))
    with K.use_backend("numpy"):
        y, mean, rstd = K.layer_norm_forward(x, w, b, 1e-5)
        expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) * w + b
        assert_within(y, expected, 2 * layer_norm_tolerance(x, w, b), "layer norm definition")
        grads = K.layer_norm_backward(g, x, mean, rstd, w)

        def loss():
            return (K.layer_norm_forward(x, w, b, 1e-5)[0] * g).sum()

        for analytic, wrt in zip(grads, (x, w, b), strict=True):
            np.testing.assert_allclose(analytic, numerical_grad(loss, wrt), atol=1e-7)


def test_layer_norm_length_one_rows_and_non_contiguous_input():
    assert_backend_tolerance_covers(2 * 8 + 10, np.float32)
    x = np.array([[3.0], [-2.0]], dtype=np.float32)
    y, _, rstd = compare_backends(K.layer_norm_forward, x, None, np.array([0.5], np.float32), 1e-5)
    assert (y == 0.5).all() and np.allclose(rstd, 1 / math.sqrt(1e-5))
    rng = np.random.default_rng(2)
    wide = rng.standard_normal((8, 5)).astype(np.float32).T  # (5, 8), column-major
    y, mean, rstd = compare_backends(K.layer_norm_forward, wide, None, None, 1e-5)
    compare_backends(K.layer_norm_backward, wide[::-1], wide, mean, rstd, None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_reference(dtype, approximate):
    # Elementwise: exp or erfc to a few ulps and ~10 operations; the error is relative to |x|
    # where 1 + tanh cancels (large negative x), which compare_backends' atol (relative to the
    # largest value) covers.
    assert_backend_tolerance_covers(20, dtype)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((7, 45)) * 4).astype(dtype)
    x[0, :4] = [0.0, -30.0, 30.0, -9.0]
    compare_backends(K.gelu_forward, x, approximate)
    compare_backends(K.gelu_backward, x, rng.standard_normal(x.shape).astype(dtype), approximate)


def test_gelu_reference_known_values_and_finite_differences():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    with K.use_backend("numpy"):
        np.testing.assert_allclose(K.gelu_forward(x, "none"), x * phi, rtol=1e-14)
        np.testing.assert_allclose(
            K.gelu_forward(x, "tanh"), 0.5 * x * (1 + np.tanh(u)), rtol=1e-12
        )
        for mode in ("none", "tanh"):
            numeric = numerical_grad(lambda mode=mode: K.gelu_forward(x, mode).sum(), x)
            np.testing.assert_allclose(K.gelu_backward(x, np.ones(5), mode), numeric, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_masks_are_identical_across_backends_and_follow_the_seed(dtype):
    x = np.arange(1.0, 2001.0, dtype=dtype).reshape(40, 50)
    K.seed(7)
    y, keep = compare_backends(K.dropout_forward, x, 0.3)
    assert keep.dtype == np.bool_ and y.dtype == dtype
    # x (integers) times 1 / 0.7 rounded, rounded: two roundings, the expected one: three
    np.testing.assert_allclose(y[keep], x[keep] / 0.7, rtol=gamma(3, dtype), atol=0)
    assert (y[~keep] == 0).all() and abs(keep.mean() - 0.7) < 0.03
    compare_backends(K.dropout_backward, x, keep, 0.3)
    for backend in K.BACKENDS:
        with K.use_backend(backend):
            K.seed(7)
            first = K.dropout_forward(x, 0.3)[1]
            second = K.dropout_forward(x, 0.3)[1]
            K.seed(7)
            assert (K.dropout_forward(x, 0.3)[1] == first).all()
            assert (first != second).any()  # the stream moves on


def test_dropout_edge_probabilities_and_bad_p():
    x = np.ones((3, 4), dtype=np.float32)
    y, keep = compare_backends(K.dropout_forward, x, 0.0)
    assert keep.all() and (y == x).all()
    y, keep = compare_backends(K.dropout_forward, x, 1.0)
    assert not keep.any() and (y == 0).all()
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        K.dropout_forward(x, 1.5)
    with pytest.raises(ValueError, match="approximate must be one of"):
        K.gelu_forward(x, "erf")
    with pytest.raises(ValueError, match=r"keep_mask has shape \(1, 4\), expected \(3, 4\)"):
        K.dropout_backward(x, np.ones((1, 4), dtype=bool), 0.5)
    with pytest.raises(ValueError, match=r"x must be \(N, D\)"):
        K.layer_norm_forward(np.ones((2, 3, 4)), None, None, 1e-5)
    with pytest.raises(ValueError, match=r"weight has shape \(3,\), expected \(4,\)"):
        K.layer_norm_forward(np.ones((2, 4)), np.ones(3), None, 1e-5)
