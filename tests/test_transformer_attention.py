"""Attention and masks: the formula, the mask convention, no NaN, multi-head shapes, gradients."""

import numpy as np
import pytest
from helpers import assert_within, gamma, leaf, unit_roundoff

import minigrad
from transformer import (
    MultiHeadAttention,
    causal_mask,
    combine_masks,
    padding_mask,
    scaled_dot_product_attention,
    target_mask,
)

RNG = np.random.default_rng(5)


def reference_attention(q, k, v, mask):
    """softmax(q k^T / sqrt(d) with blocked pairs removed) v, in plain numpy."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return weights @ v, weights


def random_qkv(batch=2, heads=3, q_len=4, k_len=5, d=6, dtype=np.float64):
    shapes = [(batch, heads, q_len, d), (batch, heads, k_len, d), (batch, heads, k_len, d)]
    return [minigrad.tensor(RNG.standard_normal(s), dtype=dtype) for s in shapes]


def test_masks_have_the_documented_shapes_and_values():
    ids = np.array([[5, 6, 0], [7, 0, 0]])
    assert padding_mask(ids, 0).shape == (2, 1, 1, 3)
    np.testing.assert_array_equal(padding_mask(ids, 0)[:, 0, 0], ids != 0)
    np.testing.assert_array_equal(causal_mask(3)[0, 0], np.tril(np.ones((3, 3), bool)))
    # more keys than queries: the queries are the last positions (cached decoding)
    np.testing.assert_array_equal(causal_mask(2, 4)[0, 0], [[1, 1, 1, 0], [1, 1, 1, 1]])
    full = target_mask(ids, 0)
    assert full.shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(full[1, 0], [[1, 0, 0], [1, 0, 0], [1, 0, 0]])
    assert combine_masks(None, None) is None
    np.testing.assert_array_equal(combine_masks(minigrad.tensor(ids != 0), None), ids != 0)


def test_mask_errors_are_clear():
    with pytest.raises(ValueError, match="batch, length"):
        padding_mask(np.zeros(3, dtype=int), 0)
    with pytest.raises(TypeError, match="boolean"):
        combine_masks(np.ones((2, 2)))
    with pytest.raises(ValueError, match="do not broadcast"):
        combine_masks(np.ones((2, 3), bool), np.ones((4, 1), bool))
    q, k, v = random_qkv()
    with pytest.raises(ValueError, match="does not broadcast to the scores"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((2, 1, 1, 4), bool))
    with pytest.raises(ValueError, match="k_len, d_k"):
        scaled_dot_product_attention(q, k[..., :3], v)


def test_scaled_dot_product_attention_matches_the_formula():
    q, k, v = random_qkv()
    mask = RNG.random((2, 1, 4, 5)) < 0.7
    mask[..., 0] = True
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    want_out, want_weights = reference_attention(q.data, k.data, v.data, mask)
    np.testing.assert_allclose(out.data, want_out, atol=1e-12)
    np.testing.assert_allclose(weights.data, want_weights, atol=1e-12)


def test_weights_are_a_distribution_over_the_attended_keys():
    q, k, v = random_qkv(dtype=np.float32)
    mask = padding_mask(np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]), 0)
    _, weights = scaled_dot_product_attention(q, k, v, mask, is_causal=True)
    w = weights.data
    assert (w >= 0).all()
    # The weights are e_j / S with S the rounded sum of the same rounded e_j, so the errors of
    # the exponent and of exp cancel: the sum is 1 within gamma_{n+2} (the n - 1 additions of S,
    # the reciprocal, the product), n = 5 keys; the float32 sum here adds gamma_{n-1}.
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=0, atol=gamma(2 * 5 + 1))
    allowed = mask & causal_mask(4, 5)
    assert (w[np.broadcast_to(~allowed, w.shape)] == 0).all()


def test_rows_with_nothing_to_attend_give_zeros_and_finite_gradients():
    q, k, v = (leaf(1, 2, 3, 4), leaf(1, 2, 5, 4), leaf(1, 2, 5, 4))
    mask = np.ones((1, 1, 3, 5), bool)
    mask[0, 0, 1] = False  # query 1 may attend to nothing
    with minigrad.detect_anomaly():  # raises on any NaN/inf, forward or backward
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        (out * out).sum().backward()
    assert (weights.data[:, :, 1] == 0).all() and (out.data[:, :, 1] == 0).all()
    assert all(np.isfinite(t.grad.data).all() for t in (q, k, v))
    assert (q.grad.data[:, :, 1] == 0).all()


def test_attention_gradients():
    q, k, v = leaf(2, 2, 3, 4), leaf(2, 2, 5, 4), leaf(2, 2, 5, 4)
    mask = padding_mask(np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]), 0)
    assert minigrad.gradcheck(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, mask, is_causal=True)[0], [q, k, v]
    )


def test_multi_head_attention_shapes_for_self_and_cross_attention():
    mha = MultiHeadAttention(d_model=12, num_heads=3)
    x = minigrad.randn(2, 4, 12)
    memory = minigrad.randn(2, 7, 12)
    assert mha(x, x, x).shape == (2, 4, 12)
    assert mha.last_attention.shape == (2, 3, 4, 4)
    src_mask = padding_mask(np.array([[1] * 7, [1] * 5 + [0] * 2]), 0)
    assert mha(x, memory, memory, src_mask).shape == (2, 4, 12)
    attention = mha.last_attention
    assert isinstance(attention, np.ndarray) and attention.shape == (2, 3, 4, 7)
    # as in test_weights_are_a_distribution_over_the_attended_keys, for 7 keys
    np.testing.assert_allclose(attention.sum(-1), 1.0, rtol=0, atol=gamma(2 * 7 + 1))
    assert (attention[1, :, :, 5:] == 0).all()


def test_multi_head_attention_equals_per_head_attention_of_the_projections():
    """MultiHead = Concat(head_1..head_h) W^O with head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)."""
    mha = MultiHeadAttention(d_model=8, num_heads=2, bias=False)
    x = minigrad.randn(1, 3, 8)
    out = mha(x, x, x).data
    xd = x.data
    heads = []
    for i in range(2):
        cols = slice(4 * i, 4 * i + 4)
        proj = [xd @ w.weight.data.T[:, cols] for w in (mha.w_q, mha.w_k, mha.w_v)]
        heads.append(reference_attention(*proj, np.ones((3, 3), bool))[0])
    expected = np.concatenate(heads, -1) @ mha.w_o.weight.data.T
    weights = [w.weight.data for w in (mha.w_q, mha.w_k, mha.w_v, mha.w_o)]
    bound = mha_error_bound(xd, *weights, num_heads=2)
    assert_within(out, expected, 2 * bound, "fused multi-head attention against per-head numpy")


def mha_error_bound(x, w_q, w_k, w_v, w_o, num_heads):
    """Worst-case error, to first order in u, of a float32 multi-head self-attention without
    bias or mask, whatever the order of its sums (BLAS kernel, fused or composed): each product
    of inner size n adds gamma_n |a| |b| and carries its inputs' errors; the softmax turns score
    errors e_s into w (e_s + sum w e_s) plus its own exp and row-sum rounding. Computed in
    float64 on absolute values."""
    u = unit_roundoff(np.float32)
    x, w_q, w_k, w_v, w_o = (np.asarray(a, np.float64) for a in (x, w_q, w_k, w_v, w_o))
    d_model, length = x.shape[-1], x.shape[-2]
    d_k = d_model // num_heads
    heads, head_errors = [], []
    for i in range(num_heads):
        cols = slice(d_k * i, d_k * (i + 1))
        q, k, v = (x @ w.T[:, cols] for w in (w_q, w_k, w_v))
        size_q, size_k, size_v = (np.abs(x) @ np.abs(w.T[:, cols]) for w in (w_q, w_k, w_v))
        e_q, e_k, e_v = (gamma(d_model) * a for a in (size_q, size_k, size_v))
        scale = 1 / np.sqrt(d_k)
        s = q @ np.swapaxes(k, -1, -2) * scale
        size_kt, e_kt = np.swapaxes(size_k, -1, -2), np.swapaxes(e_k, -1, -2)
        e_s = scale * (gamma(d_k + 1) * size_q @ size_kt + e_q @ size_kt + size_q @ e_kt)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        own = u * (np.abs(s) + np.abs(s - s.max(-1, keepdims=True))) + 6 * u  # exponent, exp
        rel = e_s + own
        e_w = w * (rel + (w * rel).sum(-1, keepdims=True) + gamma(length + 2))
        heads.append(w @ np.abs(v))
        head_errors.append(gamma(length) * w @ size_v + e_w @ size_v + w @ e_v)
    h, e_h = np.concatenate(heads, -1), np.concatenate(head_errors, -1)
    return gamma(d_model) * h @ np.abs(w_o.T) + e_h @ np.abs(w_o.T)


def test_multi_head_attention_errors():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 4)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"\(batch, length, 8\)"):
        mha(minigrad.randn(2, 3, 6), minigrad.randn(2, 3, 8), minigrad.randn(2, 3, 8))
    with pytest.raises(ValueError, match="key/value lengths"):
        mha(minigrad.randn(2, 3, 8), minigrad.randn(2, 4, 8), minigrad.randn(2, 5, 8))


def test_attention_dropout_only_when_asked():
    mha = MultiHeadAttention(8, 2, dropout=0.5)
    x = minigrad.randn(2, 6, 8)
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x).data, mha(x, x, x).data)
    mha.train()
    assert not np.allclose(mha(x, x, x).data, mha(x, x, x).data)
