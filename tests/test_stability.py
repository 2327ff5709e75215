"""Softmax, log-softmax and cross-entropy stay finite with huge logits and fully masked rows."""

import numpy as np

import minigrad
import minigrad.nn.functional as F


def _finite_forward_backward(fn, data):
    x = minigrad.tensor(data, requires_grad=True)
    out = fn(x)
    finite_part = out.numpy()[np.isfinite(out.numpy())]
    assert not np.isnan(out.numpy()).any()
    (out.masked_fill(minigrad.tensor(~np.isfinite(out.numpy())), 0.0) * 1.0).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    return out, finite_part


def test_huge_logits():
    data = np.array([[1e4, -1e4, 0.0], [3e38, 3e38, 1.0]], dtype=np.float32)
    out, _ = _finite_forward_backward(lambda t: F.softmax(t, -1), data)
    np.testing.assert_allclose(out.numpy()[0], [1, 0, 0])
    out, _ = _finite_forward_backward(lambda t: F.log_softmax(t, -1), data)
    loss = F.cross_entropy(minigrad.tensor(data, requires_grad=True), np.array([0, 2]))
    assert np.isfinite(loss.item())


def test_fully_masked_rows_give_zeros_not_nan():
    data = np.array([[0.5, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]], dtype=np.float32)
    out, _ = _finite_forward_backward(lambda t: F.softmax(t, -1), data)
    np.testing.assert_array_equal(out.numpy()[1], 0)
    _finite_forward_backward(lambda t: F.log_softmax(t, -1), data)
    logits = minigrad.tensor(data, requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0, -100]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.numpy()).all()
    everything_ignored = F.cross_entropy(minigrad.zeros(2, 3), np.array([-100, -100]))
    assert everything_ignored.item() == 0.0
