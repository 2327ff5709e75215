"""The numpy reference kernels: the readable truth every Numba kernel is tested against.

Each function takes arrays that `minigrad.kernels` has already validated (float32 or float64,
matching shapes, masks that broadcast) and returns fresh arrays of the input dtype; the
arithmetic runs in that dtype too (numpy 2 keeps Python-float scalars weak), except GELU, which
goes through float64 because numpy has no erf. Rows with nothing to normalise (fully masked
softmax rows, log-softmax rows of -inf) are defined as zeros / zero gradient instead of NaN.
"""

import math

import numpy as np

from . import counter_rng

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def masked_softmax_forward(x, scale, mask):
    """y = softmax(scale * x) over the last axis, ignoring entries where `mask` is False.

    y_j = exp(z_j - m) / sum_k exp(z_k - m) with z = scale * x, m = max_k z_k over allowed k;
    a row with no allowed entry (or only -inf ones) is all zeros.
    """
    z = scale * x
    if mask is not None:
        z = np.where(mask, z, -np.inf)
    m = z.max(axis=-1, keepdims=True, initial=-np.inf)
    e = np.exp(z - np.where(m == -np.inf, 0.0, m))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def softmax_backward(y, grad_y, scale):
    """grad_x = scale * y * (grad_y - sum_j grad_y_j y_j): the softmax Jacobian-vector product."""
    return scale * y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


def log_softmax_forward(x):
    """y = x - m - log(sum_j exp(x_j - m)) on the last axis, m the row max; -inf rows stay -inf."""
    m = x.max(axis=-1, keepdims=True, initial=-np.inf)
    alive = m > -np.inf
    shifted = x - np.where(alive, m, 0.0)
    total = np.exp(shifted).sum(axis=-1, keepdims=True)
    return shifted - np.log(np.where(alive, total, 1.0))


def log_softmax_backward(y, grad_y):
    """grad_x = grad_y - exp(y) * sum_j grad_y_j; zero for rows that were all -inf."""
    dead = y.max(axis=-1, keepdims=True, initial=-np.inf) == -np.inf
    return np.where(dead, 0.0, grad_y - np.exp(y) * grad_y.sum(axis=-1, keepdims=True))


def cross_entropy_forward(logits, target, ignore_index, label_smoothing):
    """Per-row cross-entropy with label smoothing eps, plus the log-sum-exp saved for backward.

    loss_i = (1 - eps) (lse_i - x_i,t_i) + eps (lse_i - mean_c x_ic),  lse_i = log sum_c exp x_ic;
    rows whose target is `ignore_index` give 0.
    """
    m = logits.max(axis=1)
    m = np.where(np.isfinite(m), m, 0)  # a row of all -inf: lse = -inf, not NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
        valid = target != ignore_index
        rows = np.arange(len(target))
        picked = logits[rows, np.where(valid, target, 0)]
        eps = label_smoothing
        losses = (1.0 - eps) * (lse - picked)
        if eps:  # skipped when 0, so masked (-inf) logits do not turn the mean into NaN
            losses = losses + eps * (lse - logits.mean(axis=1))
    return np.where(valid, losses, 0.0), lse


def cross_entropy_backward(logits, lse, target, grad_losses, ignore_index, label_smoothing):
    """grad_x_ic = g_i (softmax(x_i)_c - (1 - eps) [c == t_i] - eps / C); zero for ignored rows."""
    valid = target != ignore_index
    eps = label_smoothing
    with np.errstate(invalid="ignore"):  # ignored all -inf rows give NaN, replaced by 0 below
        grad = np.exp(logits - lse[:, None]) - eps / logits.shape[1]
        grad[np.arange(len(target)), np.where(valid, target, 0)] -= 1.0 - eps
        return np.where(valid[:, None], grad * grad_losses[:, None], 0.0)


def cross_entropy_fused(logits, bias, target, ignore_index, label_smoothing, scale):
    """Cross-entropy of z = logits + bias and its gradient in one call: (losses, grad, grad_bias)
    with grad = scale * d(sum of losses)/dz written over `logits`, grad_bias its column sums."""
    z = logits if bias is None else logits + bias
    losses, lse = cross_entropy_forward(z, target, ignore_index, label_smoothing)
    grad_losses = np.full(len(z), scale, dtype=z.dtype)
    logits[...] = cross_entropy_backward(z, lse, target, grad_losses, ignore_index, label_smoothing)
    return losses, logits, (None if bias is None else logits.sum(axis=0))


def layer_norm_forward(x, weight, bias, eps):
    """y = (x - mean) * rstd * weight + bias per row of x (N, D), rstd = 1 / sqrt(var + eps).

    The variance is the biased one (divide by D), as PyTorch. Returns (y, mean, rstd).
    """
    mean = x.mean(axis=1)
    centered = x - mean[:, None]
    rstd = 1.0 / np.sqrt((centered * centered).mean(axis=1) + eps)
    y = centered * rstd[:, None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


def layer_norm_backward(grad_y, x, mean, rstd, weight):
    """Gradients of layer norm, with xhat = (x - mean) * rstd and gx = grad_y * weight:

    grad_x = rstd * (gx - mean_j gx_j - xhat * mean_j (gx_j xhat_j)),
    grad_weight = sum_rows grad_y * xhat, grad_bias = sum_rows grad_y (None without weight).
    """
    xhat = (x - mean[:, None]) * rstd[:, None]
    gx = grad_y if weight is None else grad_y * weight
    inner = gx.mean(axis=1, keepdims=True) + xhat * (gx * xhat).mean(axis=1, keepdims=True)
    grad_x = rstd[:, None] * (gx - inner)
    if weight is None:
        return grad_x, None, None
    return grad_x, (grad_y * xhat).sum(axis=0), grad_y.sum(axis=0)


def gelu_forward(x, approximate):
    """GELU. Exact: y = x Phi(x) = x erfc(-x / sqrt 2) / 2.

    Tanh: y = x (1 + tanh u) / 2 = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3); the erfc
    and sigmoid forms are the same functions without the cancellation of 1 + erf / 1 + tanh.
    """
    x64 = x.astype(np.float64)
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (x64 + _GELU_CUBIC * x64 * x64 * x64)
        y = x64 / (1.0 + _exp_or_inf(-2.0 * u))
    else:
        y = 0.5 * x64 * _erfc(-x64 / math.sqrt(2.0))
    return y.astype(x.dtype)


def gelu_backward(x, grad_y, approximate):
    """GELU gradient. Exact: Phi(x) + x phi(x). Tanh: s + 2 x s (1 - s) u'(x), s = sigmoid(2u)."""
    x64 = x.astype(np.float64)
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (x64 + _GELU_CUBIC * x64 * x64 * x64)
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x64 * x64)
        s = 1.0 / (1.0 + _exp_or_inf(-2.0 * u))
        dy = s + 2.0 * x64 * s * (1.0 - s) * du
    else:
        dy = 0.5 * _erfc(-x64 / math.sqrt(2.0)) + x64 * _INV_SQRT_2PI * np.exp(-0.5 * x64 * x64)
    return (dy * grad_y).astype(x.dtype)


def _exp_or_inf(z):
    """exp(z), overflowing quietly to inf (1 / (1 + inf) = 0 is the right sigmoid limit)."""
    with np.errstate(over="ignore"):
        return np.exp(z)


def dropout_forward(x, p, key, offset):
    """Inverted dropout: keep ~ Bernoulli(1 - p) from the counter stream (key, offset..);
    y = x * keep / (1 - p). Returns (y, keep) with keep a bool array of x's shape."""
    keep = counter_rng.random_bits(key, offset, x.size) >= counter_rng.threshold(p)
    keep = keep.reshape(x.shape)
    return np.where(keep, x * dropout_scale(p), 0.0).astype(x.dtype), keep


def dropout_backward(grad_y, keep_mask, p):
    """grad_x = grad_y * keep / (1 - p)."""
    return np.where(keep_mask, grad_y * dropout_scale(p), 0.0).astype(grad_y.dtype)


def dropout_scale(p):
    """1 / (1 - p), and 0 for p == 1 (everything dropped)."""
    return 0.0 if p >= 1.0 else 1.0 / (1.0 - p)


def adam_step(
    param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled
):
    """One Adam / AdamW update in place, as PyTorch documents it (step counts from 1):

    g = grad + wd * param (Adam) or param *= 1 - lr * wd (AdamW);
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    param -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """
    if decoupled:
        param *= 1.0 - lr * weight_decay
    elif weight_decay != 0.0:
        grad = grad + weight_decay * param
    exp_avg *= beta1
    exp_avg += (1.0 - beta1) * grad
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * grad * grad
    step_size = lr / (1.0 - beta1**step)
    denom = np.sqrt(exp_avg_sq) / math.sqrt(1.0 - beta2**step) + eps
    param -= step_size * exp_avg / denom


def sgd_step(
    param, grad, momentum_buf, lr, momentum, dampening, weight_decay, nesterov, first_step
):
    """One SGD update in place, as PyTorch: g = grad + wd * param; with momentum,
    buf = g on the first step, else buf = momentum buf + (1 - dampening) g, and
    g = g + momentum buf (Nesterov) or g = buf; then param -= lr g."""
    if weight_decay != 0.0:
        grad = grad + weight_decay * param
    if momentum != 0.0:
        if first_step:
            momentum_buf[...] = grad
        else:
            momentum_buf *= momentum
            momentum_buf += (1.0 - dampening) * grad
        grad = grad + momentum * momentum_buf if nesterov else momentum_buf
    param -= lr * grad


def add_row_bias(y, bias):
    """y[i, :] += bias[i] in place for y (N, M) and bias (N,): the bias of a product stored
    weight-major, (W x^T) + b[:, None]."""
    y += bias[:, None]


def embedding_backward(rows, ids, num_embeddings):
    """The gradient of an embedding table (num_embeddings, D): zeros with rows[i] added at row
    ids[i], repeated ids accumulating, in the order of i."""
    grad = np.zeros((num_embeddings, rows.shape[1]), dtype=rows.dtype)
    np.add.at(grad, ids, rows)
    return grad


def argmax_rows(x):
    """The column of the largest entry of each row of x (N, C): the first one on ties, and a NaN
    counts as the largest (numpy's rule)."""
    return np.argmax(x, axis=1)
