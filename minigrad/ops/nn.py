"""Neural-network ops, each one graph node with a hand-derived backward.

Composing these from elementary ops would also work (and is how the formulas are checked), but
one node per op is faster and numerically safer: softmax and cross-entropy subtract the row
maximum, layer norm reuses the saved mean and inverse standard deviation.
"""

import math

import numpy as np

from minigrad.autograd import Function
from minigrad.random import generator

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _softmax(x, axis):
    """exp(x - max) / sum(exp(x - max)); rows that are entirely -inf give zeros, not NaN."""
    top = x.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    e = np.exp(x - top)
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)


class Softmax(Function):
    """y = exp(x) / sum(exp(x)) along ``dim``;  dx = y * (g - sum(g * y))."""

    def forward(self, x, dim=-1):
        self.dim = dim
        self.y = _softmax(x, dim)
        return self.y

    def backward(self, g):
        y = self.y
        return y * (g - (g * y).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """y = x - log(sum(exp(x))) along ``dim``;  dx = g - softmax(x) * sum(g).

    Entries that are -inf (masked) get gradient 0; rows that are entirely -inf stay -inf.
    """

    def forward(self, x, dim=-1):
        self.dim = dim
        top = x.max(axis=dim, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)
        total = np.exp(x - top).sum(axis=dim, keepdims=True)
        with np.errstate(divide="ignore"):
            lse = top + np.log(np.where(total > 0, total, 1))
        self.y = x - lse
        return self.y

    def backward(self, g):
        finite = np.isfinite(self.y)
        grad = g - np.exp(self.y) * g.sum(axis=self.dim, keepdims=True)
        return np.where(finite, grad, 0).astype(g.dtype, copy=False)


class CrossEntropy(Function):
    """Per-row loss of (N, C) logits x against class targets t, PyTorch semantics:

    loss_i = (1 - eps) * (lse_i - x[i, t_i]) + eps * (lse_i - mean_c x[i, c]),  lse = logsumexp;
    rows whose target is ``ignore_index`` give 0.  dx = (softmax(x) - (1 - eps) onehot(t) - eps/C)
    times the row's incoming gradient.
    """

    def forward(self, x, target, ignore_index=-100, label_smoothing=0.0):
        n, c = x.shape
        self.x, self.eps, self.keep = x, label_smoothing, target != ignore_index
        self.target = np.where(self.keep, target, 0)
        top = x.max(axis=1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)
        total = np.exp(x - top).sum(axis=1)
        self.lse = top[:, 0] + np.log(np.where(total > 0, total, 1))
        picked = x[np.arange(n), self.target]
        with np.errstate(invalid="ignore"):
            loss = (1 - self.eps) * (self.lse - picked)
            if self.eps:
                loss = loss + self.eps * (self.lse - x.mean(axis=1))
        return np.where(self.keep, loss, 0).astype(x.dtype, copy=False)

    def backward(self, g):
        n, c = self.x.shape
        grad = np.exp(self.x - self.lse[:, None])
        grad[np.arange(n), self.target] -= 1 - self.eps
        if self.eps:
            grad -= self.eps / c
        grad *= np.where(self.keep, g, 0)[:, None]
        return grad.astype(self.x.dtype, copy=False), None


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last D features (biased variance).

    With xhat the normalised input and dxhat = g * w:
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
    dw = sum(g * xhat),  db = sum(g).
    """

    def forward(self, x, weight=None, bias=None, features=1, eps=1e-5):
        shape = x.shape
        x2 = x.reshape(-1, features)
        mean = x2.mean(axis=1, keepdims=True)
        centered = x2 - mean
        self.rstd = 1 / np.sqrt((centered * centered).mean(axis=1, keepdims=True) + eps)
        self.xhat = centered * self.rstd
        self.weight = weight
        y = self.xhat
        if weight is not None:
            y = y * weight.reshape(-1)
        if bias is not None:
            y = y + bias.reshape(-1)
        return y.reshape(shape)

    def backward(self, g):
        g2 = g.reshape(self.xhat.shape)
        w = self.weight
        dxhat = g2 if w is None else g2 * w.reshape(-1)
        dx = self.rstd * (
            dxhat
            - dxhat.mean(axis=1, keepdims=True)
            - self.xhat * (dxhat * self.xhat).mean(axis=1, keepdims=True)
        )
        dx = dx.reshape(g.shape)
        if w is None:
            return (dx,)
        needs = self.needs_input_grad
        dw = (g2 * self.xhat).sum(axis=0).reshape(w.shape) if needs[1] else None
        db = g2.sum(axis=0).reshape(w.shape) if needs[2] else None
        return dx, dw, db


class Gelu(Function):
    """y = x * Phi(x) with Phi the standard normal CDF (or its tanh approximation);

    exact: dy/dx = Phi(x) + x * phi(x);
    tanh: y = x/2 (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3).
    """

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
            return (0.5 * x * (1 + self.t)).astype(x.dtype, copy=False)
        self.cdf = (0.5 * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)
        return x * self.cdf

    def backward(self, g):
        x = self.x
        if self.approximate == "tanh":
            du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            d = 0.5 * (1 + self.t) + 0.5 * x * (1 - self.t * self.t) * du
        else:
            d = self.cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (g * d).astype(g.dtype, copy=False)


class Dropout(Function):
    """y = x * keep / (1 - p) with keep ~ Bernoulli(1 - p) (inverted dropout);  dx = g * same."""

    def forward(self, x, p=0.5):
        keep = generator().random(x.shape, dtype=np.float32) >= p
        self.scale = (keep / (1 - p)).astype(x.dtype)
        return x * self.scale

    def backward(self, g):
        return g * self.scale


class Embedding(Function):
    """y = weight[ids] (a row lookup);  dweight = rows of g added at ids (none at padding_idx)."""

    def forward(self, weight, ids, padding_idx=None):
        self.ids, self.shape, self.padding_idx = ids, weight.shape, padding_idx
        return weight[ids]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(grad, self.ids.reshape(-1), g.reshape(-1, self.shape[1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return grad, None


class Linear(Function):
    """y = x @ W^T + b for x (..., in), W (out, in):  dx = g @ W,  dW = g^T x,  db = sum(g).

    Leading dimensions are flattened into one so each product is a single 2-D BLAS call.
    """

    def forward(self, x, weight, bias=None):
        self.x_shape = x.shape
        self.x2 = x.reshape(-1, x.shape[-1])
        self.weight = weight
        y = self.x2 @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, g):
        g2 = g.reshape(-1, g.shape[-1])
        needs = self.needs_input_grad
        dx = (g2 @ self.weight).reshape(self.x_shape) if needs[0] else None
        dw = g2.T @ self.x2 if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        return dx, dw, (g2.sum(axis=0) if needs[2] else None)
