"""Optimizers against PyTorch's documented update rules, written out by hand in numpy.

Each test minimises f(p) = sum(a * p^2 + b * p) (so g = 2 a p + b) for several steps with
minigrad's autograd and optimizer, and with the formulas below in float64 numpy.
"""

import numpy as np
import pytest
from helpers import gamma

import minigrad
from minigrad import nn, optim

RNG = np.random.default_rng(42)
A, B = RNG.uniform(0.5, 2.0, (3, 4)), RNG.standard_normal((3, 4))
P0 = RNG.standard_normal((3, 4))
STEPS = 6
# float32 against the float64 formulas: no sums (elementwise updates, so no summation order;
# FMA contraction in the Numba kernels only removes roundings), at most ~12 roundings per entry
# per step, carried to later steps with a gain below 2 (the updates contract: lr 2 A < 1):
# gamma_{STEPS * 12 * 2}, doubled for the float32 rounding of A, B and P0 themselves.
FLOAT32_RTOL = 2 * gamma(STEPS * 12 * 2)


def _grad(p):
    return 2 * A * p + B


def _run(make_optimizer, dtype=np.float64, steps=STEPS):
    """Parameter values after each step of minigrad's optimizer on f."""
    p = nn.Parameter(P0.astype(dtype))
    opt = make_optimizer([p])
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        (p * p * A.astype(dtype) + p * B.astype(dtype)).sum().backward()
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = P0.copy(), None, []
    for t in range(1, STEPS + 1):
        g = _grad(p) + weight_decay * p
        if momentum:
            buf = g.copy() if t == 1 else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    p, m, v, out = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for t in range(1, STEPS + 1):
        g = _grad(p)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def _compare(trajectory, reference, rtol):
    for step, (got, want) in enumerate(zip(trajectory, reference, strict=True), 1):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=f"step {step}")


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1),
    dict(lr=0.05, momentum=0.7, weight_decay=0.2, nesterov=True),
    dict(lr=0.1, weight_decay=0.5),
]
ADAM_CASES = [
    dict(lr=0.1),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.05, weight_decay=0.1),
]


@pytest.mark.parametrize("options", SGD_CASES)
def test_sgd_follows_the_documented_rule(options):
    reference = sgd_reference(**options)
    _compare(_run(lambda ps: optim.SGD(ps, **options)), reference, rtol=1e-12)
    _compare(_run(lambda ps: optim.SGD(ps, **options), np.float32), reference, rtol=FLOAT32_RTOL)


@pytest.mark.parametrize("options", ADAM_CASES)
def test_adam_follows_the_documented_rule(options):
    reference = adam_reference(**options)
    _compare(_run(lambda ps: optim.Adam(ps, **options)), reference, rtol=1e-12)
    _compare(_run(lambda ps: optim.Adam(ps, **options), np.float32), reference, rtol=FLOAT32_RTOL)


@pytest.mark.parametrize("options", [*ADAM_CASES, dict(lr=0.05, weight_decay=0.5)])
def test_adamw_decouples_weight_decay(options):
    reference = adam_reference(**{"weight_decay": 1e-2, **options}, decoupled=True)
    _compare(_run(lambda ps: optim.AdamW(ps, **options)), reference, rtol=1e-12)
    if options.get("weight_decay"):  # and differs from Adam's L2 penalty
        with pytest.raises(AssertionError):
            _compare(_run(lambda ps: optim.Adam(ps, **options)), reference, rtol=1e-6)


def test_param_groups_have_their_own_options():
    w = nn.Parameter(P0.copy())
    b = nn.Parameter(P0.copy())
    opt = optim.AdamW([{"params": [w]}, {"params": [b], "weight_decay": 0.0, "lr": 0.02}],
                      lr=0.1, weight_decay=0.3)  # fmt: skip
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # filled in from the defaults
    for _ in range(STEPS):
        opt.zero_grad()
        for p in (w, b):
            (p * p * A + p * B).sum().backward()
        opt.step()
    _compare([w.numpy()], adam_reference(0.1, weight_decay=0.3, decoupled=True)[-1:], 1e-12)
    _compare([b.numpy()], adam_reference(0.02, decoupled=True)[-1:], 1e-12)
    sgd = optim.SGD([{"params": [w], "momentum": 0.9}, {"params": [b]}], lr=0.1)
    assert [g["momentum"] for g in sgd.param_groups] == [0.9, 0.0]


def test_parameters_without_gradients_are_left_alone():
    used, unused = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([used, unused], lr=0.1)
    (used * 2).sum().backward()
    opt.step()
    assert (used.numpy() < 1).all() and (unused.numpy() == 1).all()
    assert unused not in opt.state and opt.state[used]["step"] == 1


def test_zero_grad_and_closure():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=0.5)
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and not p.grad.numpy().any()
    opt.zero_grad()
    assert p.grad is None

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    np.testing.assert_array_equal(p.numpy(), [0, 0, 0])


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: optim.SGD(p[0], lr=0.1), TypeError, "single Tensor"),
        (lambda p: optim.SGD([np.ones(2)], lr=0.1), TypeError, "only optimize Tensors"),
        (lambda p: optim.SGD([p[0] * 2], lr=0.1), ValueError, "non-leaf"),
        (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError, "more than once"),
        (lambda p: optim.SGD([{"params": p}, {"params": p}]), ValueError, "more than once"),
        (lambda p: optim.SGD({p[0]}), TypeError, "not a set"),
        (lambda p: optim.SGD(p, lr=-1), ValueError, "invalid lr"),
        (lambda p: optim.SGD(p, momentum=-0.1), ValueError, "invalid momentum"),
        (lambda p: optim.SGD(p, nesterov=True), ValueError, "Nesterov"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, "invalid betas"),
        (lambda p: optim.Adam(p, eps=-1e-8), ValueError, "invalid eps"),
        (lambda p: optim.AdamW(p, weight_decay=-1), ValueError, "invalid weight_decay"),
    ],
)
def test_invalid_arguments_are_clear_errors(build, error, message):
    with pytest.raises(error, match=message):
        build([nn.Parameter(np.ones(2))])


def test_gradient_of_the_wrong_shape_is_named():
    p = nn.Parameter(np.ones(2))
    p.name = "fc.bias"
    p.grad = minigrad.ones(3)
    with pytest.raises(ValueError, match="'fc.bias' of shape \\(2,\\)"):
        optim.SGD([p], lr=0.1).step()


def test_repr_lists_the_groups():
    text = repr(optim.Adam([nn.Parameter(np.ones(1))], lr=0.5))
    assert text.startswith("Adam (\nParameter Group 0\n") and "    lr: 0.5" in text
