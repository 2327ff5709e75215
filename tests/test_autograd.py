"""The autograd machinery: accumulation, graph freeing, hooks, no_grad, anomaly mode, depth."""

import gc
import weakref

import numpy as np
import pytest
from helpers import gamma, leaf

import minigrad
import minigrad.nn.functional as F


def test_gradients_accumulate_across_uses_and_backward_calls():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x + x  # x used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])


def test_backward_from_non_scalar_needs_a_gradient():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(minigrad.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])


def test_second_backward_through_freed_graph_raises_unless_retained():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    # float32 exp within 3 ulps (numpy's SIMD exp: 2.52), each ulp at most 2u; doubling and
    # adding the two backward passes are exact
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=gamma(6))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0]).sum().backward()


def test_no_grad_as_context_manager_and_decorator():
    x = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @minigrad.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert (x * 2).requires_grad and minigrad.is_grad_enabled()


def test_hooks_see_and_can_replace_gradients():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * 5).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [5.0, 5.0])


def test_detach_cuts_the_graph():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad
    z = x * y
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_op_in_forward_and_backward():
    x = minigrad.tensor([-1.0, 1.0], requires_grad=True)
    with minigrad.detect_anomaly(), pytest.raises(RuntimeError, match="Log produced NaN"):
        x.log()
    y = minigrad.tensor([0.0, 1.0], requires_grad=True)
    with minigrad.detect_anomaly():
        z = y.sqrt().sum()  # finite forward, but d sqrt / dy = inf at 0
        with pytest.raises(RuntimeError, match="Sqrt produced NaN/inf in its backward"):
            z.backward()


def test_graph_ten_thousand_ops_deep_backpropagates_without_recursion_error():
    x = minigrad.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**10_000, rtol=1e-9)


def test_freed_graph_is_released():
    x = minigrad.tensor(np.ones(10), requires_grad=True)
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    loss = y.sum()
    loss.backward()
    del y, loss
    gc.collect()
    assert ref() is None


def test_float32_stays_float32_with_python_and_numpy_scalars():
    x = minigrad.randn(3, 4, requires_grad=True)
    out = (x * 2.5 + np.float64(1.0)) / 3 - x**2 + 1 / (x.exp() + 1)
    out = F.softmax(out, -1).log().mean()
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


def test_gradcheck_reports_a_wrong_gradient():
    class BadSquare(minigrad.Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, g):
            return g * self.a  # should be 2 * a * g

    x = leaf(3)
    with pytest.raises(minigrad.GradcheckError, match="mismatch"):
        minigrad.gradcheck(lambda t: BadSquare.apply(t), [x])
    with pytest.raises(TypeError, match="float64"):
        minigrad.gradcheck(lambda t: t * 2, [minigrad.randn(3, requires_grad=True)])


def test_intermediate_used_twice_receives_all_its_gradient_before_propagating():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    (y + y * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    a = leaf(3)
    assert minigrad.gradcheck(lambda t: (lambda u: u * u.exp() + u.sum())(t.tanh()), [a])
