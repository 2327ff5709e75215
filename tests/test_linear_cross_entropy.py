"""F.linear_cross_entropy: the output layer and its loss as one node, and its kernel
(kernels.cross_entropy_fused), against the composed `linear` + `cross_entropy`."""

import numpy as np
import pytest
from helpers import assert_backend_tolerance_covers

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, gradgradcheck
from minigrad import kernels as K
from minigrad.kernels.testing import compare_backends

TARGET = np.array([1, 2, -100, 6, 0, 3])


def tensors(rows=6, features=5, classes=7, seed=0, transposed=False):
    """float64 x (rows, features), W (classes, features), b (classes,) that require grad; x a
    non-contiguous (transposed) view when asked."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((features, rows) if transposed else (rows, features))
    x = minigrad.tensor(x.T if transposed else x, requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((classes, features)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(classes), requires_grad=True)
    return x, w, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_kernel_matches_the_reference(dtype, with_bias, smoothing):
    """Roundings: a row's max, sum and sum of exps over 29 classes, then the gradient's exp."""
    assert_backend_tolerance_covers(2 * 29 + 12, dtype)
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((37, 29)).astype(dtype)
    bias = rng.standard_normal(29).astype(dtype) if with_bias else None
    target = rng.integers(0, 29, 37)
    target[[3, 10]] = -100
    losses, grad, grad_bias = compare_backends(
        K.cross_entropy_fused, logits, bias, target, -100, smoothing, 1 / 35
    )
    assert losses[3] == 0 and not grad[3].any()
    assert (grad_bias is None) == (bias is None)


def test_kernel_is_the_forward_and_backward_of_cross_entropy():
    rng = np.random.default_rng(2)
    logits, bias = rng.standard_normal((9, 11)), rng.standard_normal(11)
    target = rng.integers(0, 11, 9)
    losses, lse = K.cross_entropy_forward(logits + bias, target, -100, 0.2)
    grad = K.cross_entropy_backward(logits + bias, lse, target, np.full(9, 0.5), -100, 0.2)
    fused_losses, fused_grad, grad_bias = K.cross_entropy_fused(
        logits.copy(), bias, target, -100, 0.2, 0.5
    )
    np.testing.assert_allclose(fused_losses, losses, rtol=1e-13)
    np.testing.assert_allclose(fused_grad, grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad_bias, grad.sum(axis=0), rtol=1e-12, atol=1e-15)


def test_kernel_writes_the_gradient_over_the_logits_and_refuses_what_it_cannot_overwrite():
    logits = np.zeros((4, 3))
    _, grad, _ = K.cross_entropy_fused(logits, None, np.array([0, 1, 2, 0]))
    assert grad is logits and logits.any()
    with pytest.raises(ValueError, match="C-contiguous"):
        K.cross_entropy_fused(np.zeros((3, 4)).T, None, np.array([0, 1, 2, 0]))
    frozen = np.zeros((4, 3))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="cross_entropy_fused"):
        K.cross_entropy_fused(frozen, None, np.array([0, 1, 2, 0]))
    with pytest.raises(IndexError, match="target 3 is out of range for 3 classes"):
        K.cross_entropy_fused(np.zeros((4, 3)), None, np.array([0, 1, 3, 0]))


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("transposed", [False, True])
def test_value_and_gradients_equal_linear_then_cross_entropy(with_bias, transposed):
    x, w, b = tensors(transposed=transposed)
    bias = b if with_bias else None
    results = []
    for fused in (True, False):
        for t in (x, w, b):
            t.grad = None
        with minigrad.fused(fused):
            loss = F.linear_cross_entropy(x, w, bias, TARGET, label_smoothing=0.1)
        (loss * 3).backward()  # an incoming gradient other than 1
        results.append([loss.numpy(), x.grad.numpy(), w.grad.numpy()])
        results[-1].append(b.grad.numpy() if with_bias else None)
    for fused_value, composed_value in zip(*results, strict=True):
        if composed_value is not None:
            np.testing.assert_allclose(fused_value, composed_value, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("transposed", [False, True])
def test_gradients_and_second_derivatives_by_finite_differences(transposed):
    """With `transposed`, the leaf is x^T and the op gets the non-contiguous view x."""
    x, w, b = tensors()
    leaf = minigrad.tensor(x.numpy().T.copy(), requires_grad=True) if transposed else x

    def rows(leaf):
        return leaf.transpose(0, 1) if transposed else leaf

    def loss(leaf, w, b):
        return F.linear_cross_entropy(rows(leaf), w, b, TARGET, label_smoothing=0.1)

    def loss_without_bias(leaf, w):
        return F.linear_cross_entropy(rows(leaf), w, None, TARGET)

    for check in (gradcheck, gradgradcheck):
        assert check(loss, (leaf, w, b))
        assert check(loss_without_bias, (leaf, w))


def test_every_target_ignored_gives_zero_loss_and_zero_gradients():
    x, w, b = tensors()
    loss = F.linear_cross_entropy(x, w, b, np.full(6, -100))
    loss.backward()
    assert loss.item() == 0
    assert not x.grad.numpy().any() and not w.grad.numpy().any() and not b.grad.numpy().any()


def test_without_gradients_it_is_the_composed_value():
    x, w, b = tensors()
    with minigrad.no_grad():
        value = F.linear_cross_entropy(x, w, b, TARGET, ignore_index=-100).item()
    expected = F.cross_entropy(F.linear(x, w, b), TARGET).item()
    assert value == pytest.approx(expected, rel=1e-13)


def test_float32_inputs_give_a_float32_loss():
    x, w, b = (minigrad.tensor(t.numpy().astype(np.float32), requires_grad=True)
               for t in tensors())  # fmt: skip
    loss = F.linear_cross_entropy(x, w, b, TARGET)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize(
    "x_shape, target, message",
    [((2, 6, 5), TARGET, r"expected x \(N, in\)"), ((6, 5), TARGET[:4], "target"),
     ((6, 4), TARGET, "linear")],
)  # fmt: skip
def test_bad_shapes_are_named(x_shape, target, message):
    _, w, b = tensors()
    with pytest.raises(ValueError, match=message):
        F.linear_cross_entropy(minigrad.zeros(*x_shape), w, b, target)
