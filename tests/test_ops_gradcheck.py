"""Every differentiable op: forward against numpy, backward against finite differences (float64),
with broadcasting shapes and non-contiguous (transposed) inputs."""

import numpy as np
import pytest
from helpers import RNG, assert_within, gamma, layer_norm_tolerance, leaf, matmul_tolerance

import minigrad
import minigrad.nn.functional as F

# (name, input shapes, function of tensors, the same function in numpy, input options)
BINARY = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("div", lambda a, b: a / b, np.divide),
    ("pow", lambda a, b: a**b, np.power),
    ("maximum", lambda a, b: minigrad.maximum(a, b), np.maximum),
    ("minimum", lambda a, b: minigrad.minimum(a, b), np.minimum),
]
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3))]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES)
@pytest.mark.parametrize("name,op,reference", BINARY)
def test_binary_ops(name, op, reference, shapes):
    a, b = leaf(*shapes[0], positive=True), leaf(*shapes[1], positive=True)
    np.testing.assert_allclose(op(a, b).numpy(), reference(a.numpy(), b.numpy()))
    assert minigrad.gradcheck(op, [a, b])


def test_binary_ops_on_transposed_inputs():
    a, b = leaf(4, 3, positive=True), leaf(3, 4, positive=True)
    for _, op, reference in BINARY:
        np.testing.assert_allclose(op(a.T, b).numpy(), reference(a.numpy().T, b.numpy()))
        assert minigrad.gradcheck(lambda x, y, op=op: op(x.T, y), [a, b])


def test_scalar_operands_and_reflected_ops():
    a = leaf(3, 2, positive=True)
    cases = [
        (lambda x: 2.0 + x, 2.0 + a.numpy()),
        (lambda x: 1.5 - x, 1.5 - a.numpy()),
        (lambda x: 3.0 * x, 3.0 * a.numpy()),
        (lambda x: 2.0 / x, 2.0 / a.numpy()),
        (lambda x: x**3, a.numpy() ** 3),
        (lambda x: x**-0.5, a.numpy() ** -0.5),
        (lambda x: 2.0**x, 2.0 ** a.numpy()),
        (lambda x: -x, -a.numpy()),
    ]
    for fn, expected in cases:
        np.testing.assert_allclose(fn(a).numpy(), expected)
        assert minigrad.gradcheck(fn, [a])


UNARY = [
    ("exp", lambda x: x.exp(), np.exp, False),
    ("log", lambda x: x.log(), np.log, True),
    ("sqrt", lambda x: x.sqrt(), np.sqrt, True),
    ("tanh", lambda x: x.tanh(), np.tanh, False),
    ("sigmoid", lambda x: x.sigmoid(), lambda v: 1 / (1 + np.exp(-v)), False),
    ("relu", lambda x: x.relu(), lambda v: np.maximum(v, 0), False),
    ("abs", lambda x: x.abs(), np.abs, False),
    ("clamp", lambda x: x.clamp(-0.5, 0.7), lambda v: np.clip(v, -0.5, 0.7), False),
    ("clamp_min", lambda x: x.clamp(min=0.1), lambda v: np.maximum(v, 0.1), False),
]


@pytest.mark.parametrize("name,op,reference,positive", UNARY)
def test_unary_ops(name, op, reference, positive):
    x = leaf(4, 5, positive=positive)
    np.testing.assert_allclose(op(x).numpy(), reference(x.numpy()), rtol=1e-12)
    assert minigrad.gradcheck(op, [x])
    assert minigrad.gradcheck(lambda t: op(t.T), [x])


def test_where_and_masked_fill():
    a, b = leaf(3, 4), leaf(4)
    cond = minigrad.tensor(RNG.random((3, 4)) > 0.5)
    out = minigrad.where(cond, a, b)
    np.testing.assert_allclose(out.numpy(), np.where(cond.numpy(), a.numpy(), b.numpy()))
    assert minigrad.gradcheck(lambda x, y: minigrad.where(cond, x, y), [a, b])
    mask = minigrad.tensor(RNG.random((1, 4)) > 0.5)
    filled = a.masked_fill(mask, -7.0)
    np.testing.assert_allclose(filled.numpy(), np.where(mask.numpy(), -7.0, a.numpy()))
    assert minigrad.gradcheck(lambda x: x.masked_fill(mask, 0.0), [a])


REDUCTIONS = [
    ("sum", lambda x, d, k: x.sum(d, k), lambda v, d, k: v.sum(axis=d, keepdims=k)),
    ("mean", lambda x, d, k: x.mean(d, k), lambda v, d, k: v.mean(axis=d, keepdims=k)),
    ("var", lambda x, d, k: x.var(d, k), lambda v, d, k: v.var(axis=d, keepdims=k, ddof=1)),
    ("max", lambda x, d, k: x.max(d, k)[0], lambda v, d, k: v.max(axis=d, keepdims=k)),
    ("min", lambda x, d, k: x.min(d, k)[0], lambda v, d, k: v.min(axis=d, keepdims=k)),
]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name,op,reference", REDUCTIONS)
def test_reductions_over_a_dim(name, op, reference, dim, keepdim):
    x = leaf(3, 4, 2)
    expected = reference(x.numpy(), dim, keepdim)
    bound = _reduction_bound(name, x.numpy(), dim, keepdim)
    assert_within(op(x, dim, keepdim).numpy(), expected, bound, name)
    assert minigrad.gradcheck(lambda t: op(t, dim, keepdim), [x])
    assert minigrad.gradcheck(lambda t: op(t.permute(2, 0, 1), dim, keepdim), [x])


def _reduction_bound(name, v, dim, keepdim=False):
    """Both sides' sum of n mixed-sign terms, in any order, within gamma_n sum|v| (a mean: one
    division more; a variance: mean, squares and sum, gamma_{2n+3} of the sum of squared
    deviations); max and min are exact."""
    n = v.size // np.sum(v, axis=dim, keepdims=True).size
    if name in ("max", "min"):
        return 0.0
    if name == "var":
        deviations = (v - v.mean(axis=dim, keepdims=True)) ** 2
        magnitude = deviations.sum(axis=dim, keepdims=keepdim) / (n - 1)
        return 2 * gamma(2 * n + 3, np.float64) * magnitude
    magnitude = np.abs(v).sum(axis=dim, keepdims=keepdim) / (n if name == "mean" else 1)
    return 2 * gamma(n + 1, np.float64) * magnitude


@pytest.mark.parametrize("name", ["sum", "mean", "var"])
def test_reductions_over_several_dims_and_all(name):
    x = leaf(3, 4, 2)
    for dim in [(0, 2), None]:
        out = getattr(x, name)(dim)
        expected = getattr(np, name)(x.numpy(), axis=dim, **({"ddof": 1} if name == "var" else {}))
        assert_within(out.numpy(), expected, _reduction_bound(name, x.numpy(), dim), name)
        assert minigrad.gradcheck(lambda t, dim=dim: getattr(t, name)(dim), [x])


def test_full_max_min_split_gradient_between_ties():
    x = minigrad.tensor([1.0, 3.0, 3.0, 2.0], dtype=np.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5, 0])
    y = leaf(3, 4)
    assert minigrad.gradcheck(lambda t: t.max() * t.min(), [y])


MATMUL_SHAPES = [
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((2, 4), (4,)),
    ((2, 4), (4, 3)),
    ((5, 2, 4), (4, 3)),
    ((2, 4), (5, 4, 3)),
    ((2, 1, 2, 4), (3, 4, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes):
    a, b = leaf(*shapes[0]), leaf(*shapes[1])
    bound = 2 * matmul_tolerance(a.numpy(), b.numpy())  # sums of 4 mixed-sign products
    assert_within((a @ b).numpy(), np.matmul(a.numpy(), b.numpy()), bound, "matmul")
    assert minigrad.gradcheck(lambda x, y: x @ y, [a, b])


def test_matmul_of_transposed_operands():
    a, b = leaf(4, 2), leaf(3, 4)
    bound = 2 * matmul_tolerance(a.numpy().T, b.numpy().T)
    assert_within((a.T @ b.T).numpy(), a.numpy().T @ b.numpy().T, bound, "transposed matmul")
    assert minigrad.gradcheck(lambda x, y: x.T @ y.T, [a, b])


def test_movement_ops():
    x = leaf(2, 3, 4)
    cases = [
        (lambda t: t.reshape(4, 6), lambda v: v.reshape(4, 6)),
        (lambda t: t.view(-1, 4), lambda v: v.reshape(-1, 4)),
        (lambda t: t.transpose(0, 2), lambda v: v.transpose(2, 1, 0)),
        (lambda t: t.permute(1, 2, 0), lambda v: v.transpose(1, 2, 0)),
        (lambda t: t.T, lambda v: v.T),
        (lambda t: t.unsqueeze(1), lambda v: v[:, None]),
        (lambda t: t.unsqueeze(-1).squeeze(-1), lambda v: v),
        (lambda t: t[:, :1].squeeze(), lambda v: v[:, 0]),
        (lambda t: t.flatten(), lambda v: v.reshape(-1)),
        (lambda t: t.flatten(1), lambda v: v.reshape(2, -1)),
        (lambda t: t[:, :1, :].expand(2, 5, 4), lambda v: np.broadcast_to(v[:, :1], (2, 5, 4))),
        (lambda t: t[0].expand(3, -1, -1), lambda v: np.broadcast_to(v[0], (3, 3, 4))),
    ]
    for fn, reference in cases:
        np.testing.assert_allclose(fn(x).numpy(), reference(x.numpy()))
        assert minigrad.gradcheck(fn, [x])


INDICES = [
    1,
    -1,
    slice(0, 2),
    (slice(None), 1),
    (Ellipsis, slice(1, 3)),
    (None, 0),
    (slice(None, None, -1),),
    np.array([0, 1, 1]),
    (np.array([0, 1, 0]), slice(None), np.array([3, 3, 1])),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem(index):
    x = leaf(2, 3, 4)
    np.testing.assert_allclose(x[index].numpy(), x.numpy()[index])
    assert minigrad.gradcheck(lambda t: t[index], [x])


def test_getitem_with_boolean_mask_and_tensor_index():
    x = leaf(3, 4)
    mask = x.numpy() > 0
    np.testing.assert_allclose(x[mask].numpy(), x.numpy()[mask])
    assert minigrad.gradcheck(lambda t: t[minigrad.tensor(mask)], [x])
    ids = minigrad.tensor([2, 0, 2])
    assert minigrad.gradcheck(lambda t: t[ids], [x])


def test_cat_stack_split_chunk():
    a, b = leaf(2, 3), leaf(2, 5)
    out = minigrad.cat([a, b], dim=1)
    np.testing.assert_allclose(out.numpy(), np.concatenate([a.numpy(), b.numpy()], 1))
    assert minigrad.gradcheck(lambda x, y: minigrad.cat([x, y.T.T], dim=-1), [a, b])
    c = leaf(2, 3)
    np.testing.assert_allclose(
        minigrad.stack([a, c], 1).numpy(), np.stack([a.numpy(), c.numpy()], 1)
    )
    assert minigrad.gradcheck(lambda x, y: minigrad.stack([x, y], dim=1), [a, c])
    parts = b.split(2, dim=1)
    assert [p.shape for p in parts] == [(2, 2), (2, 2), (2, 1)]
    assert minigrad.gradcheck(lambda x: x.split([1, 4], dim=1)[1] * 2, [b])
    chunks = b.chunk(2, dim=1)
    assert [p.shape for p in chunks] == [(2, 3), (2, 2)]
    assert minigrad.gradcheck(lambda x: x.chunk(2, dim=1)[0] ** 2, [b])


def test_gather():
    x = leaf(3, 4)
    index = minigrad.tensor([[0, 0], [3, 1], [2, 2]])
    out = x.gather(1, index)
    np.testing.assert_allclose(out.numpy(), np.take_along_axis(x.numpy(), index.numpy(), 1))
    assert minigrad.gradcheck(lambda t: t.gather(1, index), [x])
    assert minigrad.gradcheck(lambda t: minigrad.gather(t, 0, minigrad.tensor([[2, 0, 1, 1]])), [x])


def test_cast_between_float_dtypes_is_differentiable():
    x = leaf(3)
    y = x.to(np.float32)
    assert y.dtype == np.float32
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


# ---- neural-network functions -------------------------------------------------------------------
def _softmax(v, axis):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_and_log_softmax(dim):
    x = leaf(3, 5)
    np.testing.assert_allclose(F.softmax(x, dim).numpy(), _softmax(x.numpy(), dim))
    np.testing.assert_allclose(F.log_softmax(x, dim).numpy(), np.log(_softmax(x.numpy(), dim)))
    assert minigrad.gradcheck(lambda t: F.softmax(t, dim), [x])
    assert minigrad.gradcheck(lambda t: F.log_softmax(t.T, dim), [x])


def test_layer_norm_matches_formula_and_gradients():
    x, w, b = leaf(2, 3, 6), leaf(6), leaf(6)
    v = x.numpy()
    expected = (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + 1e-5)
    bound = 2 * layer_norm_tolerance(v)
    assert_within(F.layer_norm(x, 6).numpy(), expected, bound, "layer_norm")
    out = F.layer_norm(x, (6,), w, b)
    bound = 2 * layer_norm_tolerance(v, w.numpy(), b.numpy())
    assert_within(out.numpy(), expected * w.numpy() + b.numpy(), bound, "affine layer_norm")
    assert minigrad.gradcheck(lambda t, s, c: F.layer_norm(t, 6, s, c), [x, w, b])
    assert minigrad.gradcheck(lambda t: F.layer_norm(t.transpose(0, 2), 2), [x])
    y = leaf(2, 3, 4)
    assert minigrad.gradcheck(lambda t: F.layer_norm(t, (3, 4)), [y])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate):
    from math import erf

    x = leaf(4, 5)
    v = x.numpy()
    if approximate == "none":
        expected = v * 0.5 * (1 + np.vectorize(erf)(v / np.sqrt(2)))
    else:
        expected = 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v**3)))
    # 1 + erf and 1 + tanh cancel for negative v, leaving the expected value with an absolute
    # error of a few ulps of 1 times |v| (and v^3 inside tanh's argument); gelu computes the
    # cancellation-free erfc / sigmoid forms, within a few ulps of its value.
    bound = gamma(8, np.float64) * (np.abs(v) * (1 + np.abs(v) ** 3) + np.abs(expected))
    assert_within(F.gelu(x, approximate).numpy(), expected, bound, f"gelu {approximate}")
    assert minigrad.gradcheck(lambda t: F.gelu(t, approximate), [x])


def test_linear_and_embedding():
    x, w, b = leaf(2, 3, 4), leaf(5, 4), leaf(5)
    expected = x.numpy() @ w.numpy().T + b.numpy()
    bound = 2 * matmul_tolerance(x.numpy(), w.numpy().T, b.numpy())
    assert_within(F.linear(x, w, b).numpy(), expected, bound, "linear")
    assert minigrad.gradcheck(lambda t, m, c: F.linear(t, m, c), [x, w, b])
    assert minigrad.gradcheck(lambda t, m: F.linear(t, m), [x, w])
    ids = minigrad.tensor([[1, 2, 1], [0, 4, 4]])
    np.testing.assert_allclose(F.embedding(ids, w).numpy(), w.numpy()[ids.numpy()])
    assert minigrad.gradcheck(lambda m: F.embedding(ids, m), [w])
    w.grad = None
    F.embedding(ids, w, padding_idx=4).sum().backward()
    assert np.all(w.grad.numpy()[4] == 0) and np.all(w.grad.numpy()[1] == 2)


def test_dropout_scales_kept_units_and_is_identity_in_eval():
    minigrad.manual_seed(0)
    x = minigrad.ones(1000, 10, dtype=np.float64, requires_grad=True)
    y = F.dropout(x, 0.3, training=True)
    kept = y.numpy() != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7)
    assert F.dropout(x, 0.3, training=False) is x


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy(reduction, label_smoothing):
    logits = leaf(6, 5)
    target = np.array([0, 4, 2, -100, 1, 2])
    logp = np.log(_softmax(logits.numpy(), -1))
    keep = target != -100
    safe = np.where(keep, target, 0)
    per_row = -(1 - label_smoothing) * logp[np.arange(6), safe] - label_smoothing * logp.mean(1)
    per_row = np.where(keep, per_row, 0)
    expected = {"none": per_row, "sum": per_row.sum(), "mean": per_row.sum() / keep.sum()}
    out = F.cross_entropy(logits, target, label_smoothing=label_smoothing, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), expected[reduction], rtol=1e-12)
    assert minigrad.gradcheck(
        lambda t: F.cross_entropy(t, target, -100, label_smoothing, reduction), [logits]
    )


def test_mse_loss():
    a, b = leaf(3, 4), leaf(3, 4)
    np.testing.assert_allclose(F.mse_loss(a, b).numpy(), ((a.numpy() - b.numpy()) ** 2).mean())
    assert minigrad.gradcheck(lambda x, y: F.mse_loss(x, y, reduction="sum"), [a, b])


def test_module_level_split_and_chunk():
    x = leaf(2, 5)
    assert [p.shape for p in minigrad.split(x, 2, dim=1)] == [(2, 2), (2, 2), (2, 1)]
    assert [p.shape for p in minigrad.chunk(x, 2)] == [(1, 5), (1, 5)]
    assert minigrad.gradcheck(lambda t: minigrad.split(t, [3, 2], dim=1)[0] * 3, [x])
