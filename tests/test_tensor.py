"""Tensor basics: construction, dtypes, factories, conversion, repr and non-differentiable ops."""

import numpy as np
import pytest

import minigrad


def test_dtypes_follow_pytorch_defaults():
    assert minigrad.tensor([1.0, 2.0]).dtype == np.float32
    assert minigrad.tensor([1, 2]).dtype == np.int64
    assert minigrad.tensor(np.zeros(2)).dtype == np.float64
    assert minigrad.tensor([1, 2], dtype=minigrad.float64).dtype == np.float64
    assert minigrad.tensor([True]).dtype == np.bool_
    assert minigrad.arange(5).dtype == np.int64 and minigrad.arange(0, 1, 0.5).dtype == np.float32


def test_factories_and_seed():
    assert minigrad.zeros(2, 3).shape == (2, 3) and minigrad.ones((4,)).numpy().sum() == 4
    assert minigrad.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    x = minigrad.randn(3, dtype=np.float64)
    assert minigrad.zeros_like(x).dtype == np.float64 and minigrad.ones_like(x).shape == (3,)
    minigrad.manual_seed(7)
    a = minigrad.randn(5).numpy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(a, minigrad.randn(5).numpy())
    assert ((minigrad.rand(100).numpy() >= 0) & (minigrad.rand(100).numpy() < 1)).all()


def test_from_numpy_shares_memory_and_tensor_copies():
    buffer = np.zeros((2, 4), dtype=np.float32)
    shared, copied = minigrad.from_numpy(buffer[:, :3]), minigrad.tensor(buffer[:, :3])
    buffer[0, 0] = 5.0
    assert shared.numpy()[0, 0] == 5.0 and copied.numpy()[0, 0] == 0.0
    assert shared.shape == (2, 3) and not shared.requires_grad
    with pytest.raises(TypeError, match="dtype int32 cannot be shared"):
        minigrad.from_numpy(np.zeros(2, dtype=np.int32))
    with pytest.raises(TypeError, match="expects a numpy.ndarray, got list"):
        minigrad.from_numpy([1.0, 2.0])


def test_conversions_and_properties():
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.size(1) == 2 and x.numel() == 4
    assert x.is_leaf and np.asarray(x).sum() == 10
    assert x[1, 1].item() == 4.0 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert x.to(np.float64).dtype == np.float64 and x.double().dtype == np.float64
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert minigrad.tensor([1.0]).requires_grad_().requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.tensor([1]).requires_grad_()


def test_comparisons_argmax_topk_have_no_gradient():
    x = minigrad.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
    assert (x > 2.5).dtype == np.bool_ and not (x > 2.5).requires_grad
    assert (x == x).numpy().all() and not (x != x).numpy().any()
    assert x.argmax(dim=1).tolist() == [1, 2] and x.argmax().item() == 5
    values, indices = x.topk(2, dim=1)
    assert values.tolist() == [[5.0, 3.0], [6.0, 4.0]] and indices.tolist() == [[1, 2], [2, 0]]
    assert not values.requires_grad
    smallest = minigrad.topk(x, 1, largest=False)
    assert smallest.values.tolist() == [[1.0], [2.0]]
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2]


def test_numpy_on_the_left_defers_to_tensor():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], dtype=np.float32) * x
    assert isinstance(y, minigrad.Tensor) and y.requires_grad
