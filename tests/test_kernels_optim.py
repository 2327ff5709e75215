"""Adam/AdamW and SGD steps: both backends against PyTorch's documented algorithms written out
here, over several steps, in place, including non-contiguous parameters."""

import math

import numpy as np
import pytest

from minigrad import kernels as K
from minigrad.kernels.testing import assert_close, compare_backends

DTYPES = [np.float32, np.float64]


def torch_adam(param, grads, lr, betas, eps, weight_decay, decoupled):
    """torch.optim.Adam / AdamW (amsgrad=False) as in the PyTorch docs, element by element."""
    b1, b2 = betas
    p = [float(v) for v in param]
    m, v = [0.0] * len(p), [0.0] * len(p)
    for t, grad in enumerate(grads, start=1):
        for i, g in enumerate(grad):
            g = float(g)
            if decoupled:
                p[i] -= lr * weight_decay * p[i]
            elif weight_decay:
                g += weight_decay * p[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            p[i] -= lr * m_hat / (math.sqrt(v_hat) + eps)
    return np.array(p)


def torch_sgd(param, grads, lr, momentum, dampening, weight_decay, nesterov):
    """torch.optim.SGD as in the PyTorch docs."""
    p, buf = param.astype(np.float64), None
    for grad in grads:
        g = grad + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_matches_pytorch_algorithm_over_steps(dtype, decoupled):
    rng = np.random.default_rng(0)
    start = rng.standard_normal(50).astype(dtype)
    grads = rng.standard_normal((4, 50)).astype(dtype)
    hyper = {"lr": 1e-2, "betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 0.1}
    expected = torch_adam(start, grads, decoupled=decoupled, **hyper)
    for backend in K.BACKENDS:
        param, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
        with K.use_backend(backend):
            for step, grad in enumerate(grads, start=1):
                K.adam_step(param, grad, m, v, step, 1e-2, 0.9, 0.99, 1e-8, 0.1, decoupled)
        assert param.dtype == dtype
        assert_close(param, expected, dtype=dtype, scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_backends_agree_in_place_on_non_contiguous_state(dtype):
    rng = np.random.default_rng(1)
    param = rng.standard_normal((6, 8)).astype(dtype).T  # (8, 6), column-major
    grad = rng.standard_normal((8, 6)).astype(dtype)
    m = rng.standard_normal((8, 6)).astype(dtype)
    v = rng.random((8, 6)).astype(dtype)
    compare_backends(K.adam_step, param, grad, m, v, 3, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "momentum, dampening, nesterov, weight_decay",
    [
        (0.0, 0.0, False, 0.0),
        (0.9, 0.0, False, 1e-2),
        (0.9, 0.1, False, 0.0),
        (0.9, 0.0, True, 1e-2),
    ],
)
def test_sgd_matches_pytorch_algorithm(dtype, momentum, dampening, nesterov, weight_decay):
    rng = np.random.default_rng(2)
    start = rng.standard_normal(30).astype(dtype)
    grads = rng.standard_normal((3, 30)).astype(dtype)
    expected = torch_sgd(start, grads, 0.1, momentum, dampening, weight_decay, nesterov)
    for backend in K.BACKENDS:
        param = start.copy()
        buf = np.zeros_like(param) if momentum else None
        with K.use_backend(backend):
            for i, grad in enumerate(grads):
                K.sgd_step(
                    param, grad, buf, 0.1, momentum, dampening, weight_decay, nesterov, i == 0
                )
        assert_close(param, expected, dtype=dtype, scale=10)


def test_optimizer_input_errors():
    p = np.zeros(4, dtype=np.float32)
    with pytest.raises(TypeError, match="share one dtype"):
        K.adam_step(p, np.zeros(4), p.copy(), p.copy(), 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), expected \(4,\)"):
        K.sgd_step(p, np.zeros(3, np.float32), None, 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="step counts from 1"):
        K.adam_step(p, p.copy(), p.copy(), p.copy(), 0, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    with pytest.raises(ValueError, match="momentum_buf is required"):
        K.sgd_step(p, p.copy(), None, 0.1, 0.9, 0.0, 0.0, False, True)
    frozen = p.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="exp_avg is read-only"):
        K.adam_step(p, p.copy(), frozen, p.copy(), 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
