"""The autograd machinery: accumulation, graph freeing, hooks, no_grad, anomaly mode, depth,
backward observers and scopes."""

import gc
import threading
import weakref

import numpy as np
import pytest
from helpers import gamma, leaf

import minigrad
import minigrad.nn.functional as F
from minigrad import autograd


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


def test_a_partly_freed_graph_raises_before_touching_any_gradient():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    w = minigrad.tensor([3.0, 4.0], requires_grad=True)
    shared = x.exp()
    shared.sum().backward()  # frees the Exp node
    with pytest.raises(autograd.GraphFreedError, match="Exp was already freed"):
        (shared * w).sum().backward()
    assert w.grad is None  # the Mul before the freed Exp did not run either


def test_topological_order_puts_inputs_first_and_can_include_constants():
    x = minigrad.tensor([1.0], requires_grad=True)
    c = minigrad.tensor([2.0])
    y = x * c
    z = y + x
    assert autograd.topological_order(z) == [x, y, z]
    assert autograd.topological_order(z, every_input=True) == [x, c, y, z]


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


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_module_that_ran_the_op_even_without_recording():
    class Logs(minigrad.nn.Module):
        def forward(self, x):
            return x.log()

    model = minigrad.nn.Sequential(Logs())
    x = minigrad.tensor([-1.0, 1.0], requires_grad=True)
    message = "Log produced NaN/inf in its forward pass in '0'"
    with minigrad.detect_anomaly(), minigrad.no_grad(), pytest.raises(RuntimeError, match=message):
        model(x)


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


# ---- observers: the extension point of backward -----------------------------------------------
def _neuron():
    x = minigrad.tensor([1.0, 2.0, 3.0], dtype=np.float64)
    w = minigrad.tensor([0.5, -1.0, 0.25], dtype=np.float64, requires_grad=True)
    b = minigrad.tensor(0.5, dtype=np.float64, requires_grad=True)
    return w, b, ((w * x).sum() + b).tanh()


def test_an_observer_sees_every_node_with_its_gradients_before_it_is_freed():
    w, b, out = _neuron()
    seen = []

    def observer(fn, grad, input_grads):
        assert fn.parents is not None and len(input_grads) == len(fn.parents)
        seen.append((type(fn).__name__, grad.copy(), input_grads))

    with autograd.observe(observer) as registered:
        out.backward()
    assert registered is observer
    assert [name for name, _, _ in seen] == ["Tanh", "Add", "Sum", "Mul"]
    (_, g_tanh, _), (_, g_add, (_, g_b)), _, (_, _, (g_w, g_x)) = seen
    assert g_tanh == 1.0 and g_add == pytest.approx(1 - out.item() ** 2)
    np.testing.assert_allclose(g_b, b.grad.data)
    np.testing.assert_allclose(g_w, w.grad.data)
    assert g_x is None  # x needs no gradient


def test_an_observer_is_removed_when_its_block_ends_even_on_error():
    calls = []
    with autograd.observe(lambda *a: calls.append(1)):
        _neuron()[2].backward()
    assert len(calls) == 4
    with pytest.raises(KeyError), autograd.observe(lambda *a: calls.append(1)):
        raise KeyError
    _neuron()[2].backward()
    assert len(calls) == 4


def test_observers_nest():
    outer, inner = [], []
    with autograd.observe(lambda fn, g, gs: outer.append(type(fn).__name__)):
        with autograd.observe(lambda fn, g, gs: inner.append(type(fn).__name__)):
            _neuron()[2].backward()
        _neuron()[2].backward()
    assert len(inner) == 4 and len(outer) == 8


def test_observers_belong_to_the_thread_that_registered_them():
    main, other = [], []

    def backward_in_another_thread():
        with autograd.observe(lambda *a: other.append(1)):
            _neuron()[2].backward()

    with autograd.observe(lambda *a: main.append(1)):
        thread = threading.Thread(target=backward_in_another_thread)
        thread.start()
        thread.join()
        assert (main, len(other)) == ([], 4)
        _neuron()[2].backward()
    assert (len(main), len(other)) == (4, 4)


def test_set_scope_labels_the_nodes_recorded_until_it_is_set_back():
    x = minigrad.tensor([1.0], requires_grad=True)
    previous = autograd.set_scope("block")
    try:
        inside = x * 2
    finally:
        assert autograd.set_scope(previous) == "block"
    assert inside.grad_fn.scope == "block"
    assert (x * 2).grad_fn.scope is None and autograd.current_scope() is None
