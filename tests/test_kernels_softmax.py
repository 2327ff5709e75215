"""Softmax family and the attention op built on it: Numba against the numpy reference, the
reference against finite differences, and the edge cases (masks, -inf, huge values, odd layouts)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import kernels as K
from minigrad.kernels.numba_softmax import SHORT_ROW
from minigrad.kernels.testing import TOLERANCE, numerical_grad, run_both
from minigrad.kernels.testing import compare_backends as compare

DTYPES = [np.float32, np.float64]


shapes = st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple)


def compare_softmax_backward(y, grad, scale):
    """Both backends' dx = scale * y * (grad - sum(grad * y)) agree. The difference cancels
    (two near-equal rows give dx near 0), so round-off is judged against the size of the terms,
    scale * y * (|grad| + |sum(grad * y)|), not against dx itself."""
    (fast, _), (ref, _) = run_both(K.softmax_backward, y, grad, scale)
    terms = scale * y * (np.abs(grad) + np.abs((grad * y).sum(axis=-1, keepdims=True)))
    tol = TOLERANCE[np.dtype(y.dtype)]
    assert fast.dtype == ref.dtype
    np.testing.assert_array_less(np.abs(fast - ref), tol * (np.abs(ref) + terms) + 1e-30)


@settings(max_examples=12, deadline=None)
@given(shape=shapes, data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_softmax_matches_reference(dtype, shape, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    mask_shape = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    mask = rng.random(mask_shape) > 0.3
    y = compare(K.masked_softmax_forward, x, 0.7, mask)
    grad = rng.standard_normal(shape).astype(dtype)
    compare_softmax_backward(y, grad, 0.7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_cols", [SHORT_ROW - 1, SHORT_ROW, SHORT_ROW + 1, 300])
def test_short_and_long_row_kernels_match_reference(dtype, n_cols):
    """Rows up to SHORT_ROW columns and longer rows run separately compiled kernels."""
    rng = np.random.default_rng(n_cols)
    x = (rng.standard_normal((2, 3, n_cols)) * 4).astype(dtype)
    causal_like = np.tri(3, n_cols, k=n_cols - 3, dtype=bool)
    for mask in (None, causal_like):
        y = compare(K.masked_softmax_forward, x, 0.7, mask)
        compare_softmax_backward(y, rng.standard_normal(x.shape).astype(dtype), 0.7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_matches_reference(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 4, 11)) * 5).astype(dtype)
    x[0, 0, :] = -np.inf  # a dead row
    x[1, 1, 3] = -np.inf  # one -inf entry
    y = compare(K.log_softmax_forward, x)
    assert np.isneginf(y[0, 0]).all() and np.isneginf(y[1, 1, 3])
    grad = compare(K.log_softmax_backward, y, rng.standard_normal(x.shape).astype(dtype))
    assert (grad[0, 0] == 0).all()


def test_softmax_rows_sum_to_one_and_follow_the_mask():
    x = np.arange(12.0).reshape(3, 4)
    mask = np.array([[True, True, False, True], [False] * 4, [True, False, False, False]])
    for backend in K.BACKENDS:
        with K.use_backend(backend):
            y = K.masked_softmax_forward(x, 2.0, mask)
        e = np.exp(2.0 * np.array([0.0, 1.0, 3.0]) - 6.0)
        np.testing.assert_allclose(y[0], np.insert(e / e.sum(), 2, 0.0), rtol=1e-14)
        assert (y[1] == 0).all()  # nothing allowed: zeros, not NaN
        assert y[2].tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_logits_stay_finite(dtype):
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [3e4, 3e4, 3e4, 3e4]], dtype=dtype)
    y = compare(K.masked_softmax_forward, x, 1.0, None)
    assert np.isfinite(y).all() and np.allclose(y.sum(axis=1), 1.0)
    assert np.isfinite(compare(K.log_softmax_forward, x)).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_and_length_one_axes(dtype):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((5, 7, 3)).astype(dtype)
    x = base.transpose(2, 0, 1)[:, ::2]  # (3, 3, 7), strided
    mask = (rng.random((7, 2)) > 0.5)[:, 0]  # (7,), strided
    y = compare(K.masked_softmax_forward, x, 1.3, mask)
    grad = rng.standard_normal((7, 3, 3)).astype(dtype).transpose(1, 2, 0)
    compare_softmax_backward(y, grad, 1.3)
    single = rng.standard_normal((4, 1)).astype(dtype)
    assert (compare(K.masked_softmax_forward, single, 1.0, None) == 1.0).all()
    assert (compare(K.log_softmax_forward, single) == 0.0).all()


def test_reference_softmax_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5))
    weights = rng.standard_normal((3, 5))
    mask = rng.random((3, 5)) > 0.3
    with K.use_backend("numpy"):
        y = K.masked_softmax_forward(x, 0.8, mask)
        grad = K.softmax_backward(y, weights, 0.8)
        numeric = numerical_grad(
            lambda: (K.masked_softmax_forward(x, 0.8, mask) * weights).sum(), x
        )
        np.testing.assert_allclose(grad, numeric, atol=1e-8)
        logp = K.log_softmax_forward(x)
        grad = K.log_softmax_backward(logp, weights)
        numeric = numerical_grad(lambda: (K.log_softmax_forward(x) * weights).sum(), x)
        np.testing.assert_allclose(grad, numeric, atol=1e-8)


def attention_op(q, k, v, mask, grad_out, scale=0.5):
    """The fused attention op (`F.attention`, whose softmax is a kernel) on plain arrays:
    (out, weights, grad_q, grad_k, grad_v) for the incoming gradient ``grad_out``."""
    inputs = [minigrad.tensor(a, requires_grad=True) for a in (q, k, v)]
    out, weights = F.attention(*inputs, mask, scale=scale)
    out.backward(grad_out)
    return out.data, weights.data, *(t.grad.data for t in inputs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [None, (2, 1, 1, 6), (5, 6), (2, 3, 5, 6)])
def test_attention_matches_reference(dtype, mask_shape):
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    k, v = rng.standard_normal((2, 2, 3, 6, 4)).astype(dtype)
    mask = None if mask_shape is None else rng.random(mask_shape) > 0.4
    grad_out = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    compare(attention_op, q, k, v, mask, grad_out)


def test_attention_fully_masked_rows_give_zero_output_and_gradient():
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((3, 1, 2, 4, 3))
    mask = np.ones((4, 4), dtype=bool)
    mask[2] = False
    for backend in K.BACKENDS:
        with K.use_backend(backend):
            out, weights, *grads = attention_op(q, k, v, mask, np.ones_like(q), 1.0)
        assert (out[..., 2, :] == 0).all() and (grads[0][..., 2, :] == 0).all()
        assert np.isfinite(np.concatenate([g.ravel() for g in grads])).all()


def test_reference_attention_gradients_match_finite_differences():
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((1, 2, n, 3)) for n in (3, 4, 4))
    mask = np.tril(np.ones((3, 4), dtype=bool))
    weights_out = rng.standard_normal((1, 2, 3, 3))
    with K.use_backend("numpy"):
        *_, grad_q, grad_k, grad_v = attention_op(q, k, v, mask, weights_out, 0.6)

        def loss():
            return (attention_op(q, k, v, mask, weights_out, 0.6)[0] * weights_out).sum()

        for analytic, wrt in zip((grad_q, grad_k, grad_v), (q, k, v), strict=True):
            np.testing.assert_allclose(analytic, numerical_grad(loss, wrt), atol=1e-8)


def test_softmax_input_errors_are_clear():
    x = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        K.masked_softmax_forward(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"mask of shape \(4,\) does not broadcast to \(2, 3\)"):
        K.masked_softmax_forward(x, 1.0, np.ones(4, dtype=bool))
    with pytest.raises(TypeError, match="mask must be bool"):
        K.masked_softmax_forward(x, 1.0, np.ones(3))
    with pytest.raises(TypeError, match="share one dtype"):
        K.softmax_backward(x, x.astype(np.float64))
