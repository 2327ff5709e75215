"""Softmax family and the attention op built on it: Numba against the numpy reference, the
reference against finite differences, and the edge cases (masks, -inf, huge values, odd layouts)."""

import numpy as np
import pytest
from helpers import assert_within, gamma, unit_roundoff
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import kernels as K
from minigrad.kernels.numba_softmax import SHORT_ROW
from minigrad.kernels.testing import numerical_grad, run_both

DTYPES = [np.float32, np.float64]
# exp's own error, in ulps (one ulp of e is at most 2u e): our float32 exp is within 2 ulp
# (test_kernels_backend), numpy's SIMD float32 exp within 2.52 ulp (its documentation), libm's
# float64 exp within 1 ulp.
EXP_ULPS = 3
LOG_ULPS = 4  # numpy's SIMD float32 log: within 3.83 ulp (its documentation); libm: 1 ulp


shapes = st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple)


def softmax_and_error_bound(x, scale, mask, dtype):
    """(y, bound): the exact y = softmax(scale * x), masked, in float64, and the worst-case error
    of one backend's y to first order in u, for any summation order and vector width:
    y_j (e_j + sum_k y_k e_k + gamma_n + 2u). e_j is the relative error of exp(z_j - m): the
    rounded exponent's absolute error u (|scale x_j| + |z_j - m|), then exp's own;
    sum_k y_k e_k carries those into the row sum, gamma_n is the sum's n additions, 2u the
    division (a reciprocal and a product in the kernel), and an exponential below the smallest
    normal float may come out as 0 (our float32 exp flushes) or subnormal: `tiny` absolute.
    Masked entries are exactly 0."""
    u = unit_roundoff(dtype)
    scaled = scale * np.asarray(x, np.float64)
    allowed = np.broadcast_to(True if mask is None else mask, scaled.shape)
    z = np.where(allowed, scaled, -np.inf)
    m = z.max(axis=-1, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(m), m, 0.0)
    e = np.where(allowed, np.exp(z - shift), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    y = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    e_rel = np.where(allowed, u * (np.abs(scaled) + np.abs(z - shift)), 0) + 2 * u * EXP_ULPS
    n = allowed.sum(axis=-1, keepdims=True)
    row = (y * e_rel).sum(axis=-1, keepdims=True) + gamma(n, dtype) + 2 * u
    tiny = np.where(allowed, np.finfo(dtype).tiny, 0.0)
    return y, y * (e_rel + row) * (1 + 1e-3) + tiny  # 1e-3: room for second-order terms


def compare_softmax_forward(x, scale, mask):
    """Both backends' masked softmax agree within twice `softmax_and_error_bound`; returns the
    reference's result."""
    (fast, _), (ref, _) = run_both(K.masked_softmax_forward, x, scale, mask)
    assert fast.dtype == ref.dtype == x.dtype
    _, bound = softmax_and_error_bound(x, scale, mask, x.dtype)
    assert_within(fast, ref, 2 * bound, "masked_softmax_forward: numba against numpy")
    return ref


def compare_softmax_backward(y, grad, scale):
    """Both backends' dx = scale * y * (grad - sum(grad * y)) agree. The difference cancels
    (two near-equal rows give dx near 0), so round-off is judged against the size of the terms:
    sum(grad * y) over n entries in any order is off by at most gamma_n sum|grad * y|, and the
    subtraction and two products add three roundings, so each backend is within
    gamma_{n+3} |scale y| (|grad| + sum|grad * y|) of the exact value (y and grad are the same
    inputs for both)."""
    (fast, _), (ref, _) = run_both(K.softmax_backward, y, grad, scale)
    n = y.shape[-1]
    terms = np.abs(scale * y) * (np.abs(grad) + np.abs(grad * y).sum(axis=-1, keepdims=True))
    assert fast.dtype == ref.dtype
    tiny = np.finfo(y.dtype).tiny  # products of subnormal weights
    assert_within(fast, ref, 2 * gamma(n + 3, y.dtype) * terms + tiny, "softmax_backward")


def compare_log_softmax(x, grad):
    """Both backends' log_softmax forward and backward agree; returns the reference's (y, dx).
    Forward, each backend: y_j = (x_j - m) - log(S), S = sum_k exp(x_k - m), has two
    subtractions, which the kernel (compiled with fast-math reassociation) may do as
    x_j - (m + log S): 2u (|x_j| + |m| + |log S|) covers either order. S is off by gamma_n plus
    each term's exponent and exp errors weighted by p_k = exp(y_k), and log adds LOG_ULPS ulps of
    log(S). Backward: dx = grad - exp(y) sum(grad): the sum is off by gamma_n sum|grad|, and exp,
    the product and the subtraction add 2 EXP_ULPS + 2 roundings, so each backend is within
    gamma_{n + 2 EXP_ULPS + 2} (|grad| + exp(y) sum|grad|). Entries of -inf must match exactly."""
    (fast, _), (ref, _) = run_both(K.log_softmax_forward, x)
    assert fast.dtype == ref.dtype == x.dtype
    u, n = unit_roundoff(x.dtype), x.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):  # -inf entries and dead rows
        x64 = np.asarray(x, np.float64)
        m = x64.max(axis=-1, keepdims=True, initial=-np.inf)
        shifted = x64 - np.where(np.isfinite(m), m, 0.0)
        y = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        finite = np.isfinite(y)
        p, shifted = np.where(finite, np.exp(y), 0), np.where(finite, shifted, 0)
        log_s = np.where(finite, shifted - y, 0)
    sum_rel = gamma(n, x.dtype) + (p * u * np.abs(shifted)).sum(-1, keepdims=True)
    sum_rel = sum_rel + 2 * u * EXP_ULPS
    m_abs = np.where(np.isfinite(m), np.abs(m), 0)
    bound = 2 * u * (np.abs(np.where(finite, x64, 0)) + m_abs + np.abs(log_s)) + sum_rel
    bound = (bound + 2 * u * LOG_ULPS * np.abs(log_s)) * (1 + 1e-3)
    np.testing.assert_array_equal(fast[~finite], ref[~finite])
    assert_within(fast[finite], ref[finite], 2 * bound[finite], "log_softmax_forward")
    (fast_dx, _), (ref_dx, _) = run_both(K.log_softmax_backward, ref, grad)
    dx_terms = np.abs(grad) + np.exp(ref.astype(np.float64)) * np.abs(grad).sum(-1, keepdims=True)
    bound = gamma(n + 2 * EXP_ULPS + 2, x.dtype) * dx_terms + np.finfo(x.dtype).tiny
    assert_within(fast_dx, ref_dx, 2 * bound, "log_softmax_backward")
    return ref, ref_dx


def compare_attention(q, k, v, mask, scale, grad_out):
    """Both backends' attention op (`attention_op`: forward and backward) agree; returns the
    reference's (out, weights, dq, dk, dv). Both send the products to the same BLAS call and
    differ in the softmax (forward and backward) only, but every product is still given its
    own gamma bound, so nothing here assumes that BLAS repeats itself. Forward: out = W v with
    W off by `softmax_and_error_bound` (bw) per backend, so out is off by bw @ |v| +
    gamma_Lk (W + bw) @ |v|. Backward, with G = grad_out: dv = W^T G (gamma_Lq, plus bw^T |G|
    from W), dW = G v^T (gamma_Dv |G| |v|^T), dS = scale W (dW - rowsum(dW W)) (its rounding,
    the error of dW carried through it, and bw carried through it), dq = dS k, dk = dS^T q,
    each with its own gamma."""
    (fast, _), (ref, _) = run_both(attention_op, q, k, v, mask, grad_out, scale)
    dtype, lq, lk, dv_ = q.dtype, q.shape[-2], k.shape[-2], v.shape[-1]
    scores = np.matmul(q, k.swapaxes(-1, -2))  # as the op computes them
    w, bw = softmax_and_error_bound(scores, scale, mask, dtype)
    abs_v, abs_k, abs_q = (np.abs(a.astype(np.float64)) for a in (v, k, q))
    out_bound = bw @ abs_v + gamma(lk, dtype) * (w + bw) @ abs_v
    assert_within(fast[0], ref[0], 2 * out_bound, "attention: out")
    assert_within(fast[1], ref[1], 2 * bw, "attention: weights")
    abs_w, abs_g = np.abs(w) + bw, np.abs(grad_out.astype(np.float64))
    dweights = abs_g @ abs_v.swapaxes(-1, -2)  # |G| |v|^T: bounds |dW| and its error / gamma
    d_dweights = gamma(dv_, dtype) * dweights
    s_w = np.abs(scale) * abs_w
    ds = s_w * (dweights + (dweights * abs_w).sum(-1, keepdims=True))
    from_weights = np.abs(scale) * (
        bw * (dweights + (dweights * abs_w).sum(-1, keepdims=True))
        + abs_w * (dweights * bw).sum(-1, keepdims=True)
    )
    ds_bound = (
        gamma(lk + 3, dtype) * ds
        + s_w * (d_dweights + (d_dweights * abs_w).sum(-1, keepdims=True))
        + from_weights
    )
    dq_bound = ds_bound @ abs_k + gamma(lk, dtype) * (ds + ds_bound) @ abs_k
    dk_bound = ds_bound.swapaxes(-1, -2) @ abs_q + gamma(lq, dtype) * (
        (ds + ds_bound).swapaxes(-1, -2) @ abs_q
    )
    dv_bound = gamma(lq, dtype) * abs_w.swapaxes(-1, -2) @ abs_g + bw.swapaxes(-1, -2) @ abs_g
    for name, a, b, bound in zip(
        ("dq", "dk", "dv"), fast[2:], ref[2:], (dq_bound, dk_bound, dv_bound), strict=True
    ):
        assert a.dtype == b.dtype == dtype
        assert_within(a, b, 2 * bound, f"attention backward: {name}")
    return ref


@settings(max_examples=12, deadline=None)
@given(shape=shapes, data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_softmax_matches_reference(dtype, shape, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    mask_shape = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    mask = rng.random(mask_shape) > 0.3
    y = compare_softmax_forward(x, 0.7, mask)
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
        y = compare_softmax_forward(x, 0.7, mask)
        compare_softmax_backward(y, rng.standard_normal(x.shape).astype(dtype), 0.7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_matches_reference(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 4, 11)) * 5).astype(dtype)
    x[0, 0, :] = -np.inf  # a dead row
    x[1, 1, 3] = -np.inf  # one -inf entry
    y, grad = compare_log_softmax(x, rng.standard_normal(x.shape).astype(dtype))
    assert np.isneginf(y[0, 0]).all() and np.isneginf(y[1, 1, 3])
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
    y = compare_softmax_forward(x, 1.0, None)
    assert np.isfinite(y).all() and np.allclose(y.sum(axis=1), 1.0)
    assert np.isfinite(compare_log_softmax(x, np.ones_like(x))[0]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_and_length_one_axes(dtype):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((5, 7, 3)).astype(dtype)
    x = base.transpose(2, 0, 1)[:, ::2]  # (3, 3, 7), strided
    mask = (rng.random((7, 2)) > 0.5)[:, 0]  # (7,), strided
    y = compare_softmax_forward(x, 1.3, mask)
    grad = rng.standard_normal((7, 3, 3)).astype(dtype).transpose(1, 2, 0)
    compare_softmax_backward(y, grad, 1.3)
    single = rng.standard_normal((4, 1)).astype(dtype)
    assert (compare_softmax_forward(single, 1.0, None) == 1.0).all()
    assert (compare_log_softmax(single, np.ones_like(single))[0] == 0.0).all()


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
    compare_attention(q, k, v, mask, 0.5, grad_out)


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
