"""In-place operations and the version counter: values, gradients (finite differences, float64)
and the errors PyTorch raises, written here as expected behaviour."""

import numpy as np
import pytest
from helpers import leaf

import minigrad
from minigrad import gradcheck

INDICES = [
    1,
    (slice(None), 2),
    (slice(0, 3, 2), slice(1, None)),
    np.array([True, False, True]),
    (np.array([0, 2]), np.array([3, 1])),
    (Ellipsis, None, 1),
]


@pytest.mark.parametrize("index", INDICES, ids=str)
def test_setitem_gradients_reach_the_tensor_and_the_value(index):
    a = leaf(3, 4)
    region = a.numpy()[index]
    value = leaf(*region.shape)

    def f(a, value):
        h = a * 2  # a tensor inside a graph
        h[index] = value * 3
        return h

    expected = a.numpy() * 2
    expected[index] = value.numpy() * 3
    np.testing.assert_array_equal(f(a, value).numpy(), expected)
    assert gradcheck(f, [a, value])


def test_setitem_broadcasts_the_value_and_accepts_numbers_and_tensor_indices():
    a, row = leaf(3, 4), leaf(4)

    def f(a, row):
        h = a.clone()
        h[minigrad.tensor([0, 2])] = row  # (4,) broadcast to the (2, 4) region
        h[1, 1] = 7.0
        return h

    assert f(a, row).numpy()[1, 1] == 7.0
    assert gradcheck(f, [a, row])


def test_a_buffer_that_receives_a_value_joins_the_graph():
    h = leaf(2)
    buf = minigrad.zeros(3, 2, dtype=minigrad.float64)
    assert not buf.requires_grad and buf.is_leaf
    buf[1] = h
    assert buf.requires_grad and not buf.is_leaf
    (buf * buf).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())


METHODS = [
    ("add_", lambda h, v: h.add_(v)),
    ("add_ alpha", lambda h, v: h.add_(v, alpha=-0.5)),
    ("sub_", lambda h, v: h.sub_(v)),
    ("mul_", lambda h, v: h.mul_(v)),
    ("div_", lambda h, v: h.div_(v.abs() + 1)),
    ("iadd", lambda h, v: h.__iadd__(v)),
    ("isub", lambda h, v: h.__isub__(v)),
    ("imul", lambda h, v: h.__imul__(v)),
    ("itruediv", lambda h, v: h.__itruediv__(v.abs() + 1)),
    ("copy_", lambda h, v: h.copy_(v)),
    ("clamp_", lambda h, v: h.clamp_(-0.5, 0.5).add_(v)),
    ("masked_fill_", lambda h, v: h.masked_fill_(np.array([True, False, True, False]), 2.0)),
    ("fill_", lambda h, v: h.fill_(3.0)),
    ("zero_", lambda h, v: h.zero_()),
]


@pytest.mark.parametrize("name,method", METHODS, ids=[m[0] for m in METHODS])
def test_in_place_methods_give_out_of_place_values_and_gradients(name, method):
    a, v = leaf(3, 4), leaf(4)
    f = lambda a, v: method(a * 1.5, v) * v  # noqa: E731 (in place on a tensor inside a graph)
    assert gradcheck(f, [a, v])
    h = a.detach() * 1.5
    assert method(h, v.detach()) is h  # the same tensor, changed


def test_plus_equals_changes_the_tensor_every_name_refers_to():
    x = minigrad.zeros(3)
    alias = x
    x += 1
    assert x is alias
    np.testing.assert_array_equal(alias.numpy(), [1, 1, 1])
    loss = minigrad.tensor(0.0, dtype=minigrad.float64)
    w = leaf(3)
    for k in range(3):
        loss += (w * k).sum()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [3, 3, 3])


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    w = leaf(3)
    for change in (lambda: w.add_(1), lambda: w.__setitem__(0, 1.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            change()
    with minigrad.no_grad():
        w.mul_(0)  # updates are allowed there, and keep the leaf a leaf that requires grad
    assert w.requires_grad and w.is_leaf and w._version > 0
    np.testing.assert_array_equal(w.numpy(), 0)


def test_backward_raises_after_a_saved_input_was_modified():
    x = minigrad.tensor([3.0, 4.0])
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1  # a non-leaf, so it may be modified in place
    y = (x * h).sum()
    h.add_(100)
    with pytest.raises(RuntimeError, match="input 1 of Mul .* modified"):
        y.backward()


def test_modifying_a_constant_after_use_keeps_the_gradient_of_the_old_value():
    # The op saved the old array (in-place ops write new arrays), so the gradient is right.
    x = minigrad.tensor([3.0, 4.0])
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * w).sum()
    x.mul_(100)
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3, 4])


def test_numpy_of_a_tensor_that_requires_grad_is_read_only():
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="read-only"):
        w.numpy()[:] = 100
    with pytest.raises(ValueError, match="read-only"):
        np.asarray(w)[0] = 5
    plain = minigrad.tensor([1.0, 2.0])
    plain.numpy()[0] = 5  # shared memory, as torch's .numpy()
    assert plain.tolist() == [5.0, 2.0]


def test_an_optimizer_step_between_two_backward_calls_raises():
    model = minigrad.nn.Linear(2, 1)
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    loss = model(minigrad.tensor([[1.0, 2.0]])).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="of Linear .* modified"):
        loss.backward()


def test_in_place_keeps_the_dtype_and_refuses_float_into_int():
    x = minigrad.tensor([1, 2])
    x += 3
    assert x.dtype == np.int64 and x.tolist() == [4, 5]
    with pytest.raises(RuntimeError, match="can't be cast"):
        x /= 2
    f = minigrad.zeros(2)
    f += minigrad.tensor([1.0, 2.0], dtype=minigrad.float64)
    assert f.dtype == np.float32
    f.copy_(minigrad.tensor([7, 8]))  # copy_ converts, as PyTorch
    assert f.tolist() == [7.0, 8.0]
    with pytest.raises(RuntimeError, match="cannot broadcast"):
        minigrad.zeros(3).add_(minigrad.zeros(2, 3))


def test_clone_copies_and_passes_the_gradient():
    a = leaf(2, 3)
    c = a.clone()
    assert c.data is not a.data and not c.is_leaf
    assert gradcheck(lambda a: a.clone() * a, [a])


def test_integer_and_bool_casts_leave_the_graph():
    a = leaf(3)
    for cast in (a.long(), a.int(), a.bool(), a.to(minigrad.int64)):
        assert not cast.requires_grad and cast.grad_fn is None
    assert a.int().dtype == np.int32 and a.bool().dtype == minigrad.bool
    assert a.to("cpu") is a and a.cpu() is a
    assert a.to("cpu", minigrad.float32).dtype == np.float32
    with pytest.raises(RuntimeError, match="one device"):
        a.to("cuda")


def test_python_conversions_of_one_element_tensors():
    loss = minigrad.tensor(2.5)
    assert float(loss) == 2.5 and int(loss) == 2 and bool(loss) is True
    assert f"{loss:.3f}" == "2.500" and format(loss, "") == repr(loss)
    assert [10, 20, 30][minigrad.tensor(1)] == 20
    assert minigrad.zeros(2, 3).dim() == 2
    with pytest.raises(RuntimeError, match="one-element"):
        float(minigrad.zeros(2))
    with pytest.raises(TypeError):
        f"{minigrad.zeros(2):.3f}"
