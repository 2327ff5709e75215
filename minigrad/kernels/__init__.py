"""minigrad.kernels: the hot loops, as pure array functions (numpy arrays in, fresh arrays out).

Every kernel exists twice behind this one interface: a numpy reference (`reference.py`, the
readable truth) and a Numba JIT version (`numba_*.py`). `set_backend`, `use_backend` or the
environment variable MINIGRAD_BACKEND=numpy|numba pick which one runs; the functions below
validate their input (clear errors naming shapes and dtypes) and dispatch. float32 and float64
are accepted and preserved; non-contiguous inputs are fine. docs/performance.md has timings.
"""

import numpy as np

from minigrad import threads

from . import _backend, _checks, counter_rng
from ._backend import BACKENDS, get_backend, set_backend, use_backend

__all__ = [
    "BACKENDS", "adam_step", "add_row_bias", "argmax_rows", "cross_entropy_backward",
    "cross_entropy_forward", "cross_entropy_fused", "dropout_backward", "dropout_forward",
    "embedding_backward", "gelu_backward", "gelu_forward", "get_backend", "get_rng_state",
    "layer_norm_backward", "layer_norm_forward", "log_softmax_backward", "log_softmax_forward",
    "masked_softmax_forward", "matmul", "seed", "set_backend", "set_rng_state", "sgd_step",
    "softmax_backward", "use_backend",
]  # fmt: skip

_GELU_MODES = ("none", "tanh")


def seed(s: int) -> None:
    """Seed the random stream dropout draws from (both backends): same seed, same masks."""
    counter_rng.seed(s)


def get_rng_state() -> dict:
    """The dropout stream's position as plain data (for checkpoints)."""
    return counter_rng.get_state()


def set_rng_state(state: dict) -> None:
    """Restore a position returned by `get_rng_state`."""
    counter_rng.set_state(state)


def masked_softmax_forward(x, scale=1.0, mask=None):
    """Softmax over the last axis of scale * x, where bool `mask` (broadcastable to x) is True.

    y_j = exp(z_j - m) / sum_k exp(z_k - m), z = scale * x, m = max allowed z; excluded entries
    are 0 and a row with nothing allowed is all zeros (never NaN).
    """
    (x,) = _checks.floats("masked_softmax_forward", x=x)
    _checks.at_least_1d("masked_softmax_forward", "x", x)
    mask = _checks.mask("masked_softmax_forward", mask, x.shape)
    return _backend.impl.masked_softmax_forward(x, float(scale), mask)


def softmax_backward(y, grad_y, scale=1.0):
    """grad_x = scale * y * (grad_y - sum(grad_y * y, -1)), y the output of the forward."""
    y, grad_y = _checks.floats("softmax_backward", y=y, grad_y=grad_y)
    _checks.at_least_1d("softmax_backward", "y", y)
    _checks.same_shape("softmax_backward", y.shape, grad_y=grad_y)
    return _backend.impl.softmax_backward(y, grad_y, float(scale))


def log_softmax_forward(x):
    """y = x - logsumexp(x) over the last axis; a row of all -inf gives -inf (no NaN)."""
    (x,) = _checks.floats("log_softmax_forward", x=x)
    _checks.at_least_1d("log_softmax_forward", "x", x)
    return _backend.impl.log_softmax_forward(x)


def log_softmax_backward(y, grad_y):
    """grad_x = grad_y - exp(y) * sum(grad_y, -1); zero for rows whose y is all -inf."""
    y, grad_y = _checks.floats("log_softmax_backward", y=y, grad_y=grad_y)
    _checks.at_least_1d("log_softmax_backward", "y", y)
    _checks.same_shape("log_softmax_backward", y.shape, grad_y=grad_y)
    return _backend.impl.log_softmax_backward(y, grad_y)


def cross_entropy_forward(logits, target, ignore_index=-100, label_smoothing=0.0):
    """Per-row cross-entropy of logits (N, C) against int targets (N,), PyTorch semantics.

    loss_i = (1 - eps) (lse_i - x_i,t_i) + eps (lse_i - mean_c x_ic), 0 where t_i == ignore_index.
    Returns (losses (N,), lse (N,)); lse = logsumexp of each row, saved for the backward.
    Raises IndexError for a target outside [0, C) that is not ignore_index.
    """
    (logits,) = _checks.floats("cross_entropy_forward", logits=logits)
    n, c = _logits_shape("cross_entropy_forward", logits)
    target = _checks.targets("cross_entropy_forward", target, n, c, ignore_index)
    eps = _checks.probability("cross_entropy_forward", "label_smoothing", label_smoothing)
    return _backend.impl.cross_entropy_forward(logits, target, int(ignore_index), eps)


def cross_entropy_backward(
    logits, lse, target, grad_losses, ignore_index=-100, label_smoothing=0.0
):
    """grad_logits_ic = g_i (softmax(x_i)_c - (1 - eps) [c == t_i] - eps / C), 0 for ignored rows;
    g = grad_losses (N,), lse from `cross_entropy_forward`."""
    kernel = "cross_entropy_backward"
    logits, lse, grad_losses = _checks.floats(
        kernel, logits=logits, lse=lse, grad_losses=grad_losses
    )
    n, c = _logits_shape(kernel, logits)
    _checks.same_shape(kernel, (n,), lse=lse, grad_losses=grad_losses)
    target = _checks.targets(kernel, target, n, c, ignore_index)
    eps = _checks.probability(kernel, "label_smoothing", label_smoothing)
    args = (logits, lse, target, grad_losses, int(ignore_index), eps)
    return _backend.impl.cross_entropy_backward(*args)


def cross_entropy_fused(logits, bias, target, ignore_index=-100, label_smoothing=0.0, scale=1.0):
    """Cross-entropy of z = logits + bias (bias (C,) or None) and its gradient in one pass over
    each row: returns (losses (N,) as `cross_entropy_forward`, grad, grad_bias), where
    grad = scale * (softmax(z) - target distribution), 0 for ignored rows, is written over
    `logits` (which must be a C-contiguous array the caller hands over: no (N, C) array is
    allocated or read twice) and grad_bias = its column sums (None without a bias)."""
    kernel = "cross_entropy_fused"
    (logits,) = _checks.floats(kernel, logits=logits)
    n, c = _logits_shape(kernel, logits)
    if not logits.flags.c_contiguous:
        raise ValueError(f"{kernel}(): logits must be C-contiguous (it is overwritten)")
    _checks.writable(kernel, logits=logits)
    if bias is not None:
        (bias,) = _checks.floats(kernel, bias=bias.astype(logits.dtype, copy=False))
        _checks.same_shape(kernel, (c,), bias=bias)
    target = _checks.targets(kernel, target, n, c, ignore_index)
    eps = _checks.probability(kernel, "label_smoothing", label_smoothing)
    args = (logits, bias, target, int(ignore_index), eps, float(scale))
    return _backend.impl.cross_entropy_fused(*args)


def layer_norm_forward(x, weight, bias, eps):
    """Layer norm of each row of x (N, D): y = (x - mean) * rstd * weight + bias,
    rstd = 1 / sqrt(var + eps) with the biased variance; weight/bias (D,) or None.
    Returns (y, mean (N,), rstd (N,))."""
    x, weight, bias = _norm_inputs("layer_norm_forward", x, weight=weight, bias=bias)
    return _backend.impl.layer_norm_forward(x, weight, bias, float(eps))


def layer_norm_backward(grad_y, x, mean, rstd, weight):
    """Returns (grad_x, grad_weight, grad_bias) of layer norm (the last two None when weight is
    None): grad_x = rstd (gx - mean(gx) - xhat mean(gx xhat)), gx = grad_y weight,
    grad_weight = sum_rows grad_y xhat, grad_bias = sum_rows grad_y."""
    kernel = "layer_norm_backward"
    x, grad_y, mean, rstd = _checks.floats(kernel, x=x, grad_y=grad_y, mean=mean, rstd=rstd)
    x, weight = _norm_inputs(kernel, x, weight=weight)
    _checks.same_shape(kernel, x.shape, grad_y=grad_y)
    _checks.same_shape(kernel, x.shape[:1], mean=mean, rstd=rstd)
    return _backend.impl.layer_norm_backward(grad_y, x, mean, rstd, weight)


def gelu_forward(x, approximate="none"):
    """GELU(x) = x Phi(x) (approximate="none", erf) or its tanh approximation
    x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 (approximate="tanh"), as PyTorch."""
    (x,) = _checks.floats("gelu_forward", x=x)
    return _backend.impl.gelu_forward(x, _gelu_mode("gelu_forward", approximate))


def gelu_backward(x, grad_y, approximate="none"):
    """grad_x = grad_y * GELU'(x), for the same `approximate` as the forward."""
    x, grad_y = _checks.floats("gelu_backward", x=x, grad_y=grad_y)
    _checks.same_shape("gelu_backward", x.shape, grad_y=grad_y)
    return _backend.impl.gelu_backward(x, grad_y, _gelu_mode("gelu_backward", approximate))


def dropout_forward(x, p):
    """Inverted dropout: y = x * keep / (1 - p), keep ~ Bernoulli(1 - p) from the seeded stream.
    Returns (y, keep_mask) with keep_mask a bool array shaped like x (p = 1 gives zeros)."""
    (x,) = _checks.floats("dropout_forward", x=x)
    p = _checks.probability("dropout_forward", "p", p)
    key, offset = counter_rng.claim(x.size)
    return _backend.impl.dropout_forward(x, p, key, offset)


def dropout_backward(grad_y, keep_mask, p):
    """grad_x = grad_y * keep_mask / (1 - p)."""
    (grad_y,) = _checks.floats("dropout_backward", grad_y=grad_y)
    keep_mask = _checks.mask("dropout_backward", keep_mask, grad_y.shape)
    _checks.same_shape("dropout_backward", grad_y.shape, keep_mask=keep_mask)
    p = _checks.probability("dropout_backward", "p", p)
    return _backend.impl.dropout_backward(grad_y, keep_mask, p)


def adam_step(
    param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled
):
    """One Adam (decoupled=False: L2 weight decay added to the gradient) or AdamW (decoupled=True:
    param *= 1 - lr * weight_decay) step, in place on param, exp_avg and exp_avg_sq, as PyTorch;
    `step` counts from 1 and sets the bias corrections 1 - beta^step."""
    kernel = "adam_step"
    arrays = _checks.floats(kernel, param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    _checks.same_shape(kernel, arrays[0].shape, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    _checks.writable(kernel, param=param, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    if step < 1:
        raise ValueError(f"adam_step(): step counts from 1, got {step}")
    scalars = (float(lr), float(beta1), float(beta2), float(eps), float(weight_decay))
    _backend.impl.adam_step(*arrays, int(step), *scalars, bool(decoupled))


def sgd_step(
    param, grad, momentum_buf, lr, momentum, dampening, weight_decay, nesterov, first_step
):
    """One SGD step in place, as PyTorch: g = grad + weight_decay * param; with momentum,
    momentum_buf = g on the first step, else momentum * buf + (1 - dampening) * g, and
    g = g + momentum * buf (nesterov) or buf; param -= lr * g. momentum_buf may be None
    when momentum == 0."""
    kernel = "sgd_step"
    param, grad = _checks.floats(kernel, param=param, grad=grad)
    _checks.same_shape(kernel, param.shape, grad=grad)
    _checks.writable(kernel, param=param)
    if momentum != 0.0:
        if momentum_buf is None:
            raise ValueError("sgd_step(): momentum_buf is required when momentum != 0")
        _checks.floats(kernel, param=param, momentum_buf=momentum_buf)
        _checks.same_shape(kernel, param.shape, momentum_buf=momentum_buf)
        _checks.writable(kernel, momentum_buf=momentum_buf)
    scalars = (float(lr), float(momentum), float(dampening), float(weight_decay))
    _backend.impl.sgd_step(param, grad, momentum_buf, *scalars, bool(nesterov), bool(first_step))


def embedding_backward(rows, ids, num_embeddings):
    """The gradient of an embedding table (num_embeddings, D) from the gradient `rows` (N, D)
    of the looked-up rows: zeros with rows[i] added at row ids[i] (N,), repeats accumulating,
    in the order of i (as ``np.add.at``, so both backends give the same bits)."""
    kernel = "embedding_backward"
    (rows,) = _checks.floats(kernel, rows=rows)
    ids = np.asarray(ids)
    if rows.ndim != 2 or ids.shape != rows.shape[:1]:
        raise ValueError(
            f"{kernel}(): need rows (N, D) and ids (N,), got {rows.shape}, {ids.shape}"
        )
    if ids.dtype.kind not in "iu" or (ids.size and (ids.min() < 0 or ids.max() >= num_embeddings)):
        raise IndexError(f"{kernel}(): ids must be integers in [0, {num_embeddings})")
    return _backend.impl.embedding_backward(rows, ids.astype(np.int64, copy=False), num_embeddings)


def add_row_bias(y, bias):
    """y[i, :] += bias[i], in place, for y (N, M) and bias (N,): the bias of a product that
    `Linear` stores weight-major for few rows, y = W x^T (faster than numpy's broadcast add).
    Called once per product while decoding, so valid input is recognised by one cheap test."""
    valid = type(y) is np.ndarray and type(bias) is np.ndarray and _checks.same_float(y, bias)
    if not (valid and y.ndim == 2 and bias.shape == y.shape[:1] and y.flags.writeable):
        y, bias = _checks.floats("add_row_bias", y=y, bias=bias)
        if y.ndim != 2 or bias.shape != y.shape[:1]:
            raise ValueError(
                f"add_row_bias(): need y (N, M) and bias (N,), got y {y.shape} and bias "
                f"{bias.shape}"
            )
        _checks.writable("add_row_bias", y=y)
    _backend.impl.add_row_bias(y, bias)


def argmax_rows(x):
    """Index of the largest entry of each row of x (N, C), as ``np.argmax(x, axis=1)`` (the
    first on ties; NaN counts as the largest). Fast in both memory layouts, including the
    transposed one that `Linear` returns for few rows (greedy decoding's logits)."""
    (x,) = _checks.floats("argmax_rows", x=x)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"argmax_rows(): x must be (N, C) with C >= 1, got {x.shape}")
    return _backend.impl.argmax_rows(x)


def matmul(a, b):
    """a @ b with numpy's matmul semantics (1-D, 2-D, batched N-D with broadcast batch dims;
    numpy's dtype rules, integers included, as the autograd ops need), on as many BLAS threads
    as one 2-D product's size and the free cores warrant (`minigrad.threads`). numpy's own
    matmul in both backends: hand-written Numba loops lost on every shape we measured."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        a, b = np.asarray(a), np.asarray(b)
    if a.ndim > 1 and b.ndim > 1:  # runs before every product, so the common case is inline
        work = a.shape[-2] * a.shape[-1] * b.shape[-1]
        if work >= threads.SECOND_BLAS_THREAD:  # a smaller product BLAS runs on one thread itself
            threads.prepare_blas(work)
    else:
        threads.prepare_blas(_multiply_adds_per_product(a, b))
    try:
        return np.matmul(a, b)
    except ValueError as error:  # checked only on failure: the happy path stays one BLAS call
        raise ValueError(f"matmul(): shapes {a.shape} and {b.shape} are not aligned") from error


def _multiply_adds_per_product(a, b):
    """m * k * n of one 2-D product of a @ b, which is what BLAS threads. 0 for a dot product of
    two vectors: BLAS would split its one sum across threads, and the result would then depend
    on the load; a dot is memory-bound anyway."""
    if a.ndim < 2 and b.ndim < 2:
        return 0
    rows = a.shape[-2] if a.ndim > 1 else 1
    columns = b.shape[-1] if b.ndim > 1 else 1
    return rows * a.shape[-1] * columns


def _logits_shape(kernel, logits):
    """(N, C) of a 2-D logits array with at least one class."""
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(f"{kernel}(): logits must be (N, C) with C >= 1, got {logits.shape}")
    return logits.shape


def _norm_inputs(kernel, x, **params):
    """x (N, D) and its optional (D,) parameters, all of one float dtype."""
    if _norm_inputs_fit(x, params.values()):  # the common case, checked cheaply
        return (x, *params.values())
    present = {name: p for name, p in params.items() if p is not None}
    x, *arrays = _checks.floats(kernel, x=x, **present)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"{kernel}(): x must be (N, D), D >= 1 (reshape first), got {x.shape}")
    _checks.same_shape(kernel, x.shape[1:], **dict(zip(present, arrays, strict=True)))
    given = iter(arrays)
    return (x, *(None if p is None else next(given) for p in params.values()))


def _norm_inputs_fit(x, params) -> bool:
    """True when x is a float (N, D) ndarray, D >= 1, and params are None or (D,) of its dtype."""
    if (
        type(x) is not np.ndarray
        or x.ndim != 2
        or not x.shape[1]
        or x.dtype not in _checks.FLOAT_DTYPES
    ):
        return False
    return all(
        p is None or (type(p) is np.ndarray and p.dtype is x.dtype and p.shape == x.shape[1:])
        for p in params
    )


def _gelu_mode(kernel, approximate):
    """Check `approximate` is "none" or "tanh"."""
    if approximate not in _GELU_MODES:
        raise ValueError(
            f"{kernel}(): approximate must be one of {_GELU_MODES}, got {approximate!r}"
        )
    return approximate


_backend.set_from_environment()
