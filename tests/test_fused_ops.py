"""Fused ops against their composed versions, gradient checks, and the fused switch."""

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import RNG, assert_within, leaf, matmul_tolerance

import minigrad
import minigrad.nn.functional as F


def _composed_attention(q, k, v, mask=None, bias=None):
    scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1]))
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = scores.masked_fill(~mask, -np.inf)
    weights = F.softmax(scores, -1)
    return weights @ v, weights


@pytest.mark.parametrize("with_bias", [False, True])
def test_attention_matches_composed_ops_and_gradients(with_bias):
    q, k, v = leaf(2, 3, 4, 5), leaf(2, 3, 6, 5), leaf(2, 3, 6, 7)
    bias = leaf(3, 4, 6) if with_bias else None
    mask = RNG.random((2, 1, 4, 6)) > 0.3
    mask[0, 0, 1] = False  # a query with nothing to attend to
    out, weights = F.attention(q, k, v, mask, bias=bias)
    expected_out, expected_weights = _composed_attention(q, k, v, mask, bias)
    np.testing.assert_allclose(out.numpy(), expected_out.numpy(), atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights.numpy(), atol=1e-12)
    assert not weights.requires_grad and np.all(out.numpy()[0, :, 1] == 0)
    inputs = [q, k, v] + ([bias] if with_bias else [])
    assert minigrad.gradcheck(lambda *t: F.attention(*t[:3], mask, bias=_at(t, 3))[0], inputs)


def test_attention_returns_its_weights_without_a_graph_too():
    q, k, v = leaf(1, 3, 4), leaf(1, 5, 4), leaf(1, 5, 2)
    with minigrad.no_grad():
        out, weights = F.attention(q, k, v)
    assert out.grad_fn is None
    np.testing.assert_allclose(weights.numpy(), _composed_attention(q, k, v)[1].numpy())


def _at(items, i):
    return items[i] if len(items) > i else None


def test_attention_dropout_is_reproducible_and_differentiable():
    q, k, v = leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3)

    def run(*t):
        minigrad.manual_seed(3)
        return F.attention(*t, dropout_p=0.4)[0]

    np.testing.assert_array_equal(run(q, k, v).numpy(), run(q, k, v).numpy())
    assert minigrad.gradcheck(run, [q, k, v])


def test_fused_switch_is_per_thread_like_grad_mode():
    seen = {}

    def other_thread():
        seen["fused"] = minigrad.is_fused_enabled()

    with minigrad.fused(False):
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert not minigrad.is_fused_enabled()
    assert seen["fused"] and minigrad.is_fused_enabled()


def test_attention_composed_when_fusion_is_off():
    q, k, v = leaf(1, 2, 3, 4), leaf(1, 2, 5, 4), leaf(1, 2, 5, 4)
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False  # a query with nothing to attend to: zero weights, as the fused op
    with minigrad.fused(False):
        out, weights = F.attention(q, k, v, mask)
    assert type(out.grad_fn).__name__ == "MatMul"
    fused_out, fused_weights = F.attention(q, k, v, mask)
    np.testing.assert_allclose(out.numpy(), fused_out.numpy(), atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), fused_weights.numpy(), atol=1e-12)


@pytest.mark.parametrize("rows", [6, 40])  # both sides of ops.neural.FEW_ROWS (two product orders)
def test_linear_returns_row_major_results_and_its_argmax_matches(rows):
    x, w, b = leaf(rows, 7), leaf(300, 7), leaf(300)
    y = F.linear(x, w, b)
    assert y.data.flags.c_contiguous
    np.testing.assert_array_equal(F.linear_argmax(x, w, b).numpy(), y.numpy().argmax(axis=1))
    np.testing.assert_array_equal(
        F.linear_argmax(x, w).numpy(), F.linear(x, w).numpy().argmax(axis=1)
    )
    ties = F.linear_argmax(x, minigrad.tensor(np.zeros((5, 7))))  # every score 0: index 0
    assert ties.dtype == np.int64 and (ties.numpy() == 0).all() and not ties.requires_grad


@pytest.mark.parametrize("rows", [6, 40])  # both sides of ops.neural.FEW_ROWS (two product orders)
def test_linear_composed_when_fusion_is_off(rows):
    x, w, b = leaf(2, rows // 2, 4), leaf(5, 4), leaf(5)
    assert minigrad.gradcheck(lambda *t: F.linear(*t), [x, w, b])
    fused = F.linear(x, w, b)
    with minigrad.fused(False):
        assert not minigrad.is_fused_enabled()
        composed = F.linear(x, w, b)
    assert minigrad.is_fused_enabled()
    assert type(fused.grad_fn).__name__ == "Linear"
    assert type(composed.grad_fn).__name__ == "Add"
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), atol=1e-12)


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("rows", [6, 40])  # both product orders
def test_linear_relu_matches_composed_ops_and_gradients(rows, with_bias):
    x, w = leaf(2, rows // 2, 4), leaf(5, 4)
    b = leaf(5) if with_bias else None
    fused = F.linear_relu(x, w, b)
    with minigrad.fused(False):
        composed = F.linear_relu(x, w, b)
    assert type(fused.grad_fn).__name__ == "LinearRelu"
    assert type(composed.grad_fn).__name__ == "Relu"
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), atol=1e-12)
    assert (fused.numpy() == 0).any() and (fused.numpy() > 0).any()  # both sides of the kink
    inputs = [x, w] + ([b] if with_bias else [])
    assert minigrad.gradcheck(lambda *t: F.linear_relu(*t[:2], _at(t, 2)), inputs)
    with pytest.raises(ValueError, match="does not match weight"):
        F.linear_relu(leaf(2, 3), w)


@pytest.mark.parametrize("rows", [6, 40])
def test_linear_mixes_float_dtypes_as_numpy_does(rows):
    """A float64 input through float32 parameters, or a float64 bias, works in both product
    orders (the few-row one adds its bias with a kernel); the result has the product's dtype."""
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 4))
    w, b = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal(5)
    for x_, w_, b_ in ((x, w, b.astype(np.float32)), (x.astype(np.float32), w, b)):
        out = F.linear(minigrad.tensor(x_), minigrad.tensor(w_), minigrad.tensor(b_))
        assert out.dtype == np.result_type(x_, w_)
        # both sides take the product in out.dtype (float32 in the second case; numpy then adds
        # the float64 bias in float64, more exactly): each within gamma_5 (|x||W^T| + |b|)
        bound = 2 * matmul_tolerance(x_, w_.T, b_, dtype=out.dtype)
        assert_within(out.numpy(), x_ @ w_.T + b_, bound, f"linear of {out.dtype}")


@pytest.mark.parametrize("with_bias", [False, True])
def test_head_projections_match_composed_ops_and_gradients(with_bias):
    """linear_to_heads and heads_to_linear: one node each, equal to linear + reshape + permute,
    gradient-checked, also on a non-contiguous (transposed) input."""
    x = leaf(3, 2, 6)  # used as x.transpose(0, 1): (2, 3, 6), non-contiguous
    w_in, w_out = leaf(8, 6), leaf(5, 8)
    b_in, b_out = (leaf(8), leaf(5)) if with_bias else (None, None)

    def both(*t):
        heads = F.linear_to_heads(t[0].transpose(0, 1), t[1], _at(t, 3), num_heads=2)
        return F.heads_to_linear(heads, t[2], _at(t, 4))

    inputs = [x, w_in, w_out] + ([b_in, b_out] if with_bias else [])
    fused_heads = F.linear_to_heads(x.transpose(0, 1), w_in, b_in, num_heads=2)
    assert fused_heads.shape == (2, 2, 3, 4)
    assert type(fused_heads.grad_fn).__name__ == "LinearToHeads"
    assert type(both(*inputs).grad_fn).__name__ == "HeadsToLinear"
    with minigrad.fused(False):
        composed_heads = F.linear_to_heads(x.transpose(0, 1), w_in, b_in, num_heads=2)
        composed = both(*inputs)
    np.testing.assert_allclose(fused_heads.numpy(), composed_heads.numpy(), atol=1e-12)
    np.testing.assert_allclose(both(*inputs).numpy(), composed.numpy(), atol=1e-12)
    assert minigrad.gradcheck(both, inputs)


def test_head_projections_reject_bad_shapes():
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        F.linear_to_heads(leaf(2, 3, 4), leaf(8, 4), None, num_heads=3)
    with pytest.raises(ValueError, match="do not match weight"):
        F.heads_to_linear(leaf(2, 2, 3, 4), leaf(5, 6))
    bias_error = r"bias of shape \(4,\) does not match weight of shape \(5, 6\): expected \(5,\)"
    with pytest.raises(ValueError, match=r"heads_to_linear\(\): " + bias_error):
        F.heads_to_linear(leaf(2, 2, 3, 3), leaf(5, 6), leaf(4))
    with pytest.raises(ValueError, match=r"^linear\(\): " + bias_error):
        F.linear(leaf(3, 6), leaf(5, 6), leaf(4))


@pytest.mark.parametrize("affine", [False, True])
def test_add_layer_norm_matches_composed_ops_and_gradients(affine):
    """add_layer_norm: one node equal to layer_norm(x + residual), gradient-checked, with a
    non-contiguous residual."""
    x, residual = leaf(2, 3, 4), leaf(4, 3, 2)
    weight, bias = (leaf(4), leaf(4)) if affine else (None, None)

    def fused(*t):
        return F.add_layer_norm(t[0], t[1].transpose(0, 2), 4, _at(t, 2), _at(t, 3))

    inputs = [x, residual] + ([weight, bias] if affine else [])
    out = fused(*inputs)
    assert type(out.grad_fn).__name__ == "AddLayerNorm"
    composed = F.layer_norm(x + residual.transpose(0, 2), 4, weight, bias)
    np.testing.assert_allclose(out.numpy(), composed.numpy(), atol=1e-12)
    assert minigrad.gradcheck(fused, inputs)
    with pytest.raises(ValueError, match="must have one shape"):
        F.add_layer_norm(x, leaf(3, 4), 4)


def test_op_suite_passes_under_the_numpy_reference_backend():
    """The whole op test suite also runs on the numpy reference kernels."""
    root = Path(__file__).resolve().parent
    files = ["test_ops_gradcheck.py", "test_stability.py", "test_autograd.py"]
    env = dict(os.environ, MINIGRAD_BACKEND="numpy")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(("positional", "norm_first"), [("sinusoidal", False), ("alibi", True)])
def test_transformer_fused_and_composed_agree(positional, norm_first):
    from transformer import Transformer

    minigrad.manual_seed(0)
    model = Transformer(
        13, 11, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
        dropout=0.0, positional=positional, norm_first=norm_first,
    )  # fmt: skip
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    src = RNG.integers(1, 13, size=(3, 7))
    src[0, 5:] = 0
    tgt = RNG.integers(1, 11, size=(3, 6))
    src_mask = src[:, None, None, :] != 0

    def run():
        model.zero_grad()
        logits = model(src, tgt, src_mask=src_mask)
        logits.sum().backward()
        return logits.numpy(), [p.grad.numpy().copy() for p in model.parameters()]

    fused_logits, fused_grads = run()
    with minigrad.fused(False):
        composed_logits, composed_grads = run()
    np.testing.assert_allclose(fused_logits, composed_logits, atol=1e-10)
    for a, b in zip(fused_grads, composed_grads, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


@pytest.mark.parametrize(
    "value, enabled", [(None, True), (" On ", True), ("0", False), ("no", False)]
)
def test_fused_switch_reads_on_or_off_and_refuses_anything_else(value, enabled):
    from minigrad.fusion import parse_fused_setting

    assert parse_fused_setting(value) is enabled
    with pytest.raises(ValueError, match="MINIGRAD_FUSED='maybe'"):
        parse_fused_setting("maybe")
