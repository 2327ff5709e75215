"""Property-based tests over random broadcastable shapes (hypothesis)."""

import numpy as np
from helpers import assert_within, gamma
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad

OPS = {
    "add": (lambda a, b: a + b, lambda a, b, g: (g, g)),
    "sub": (lambda a, b: a - b, lambda a, b, g: (g, -g)),
    "mul": (lambda a, b: a * b, lambda a, b, g: (g * b, g * a)),
    "maximum": (minigrad.maximum, lambda a, b, g: (g * (a > b), g * (a < b))),
}


def _sum_to(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(0)
    for i, n in enumerate(shape):
        if n == 1 and grad.shape[i] != 1:
            grad = grad.sum(i, keepdims=True)
    return grad


@settings(max_examples=25, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
    op=st.sampled_from(sorted(OPS)),
    seed=st.integers(0, 2**16),
)
def test_elementwise_ops_broadcast_and_unbroadcast(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a_data = rng.standard_normal(shapes.input_shapes[0])
    b_data = rng.standard_normal(shapes.input_shapes[1])
    a = minigrad.tensor(a_data, requires_grad=True)
    b = minigrad.tensor(b_data, requires_grad=True)
    forward, grads = OPS[op]
    out = forward(a, b)
    assert out.shape == shapes.result_shape
    g = rng.standard_normal(shapes.result_shape)
    out.backward(g)
    expected_a, expected_b = grads(a_data, b_data, g)
    for grad, expected, leaf in ((a.grad, expected_a, a), (b.grad, expected_b, b)):
        terms = expected * np.ones_like(g)
        # a broadcast operand's gradient sums n mixed-sign terms (in whatever order each side
        # reduces the broadcast axes): within gamma_n sum|terms| each, plus the product's rounding
        n = max(1, terms.size // max(1, leaf.numpy().size))
        bound = 2 * gamma(n + 1, np.float64) * _sum_to(np.abs(terms), leaf.shape)
        assert_within(grad.numpy(), _sum_to(terms, leaf.shape), bound, op)


@settings(max_examples=25, deadline=None)
@given(
    data=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-100, 100),
    ),  # fmt: skip
    reduction=st.sampled_from(["sum", "mean"]),
    keepdim=st.booleans(),
    pick=st.integers(0, 10),
)
def test_reductions_match_numpy_and_gradient_is_uniform(data, reduction, keepdim, pick):
    dim = pick % data.ndim
    x = minigrad.tensor(data, requires_grad=True)
    out = getattr(x, reduction)(dim, keepdim)
    expected = getattr(np, reduction)(data, axis=dim, keepdims=keepdim)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-9)
    out.sum().backward()
    scale = 1.0 if reduction == "sum" else 1.0 / data.shape[dim]
    np.testing.assert_allclose(x.grad.numpy(), np.full(data.shape, scale))
