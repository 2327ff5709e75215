"""Fused cross-entropy: Numba against the reference, the reference against the textbook formula
and finite differences, ignore_index, label smoothing, huge logits and bad targets."""

import numpy as np
import pytest
from helpers import assert_backend_tolerance_covers

from minigrad import kernels as K
from minigrad.kernels.testing import assert_close, numerical_grad
from minigrad.kernels.testing import compare_backends as both

DTYPES = [np.float32, np.float64]


def textbook_loss(logits, target, ignore_index, eps):
    """loss_i = -sum_c q_ic log p_ic with q = (1 - eps) onehot + eps / C, 0 for ignored rows."""
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    n, c = logits.shape
    losses = np.zeros(n)
    for i, t in enumerate(target):
        if t != ignore_index:
            q = np.full(c, eps / c)
            q[t] += 1.0 - eps
            losses[i] = -(q * logp[i]).sum()
    return losses


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_matches_reference(dtype, smoothing):
    # log-sum-exp over 23 classes (with exp's and log's ulps, ~12) and the smoothing sum over 23
    assert_backend_tolerance_covers(2 * 23 + 12, dtype)
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((37, 23)) * 3).astype(dtype)
    target = rng.integers(0, 23, 37)
    target[::5] = 7  # a custom ignore_index
    losses, lse = both(K.cross_entropy_forward, logits, target, 7, smoothing)
    grad = rng.random(37).astype(dtype)
    both(K.cross_entropy_backward, logits, lse, target, grad, 7, smoothing)
    expected = textbook_loss(logits.astype(np.float64), target, 7, smoothing)
    assert_close(losses, expected, dtype=dtype, scale=10)


def test_reference_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 5))
    target = np.array([0, 4, -100, 2])
    weights = rng.random(4)
    with K.use_backend("numpy"):
        _, lse = K.cross_entropy_forward(logits, target, -100, 0.2)
        grad = K.cross_entropy_backward(logits, lse, target, weights, -100, 0.2)

        def loss():
            return (K.cross_entropy_forward(logits, target, -100, 0.2)[0] * weights).sum()

        np.testing.assert_allclose(grad, numerical_grad(loss, logits), atol=1e-8)
    assert (grad[2] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_rows_ignored_give_zero_loss_and_gradient(dtype):
    logits = np.ones((3, 4), dtype=dtype)
    target = np.full(3, -100)
    losses, lse = both(K.cross_entropy_forward, logits, target, -100, 0.1)
    grad = both(K.cross_entropy_backward, logits, lse, target, np.ones(3, dtype), -100, 0.1)
    assert (losses == 0).all() and (grad == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_logits_and_single_class(dtype):
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], dtype=dtype)
    losses, lse = both(K.cross_entropy_forward, logits, np.array([0, 0]), -100, 0.0)
    assert np.isfinite(losses).all() and losses[0] == 0.0 and losses[1] == pytest.approx(2e4)
    both(K.cross_entropy_backward, logits, lse, np.array([0, 0]), np.ones(2, dtype), -100, 0.0)
    one_class = np.array([[3.0]], dtype=dtype)
    assert both(K.cross_entropy_forward, one_class, np.array([0]), -100, 0.0)[0][0] == 0.0


def test_non_contiguous_logits():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((9, 6)).astype(np.float32).T  # (6, 9), column-major
    target = rng.integers(0, 9, 6)
    _, lse = both(K.cross_entropy_forward, logits, target, -100, 0.05)
    both(
        K.cross_entropy_backward, logits, lse, target, rng.random(6).astype(np.float32), -100, 0.05
    )


def test_bad_targets_name_the_value_and_the_class_count():
    logits = np.zeros((3, 5), dtype=np.float32)
    with pytest.raises(IndexError, match="target 5 is out of range for 5 classes"):
        K.cross_entropy_forward(logits, np.array([0, 5, 1]))
    with pytest.raises(IndexError, match="target -1 is out of range"):
        K.cross_entropy_forward(logits, np.array([0, -1, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        K.cross_entropy_forward(logits, np.zeros(3))
    with pytest.raises(ValueError, match=r"target has shape \(2,\), expected \(3,\)"):
        K.cross_entropy_forward(logits, np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="logits must be"):
        K.cross_entropy_forward(np.zeros(5, dtype=np.float32), np.zeros(5, dtype=np.int64))
