"""Higher-order gradients: autograd.grad, backward(create_graph=True), and every op's second
derivative against finite differences of its first derivative (gradgradcheck, float64)."""

import numpy as np
import pytest
from helpers import leaf

import minigrad
import minigrad.nn.functional as F
from minigrad import autograd, gradgradcheck


def test_derivatives_of_x_cubed():
    x = minigrad.tensor(2.0, dtype=minigrad.float64, requires_grad=True)
    (d1,) = autograd.grad(x**3, x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)
    assert d1.requires_grad and not d3.requires_grad


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    a, b, unused = leaf(3), leaf(3), leaf(2)
    out = (a * b).sum()
    ga, gb = autograd.grad(out, [a, b], retain_graph=True)
    np.testing.assert_array_equal(ga.numpy(), b.numpy())
    assert a.grad is None and not ga.requires_grad
    with pytest.raises(RuntimeError, match="not used"):
        autograd.grad(out, [a, unused], retain_graph=True)
    assert autograd.grad(out, [a, unused], allow_unused=True)[1] is None


def test_grad_with_grad_outputs_and_a_non_leaf_input():
    x = leaf(2, 3)
    h = x * 2
    y = h.exp()
    v = np.ones((2, 3))
    (gh,) = autograd.grad(y, h, grad_outputs=v, retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), y.numpy())
    y.sum().backward()  # nothing before h was freed by grad()
    np.testing.assert_allclose(x.grad.numpy(), 2 * y.numpy())


def test_backward_with_create_graph_leaves_differentiable_gradients():
    x = leaf(3)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2)
    (hessian_diag,) = autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(hessian_diag.numpy(), 6 * x.numpy())


def test_an_op_without_second_derivatives_says_so():
    class Square(autograd.Function):  # a first-order-only op, as a user might write one
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, g):
            return 2 * self.a * g

    x = leaf(3)
    with pytest.raises(RuntimeError, match="Square has no second derivative"):
        autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    (g,) = autograd.grad(Square.apply(x).sum(), x)  # first order is fine
    assert g.shape == (3,)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_prod_has_derivatives_of_every_order_also_with_zeros(dim, keepdim):
    x = leaf(3, 4)
    assert minigrad.gradgradcheck(lambda t: t.prod(dim=dim, keepdim=keepdim), [x])
    zeros = minigrad.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]], requires_grad=True)
    (g,) = autograd.grad(zeros.prod(dim=1).sum(), zeros, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    (h,) = autograd.grad(g[1, 0], zeros)  # d/dx10 of x11 * x12 = 0, d/dx11 = x12 = 5
    np.testing.assert_array_equal(h.numpy(), [[0.0, 0.0, 0.0], [0.0, 5.0, 0.0]])


ELEMENTWISE = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a**b,
    lambda a, b: minigrad.maximum(a, b) * a,
    lambda a, b: minigrad.minimum(a, b) * b,
    lambda a, b: minigrad.where(a.detach() > 1, a * a, b * b),
]


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1))])
@pytest.mark.parametrize("f", ELEMENTWISE)
def test_binary_ops_with_broadcasting(f, shapes):
    a, b = leaf(*shapes[0], positive=True), leaf(*shapes[1], positive=True)
    assert gradgradcheck(f, [a, b])


UNARY = [
    lambda x: (-x) * x,
    lambda x: x.exp(),
    lambda x: x.log(),
    lambda x: x.sqrt(),
    lambda x: x.tanh(),
    lambda x: x.sigmoid(),
    lambda x: x.relu() * x,
    lambda x: x.abs() * x,
    lambda x: x.clamp(0.6, 1.2) * x,
    lambda x: x**3,
    lambda x: x.sum(1) * x.sum(),
    lambda x: x.mean(0, keepdim=True) * x,
    lambda x: x.var(1),
    lambda x: x.std(),
    lambda x: x.norm(),
    lambda x: x.logsumexp(1),
    lambda x: x.max(1).values * x.max(),
    lambda x: x.cumsum(1) * x,
    lambda x: x.reshape(4, 3).T @ x.reshape(4, 3),
    lambda x: x.permute(1, 0) * x.T,
    lambda x: x[None].expand(2, 3, 4) * x,
    lambda x: x[1:, ::2] * x[:2, 1::2],
    lambda x: x[np.array([0, 0, 2])] * x[[1, 1, 0]],
    lambda x: x[x.detach() > 1] ** 2,
    lambda x: x.gather(1, minigrad.tensor([[0, 0], [3, 1], [2, 2]])) ** 2,
    lambda x: minigrad.cat([x, x * x], dim=1) ** 2,
    lambda x: minigrad.stack([x, x * x], dim=0) ** 2,
    lambda x: x.masked_fill(np.array([True, False, False, True]), 0.5) ** 2,
    lambda x: x.flip(1) * x,
    lambda x: x.repeat(2, 1) ** 2,
    lambda x: x.tril() * x,
    lambda x: x.clone() * x,
    lambda x: minigrad.einsum("ij,kj->ik", x, x),
    lambda x: F.softmax(x, dim=1) * x,
    lambda x: F.log_softmax(x, dim=0) * x,
]


@pytest.mark.parametrize("f", UNARY)
def test_unary_reductions_movement_and_indexing(f):
    assert gradgradcheck(f, [leaf(3, 4, positive=True)])


def test_casts_pass_second_derivatives():
    x = leaf(3)
    (g,) = autograd.grad((x.float() ** 3).sum(), x, create_graph=True)
    assert g.dtype == np.float64
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy(), rtol=1e-6)  # float32 arithmetic


def test_matmul_shapes():
    for sa, sb in [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5))]:
        assert gradgradcheck(lambda a, b: (a @ b) ** 2, [leaf(*sa), leaf(*sb)])


def test_setitem():
    def f(a, v):
        h = a * a
        h[1:, np.array([0, 2])] = v * v
        return h

    assert gradgradcheck(f, [leaf(3, 4), leaf(2)])


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy(smoothing):
    target = minigrad.tensor([0, 2, -100, 1])
    assert gradgradcheck(
        lambda x: F.cross_entropy(x, target, label_smoothing=smoothing), [leaf(4, 3)]
    )


@pytest.mark.parametrize("fused", [True, False])
def test_layer_norm_gelu_and_linear_family(fused):
    x, w, b, r = leaf(2, 3, 4), leaf(4), leaf(4), leaf(2, 3, 4)
    lw, lb = leaf(6, 4), leaf(6)
    with minigrad.fused(fused):
        assert gradgradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), [x, w, b])
        assert gradgradcheck(lambda x: F.layer_norm(x, (3, 4)), [x])
        assert gradgradcheck(lambda x, r, w, b: F.add_layer_norm(x, r, 4, w, b), [x, r, w, b])
        assert gradgradcheck(lambda x: F.gelu(x), [x])
        assert gradgradcheck(lambda x: F.gelu(x, approximate="tanh"), [x])
        assert gradgradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, [x, lw, lb])
        assert gradgradcheck(lambda x, w: F.linear(x, w) ** 2, [x, lw])
        assert gradgradcheck(lambda x, w, b: F.linear_relu(x, w, b) ** 2, [x, lw, lb])
        assert gradgradcheck(lambda x, w, b: F.linear_to_heads(x, w, b, 2) ** 2, [x, lw, lb])
        h = leaf(2, 2, 3, 2)
        assert gradgradcheck(lambda h, w, b: F.heads_to_linear(h, w, b) ** 2, [h, lw, lb])


@pytest.mark.parametrize("fused", [True, False])
def test_attention(fused):
    q, k, v, bias = leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3), leaf(3, 5)
    mask = np.ones((3, 5), dtype=bool)
    mask[0, 3:] = False
    mask[2] = False  # a row with nothing to attend to
    with minigrad.fused(fused):
        assert gradgradcheck(lambda q, k, v: F.attention(q, k, v, mask=mask)[0] ** 2, [q, k, v])
        assert gradgradcheck(
            lambda q, k, v, b: F.attention(q, k, v, bias=b)[0] ** 2, [q, k, v, bias]
        )


def test_embedding_and_dropout():
    w = leaf(5, 3)
    ids = minigrad.tensor([[0, 4, 4], [2, 1, 0]])
    assert gradgradcheck(lambda w: F.embedding(ids, w, padding_idx=1) ** 2, [w])

    def dropped(x):
        minigrad.manual_seed(0)  # the same mask at every call
        return F.dropout(x, 0.3) ** 2

    assert gradgradcheck(dropped, [leaf(4, 5)])
