"""Layers and nn.init: forward formulas and PyTorch's default initialisations."""

import math

import numpy as np
import pytest
from helpers import assert_within, gamma, matmul_tolerance

import minigrad
from minigrad import nn
from minigrad.nn import init


def test_linear_default_init_matches_pytorch_bounds():
    minigrad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and b.shape == (300,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # std of U(-a, a) is a / sqrt(3)
    assert np.abs(b).max() <= bound and b.std() > 0.4 * bound


def test_linear_computes_x_w_transpose_plus_b_and_can_drop_the_bias():
    layer = nn.Linear(3, 2)
    x = minigrad.randn(4, 5, 3)
    w_t, b = layer.weight.numpy().T, layer.bias.numpy()
    expected = x.numpy() @ w_t + b
    # Both float32, in whatever order each product takes; the sums of 3 terms and the bias can
    # cancel, so the bound is gamma_4 (|x| |W^T| + |b|) for each, not relative to the result.
    bound = matmul_tolerance(x.numpy(), w_t, b)
    assert_within(layer(x).numpy(), expected, 2 * bound, "Linear against numpy")
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and len(no_bias.parameters()) == 1
    assert nn.Linear(3, 2, dtype=np.float64).weight.dtype == np.float64


def test_embedding_default_init_is_standard_normal_with_a_zero_padding_row():
    minigrad.manual_seed(1)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.numpy()
    assert not w[3].any()
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01


def test_embedding_padding_row_gets_no_gradient():
    emb = nn.Embedding(5, 2, padding_idx=-1)
    assert emb.padding_idx == 4
    emb(np.array([[4, 1, 4]])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[[1, 4]], [[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="padding_idx 5 is out of range"):
        nn.Embedding(5, 2, padding_idx=5)


def test_layer_norm_starts_as_identity_affine():
    ln = nn.LayerNorm((2, 3))
    np.testing.assert_array_equal(ln.weight.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(ln.bias.numpy(), np.zeros((2, 3)))
    x = minigrad.randn(4, 2, 3)
    y = ln(x).numpy()
    # The mean of y is 0 up to rounding: the row mean mu of 6 entries is off by gamma_7 mean|x|
    # and moves every entry by that times rstd; (x - mu) * rstd rounds up to 3 times (in any
    # association). Averaged in float64 here, so the test adds nothing.
    rows = x.numpy().reshape(4, -1).astype(np.float64)
    mean_abs = np.abs(rows).mean(1)
    bound = (gamma(7) * mean_abs + gamma(3) * (mean_abs + np.abs(rows.mean(1)))) / rows.std(1)
    assert_within(y.reshape(4, -1).astype(np.float64).mean(1), np.zeros(4), bound, "mean of y")
    np.testing.assert_allclose(y.reshape(4, -1).std(1), 1, atol=1e-3)
    assert nn.LayerNorm(3, elementwise_affine=False).parameters() == []


def test_activation_modules_match_functional():
    x = minigrad.randn(10)
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_array_equal(
        nn.GELU("tanh")(x).numpy(), nn.functional.gelu(x, approximate="tanh").numpy()
    )
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5)


def test_same_seed_gives_the_same_initialisation():
    minigrad.manual_seed(5)
    a = nn.Linear(3, 3).weight.numpy().copy()
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.numpy(), a)


# ---- nn.init ----------------------------------------------------------------------------------
def _param(*shape):
    return nn.Parameter(np.zeros(shape, np.float32))


def test_xavier_uniform_and_normal():
    minigrad.manual_seed(2)
    w = init.xavier_uniform_(_param(200, 300), gain=2.0).numpy()
    bound = 2.0 * math.sqrt(6 / 500)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = init.xavier_normal_(_param(200, 300)).numpy()
    assert abs(w.std() - math.sqrt(2 / 500)) < 0.01 * math.sqrt(2 / 500)


@pytest.mark.parametrize(
    ("kwargs", "gain"),
    [({}, math.sqrt(2.0)), ({"a": math.sqrt(5)}, math.sqrt(1 / 3)), ({"nonlinearity": "relu"},
     math.sqrt(2.0)), ({"nonlinearity": "tanh"}, 5 / 3), ({"nonlinearity": "linear"}, 1.0)],
)  # fmt: skip
def test_kaiming_uniform_and_normal_use_pytorch_gains(kwargs, gain):
    minigrad.manual_seed(3)
    std = gain / math.sqrt(250)
    w = init.kaiming_uniform_(_param(400, 250), **kwargs).numpy()
    assert np.abs(w).max() <= math.sqrt(3) * std
    assert abs(w.std() - std) < 0.01 * std
    w = init.kaiming_normal_(_param(400, 250), mode="fan_out", **kwargs).numpy()
    assert abs(w.std() - gain / math.sqrt(400)) < 0.01 * std


def test_fans_count_the_receptive_field():
    minigrad.manual_seed(4)
    w = init.kaiming_normal_(_param(64, 16, 3, 3), nonlinearity="relu").numpy()
    assert abs(w.std() - math.sqrt(2 / (16 * 9))) < 0.03 * math.sqrt(2 / (16 * 9))


def test_simple_fills_and_errors():
    t = _param(2, 3)
    assert init.ones_(t) is t and (t.numpy() == 1).all()
    assert (init.zeros_(t).numpy() == 0).all()
    assert (init.constant_(t, 0.5).numpy() == 0.5).all()
    minigrad.manual_seed(0)
    w = init.normal_(_param(10000), mean=3.0, std=0.5).numpy()
    assert abs(w.mean() - 3) < 0.02 and abs(w.std() - 0.5) < 0.02
    w = init.uniform_(_param(10000), -2, -1).numpy()
    assert w.min() >= -2 and w.max() <= -1
    assert init.xavier_uniform_(_param(0, 3)).shape == (0, 3)  # empty: left alone
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(_param(3))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(_param(3, 3), mode="fan")
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / 1.0001))
    assert init.calculate_gain("selu") == 0.75
