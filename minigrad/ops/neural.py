"""Neural-network ops, each one graph node with a hand-derived backward.

Composing these from elementary ops would also work (and is how the formulas are checked), but
one node per op is faster and numerically safer. The arithmetic happens in `minigrad.kernels`
(a numpy reference and a Numba version behind one interface, chosen by MINIGRAD_BACKEND).
"""

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, unbroadcast, unbroadcast_graph
from minigrad.ops.elementwise import sigmoid
from minigrad.ops.movement import IndexAdd, MaskedFill


def _last(a, dim):
    """View ``a`` with axis ``dim`` moved last (the kernels work on the last axis)."""
    return a if dim == a.ndim - 1 else np.moveaxis(a, dim, -1)


def _back(a, dim):
    """Undo `_last`."""
    return a if dim == a.ndim - 1 else np.moveaxis(a, -1, dim)


class Softmax(Function):
    """y = exp(x) / sum(exp(x)) along ``dim``;  dx = y * (g - sum(g * y)).

    Rows that are entirely -inf give zeros, not NaN.
    """

    def forward(self, x, dim=-1):
        self.dim = dim
        self.y = kernels.masked_softmax_forward(_last(x, dim))
        return _back(self.y, dim)

    def backward(self, g):
        return _back(kernels.softmax_backward(self.y, _last(g, self.dim)), self.dim)

    def backward_graph(self, g):
        y = Softmax.apply(self.parents[0], dim=self.dim)
        return y * (g - (g * y).sum(self.dim, keepdim=True))


class LogSoftmax(Function):
    """y = x - log(sum(exp(x))) along ``dim``;  dx = g - softmax(x) * sum(g).

    Rows that are entirely -inf stay -inf and get zero gradient.
    """

    def forward(self, x, dim=-1):
        self.dim = dim
        self.y = kernels.log_softmax_forward(_last(x, dim))
        return _back(self.y, dim)

    def backward(self, g):
        return _back(kernels.log_softmax_backward(self.y, _last(g, self.dim)), self.dim)

    def backward_graph(self, g):
        y = LogSoftmax.apply(self.parents[0], dim=self.dim)
        return g - y.exp() * g.sum(self.dim, keepdim=True)


class CrossEntropy(Function):
    """Per-row loss of (N, C) logits x against class targets t, PyTorch semantics:

    loss_i = (1 - eps) * (lse_i - x[i, t_i]) + eps * (lse_i - mean_c x[i, c]),  lse = logsumexp;
    rows whose target is ``ignore_index`` give 0.  dx = (softmax(x) - (1 - eps) onehot(t) - eps/C)
    times the row's incoming gradient. Forward and backward are each one pass over the logits.
    """

    def forward(self, x, target, ignore_index=-100, label_smoothing=0.0):
        self.x, self.target = x, target
        self.options = ignore_index, label_smoothing
        losses, self.lse = kernels.cross_entropy_forward(x, target, *self.options)
        return losses

    def backward(self, g):
        grad = kernels.cross_entropy_backward(self.x, self.lse, self.target, g, *self.options)
        return grad, None

    def backward_graph(self, g):
        distribution, valid = _target_distribution(self.target, *self.options, self.x.shape, g)
        row = g * valid
        return (Softmax.apply(self.parents[0], dim=1) - distribution) * row.reshape(-1, 1), None


class BinaryCrossEntropyWithLogits(Function):
    """Elementwise loss of logits x against targets y in [0, 1], with s = sigmoid(x):

    loss = -[y log s + (1 - y) log(1 - s)] = max(x, 0) - x y + log(1 + e^-|x|)

    (the second form never overflows);  dx = g (s - y),  dy = -g x.
    """

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))

    def backward(self, g):
        needs = self.needs_input_grad
        dx = g * (sigmoid(self.x) - self.y) if needs[0] else None
        return dx, (-g * self.x if needs[1] else None)

    def backward_graph(self, g):
        x, y = self.parents
        return g * (x.sigmoid() - y), -g * x


def _target_distribution(target, ignore_index, eps, shape, like):
    """The smoothed target distribution (1 - eps) onehot(t) + eps / C of every row, (N, C), and
    which rows count (N,), 1 or 0, as constant tensors of `like`'s dtype (for second
    derivatives: the cross-entropy's gradient is softmax(x) - distribution on counted rows)."""
    n, classes = shape
    valid = target != ignore_index
    onehot = np.zeros(shape, dtype=like.dtype)
    onehot[np.arange(n)[valid], target[valid]] = 1
    distribution = ((1 - eps) * onehot + eps / classes).astype(like.dtype)
    return like._wrap(distribution), like._wrap(valid.astype(like.dtype))


class LinearCrossEntropy(Function):
    """The mean label-smoothed cross-entropy of the logits z = x W^T + b against targets t, over
    the rows whose target is not ``ignore_index`` (n of them), as one node: the generator and
    the loss of a translation model, whose (N, vocabulary) logits are the largest arrays of a
    step. With G = (softmax(z) - (1 - eps) onehot(t) - eps / C) / n on counted rows, 0 elsewhere:
    dx = g G W,  dW = g G^T x,  db = g sum_rows(G).

    G is computed in the forward, in the same pass over each row of z as the loss and written
    over z (`kernels.cross_entropy_fused`), so the logits are read once and never kept; the
    backward is the two products.
    """

    def forward(self, x, weight, bias=None, target=None, ignore_index=-100, label_smoothing=0.0):
        self.x, self.weight, self.target = x, weight, target
        self.options = ignore_index, label_smoothing
        count = int((target != ignore_index).sum())
        scale = 1.0 / count if count else 0.0
        logits = kernels.matmul(x, weight.T)
        losses, self.grad, self.grad_bias = kernels.cross_entropy_fused(
            logits, bias, target, ignore_index, label_smoothing, scale
        )
        return np.asarray(losses.sum(dtype=np.float64) * scale, dtype=logits.dtype)

    def backward(self, g):
        needs = self.needs_input_grad
        dx = kernels.matmul(self.grad, self.weight) if needs[0] else None
        dw = kernels.matmul(self.grad.T, self.x) if needs[1] else None
        db = self.grad_bias if len(needs) == 3 and needs[2] else None
        if g != 1:  # scale the small results, not the (N, C) gradient
            dx, dw, db = (None if a is None else a * g for a in (dx, dw, db))
        return (dx, dw) if len(needs) == 2 else (dx, dw, db)

    def backward_graph(self, g):
        x, weight = self.parents[:2]
        logits = x @ weight.transpose(0, 1)
        if len(self.parents) == 3:
            logits = logits + self.parents[2]
        distribution, valid = _target_distribution(self.target, *self.options, logits.shape, g)
        count = max(int(valid.data.sum()), 1)
        grad = (Softmax.apply(logits, dim=1) - distribution) * (valid * (g / count)).reshape(-1, 1)
        dx, dw = grad @ weight, grad.transpose(0, 1) @ x
        return (dx, dw) if len(self.parents) == 2 else (dx, dw, grad.sum(0))


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last D features (biased variance).

    With xhat the normalised input and dxhat = g * w:
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
    dw = sum(g * xhat),  db = sum(g).
    """

    def forward(self, x, weight=None, bias=None, features=1, eps=1e-5):
        if weight is not None and weight.dtype != x.dtype:  # mixed precision: compute in the wider
            dtype = np.result_type(x, weight)
            x, weight = x.astype(dtype), weight.astype(dtype)
            bias = None if bias is None else bias.astype(dtype)
        self.x2 = x.reshape(-1, features)
        self.param_shape = None if weight is None else weight.shape
        self.weight = None if weight is None else weight.reshape(-1)
        flat_bias = None if bias is None else bias.reshape(-1)
        self.eps = eps
        y, self.mean, self.rstd = kernels.layer_norm_forward(self.x2, self.weight, flat_bias, eps)
        return y.reshape(x.shape)

    def backward(self, g):
        dx, dw, db = kernels.layer_norm_backward(
            g.reshape(self.x2.shape), self.x2, self.mean, self.rstd, self.weight
        )
        dx = dx.reshape(g.shape)
        if self.weight is None:
            return (dx,)
        return dx, dw.reshape(self.param_shape), db.reshape(self.param_shape)

    def backward_graph(self, g):
        return _layer_norm_graph(self, self.parents[0], self.parents[1:], g)


def _layer_norm_graph(fn, x, params, g):
    """`LayerNorm`'s backward with tensor ops, xhat recomputed from the input tensor ``x``."""
    rows = x.reshape(-1, fn.x2.shape[1])
    mean = rows.mean(1, keepdim=True)
    centered = rows - mean
    rstd = ((centered * centered).mean(1, keepdim=True) + fn.eps) ** -0.5
    xhat = centered * rstd
    g2 = g.reshape(rows.shape)
    dxhat = g2 if not params else g2 * params[0].reshape(-1)
    dx = rstd * (dxhat - dxhat.mean(1, keepdim=True) - xhat * (dxhat * xhat).mean(1, keepdim=True))
    if not params:
        return (dx.reshape(x.shape),)
    dw = (g2 * xhat).sum(0).reshape(fn.param_shape)
    return dx.reshape(x.shape), dw, g2.sum(0).reshape(fn.param_shape)


class AddLayerNorm(LayerNorm):
    """Residual add and layer norm as one node (post-norm's Add & Norm): y = LayerNorm(x + r).

    With z = x + r, both inputs get `LayerNorm`'s dz: dx = dr = dz; dw and db as there.
    """

    def forward(self, x, residual, weight=None, bias=None, features=1, eps=1e-5):
        return super().forward(x + residual, weight, bias, features, eps)

    def backward(self, g):
        dz, *params = super().backward(g)
        return (dz, dz, *params)

    def backward_graph(self, g):
        x, residual, *params = self.parents
        dz, *rest = _layer_norm_graph(self, x + residual, params, g)
        return (dz, dz, *rest)


class Gelu(Function):
    """y = x * Phi(x) with Phi the standard normal CDF (or its tanh approximation);

    exact: dy/dx = Phi(x) + x * phi(x);
    tanh: y = x/2 (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3).
    """

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        return kernels.gelu_forward(x, approximate)

    def backward(self, g):
        return kernels.gelu_backward(self.x, g, self.approximate)

    def backward_graph(self, g):
        x = self.parents[0]
        if self.approximate == "tanh":  # s + 2 x s (1 - s) u'(x), s = sigmoid(2u)
            c = np.sqrt(2 / np.pi)
            s = ((x + x * x * x * 0.044715) * (2 * c)).sigmoid()
            slope = s + x * 2 * s * (1 - s) * ((x * x * (3 * 0.044715) + 1) * c)
        else:  # Phi(x) + x phi(x)
            slope = NormalCdf.apply(x) + x * _normal_pdf(x)
        return g * slope


class NormalCdf(Function):
    """Phi(x), the standard normal CDF (GELU's slope needs it as an op for second derivatives);
    dx = g * phi(x)."""

    def forward(self, x):
        self.x = x
        return (0.5 * _erfc(-x.astype(np.float64) / np.sqrt(2))).astype(x.dtype)

    def backward(self, g):
        return g * (np.exp(-0.5 * self.x * self.x) / np.sqrt(2 * np.pi)).astype(g.dtype)

    def backward_graph(self, g):
        return g * _normal_pdf(self.parents[0])


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _normal_pdf(x):
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi) with tensor ops."""
    return (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))


class Dropout(Function):
    """y = x * keep / (1 - p) with keep ~ Bernoulli(1 - p) (inverted dropout);  dx = g * same."""

    def forward(self, x, p=0.5):
        self.p = p
        y, self.keep = kernels.dropout_forward(x, p)
        return y

    def backward(self, g):
        return kernels.dropout_backward(g, self.keep, self.p)

    def backward_graph(self, g):
        return g * g._wrap(
            kernels.dropout_backward(np.ones_like(self.keep, dtype=g.dtype), self.keep, self.p)
        )


class Embedding(Function):
    """y = weight[ids] (a row lookup);  dweight = rows of g added at ids (none at padding_idx)."""

    def forward(self, weight, ids, padding_idx=None):
        self.ids, self.shape, self.padding_idx = ids, weight.shape, padding_idx
        return weight[ids]

    def backward(self, g):
        rows = g.reshape(-1, self.shape[1])
        grad = kernels.embedding_backward(rows, self.ids.reshape(-1), self.shape[0])
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return grad, None

    def backward_graph(self, g):
        grad = IndexAdd.apply(
            g.reshape(-1, self.shape[1]), shape=self.shape, index=self.ids.reshape(-1)
        )
        if self.padding_idx is not None:
            kept = np.ones((self.shape[0], 1), dtype=g.dtype)
            kept[self.padding_idx] = 0
            grad = grad * g._wrap(kept)
        return grad, None


FEW_ROWS = 32
"""At most this many rows (decoding: one row per sentence), `Linear` computes the product
weight-major, (W x^T)^T: the same numbers, but OpenBLAS runs that order faster for a few rows and
slower for many (benchmarks/bench_linear_order.py)."""


def weight_major_linear(x2, weight, bias=None):
    """W x2^T + b[:, None] for x2 (rows, in): the transpose of x2 W^T + b, of shape (out, rows),
    as BLAS computes it fastest for a few rows (`FEW_ROWS`); the bias add is contiguous."""
    y = kernels.matmul(weight, x2.T)
    if bias is not None:
        kernels.add_row_bias(y, bias.astype(y.dtype, copy=False))
    return y


class Linear(Function):
    """y = x @ W^T + b for x (..., in), W (out, in):  dx = g @ W,  dW = g^T x,  db = sum(g).

    Leading dimensions are flattened into one so each product is a single 2-D BLAS call (taken
    weight-major for a few rows, see `FEW_ROWS`; the result is row-major either way).
    """

    def forward(self, x, weight, bias=None):
        self.x_shape = x.shape
        self.x2 = x.reshape(-1, x.shape[-1])
        self.weight = weight
        if len(self.x2) <= FEW_ROWS:
            y = np.ascontiguousarray(weight_major_linear(self.x2, weight, bias).T)
        else:
            y = kernels.matmul(self.x2, weight.T)
            if bias is not None:
                y += bias
        return y.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, g):
        g2 = g.reshape(-1, g.shape[-1])
        needs = self.needs_input_grad
        dx = kernels.matmul(g2, self.weight).reshape(self.x_shape) if needs[0] else None
        dw = kernels.matmul(g2.T, self.x2) if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        return dx, dw, (g2.sum(axis=0) if needs[2] else None)

    def backward_graph(self, g):
        return self._linear_graph(g)

    def _linear_graph(self, g, x=None):
        """`Linear`'s backward with tensor ops; ``x`` the input as (rows, in) if not the first
        parent."""
        x2 = self.parents[0].reshape(self.x2.shape) if x is None else x
        weight = self.parents[1]
        g2 = g.reshape(-1, g.shape[-1])
        dx = (g2 @ weight).reshape(self.x_shape)
        dw = g2.T @ x2
        return (dx, dw) if len(self.parents) == 2 else (dx, dw, g2.sum(0))


class LinearRelu(Linear):
    """`Linear` and ReLU as one node (the feed-forward's first layer): y = max(x W^T + b, 0).

    The ReLU runs in place on the product's fresh output; the backward zeroes g where y = 0
    (as `Relu`), then is `Linear`'s backward.
    """

    def forward(self, x, weight, bias=None):
        self.y = super().forward(x, weight, bias)
        return np.maximum(self.y, 0, out=self.y)

    def backward(self, g):
        return super().backward(g * (self.y > 0))

    def backward_graph(self, g):
        return self._linear_graph(g * g._wrap((self.y > 0).astype(g.dtype)))


class LinearToHeads(Linear):
    """`Linear` and the split into attention heads as one node, for x (B, L, in):

    y = (x W^T + b).reshape(B, L, H, out / H).transpose(0, 2, 1, 3), shape (B, H, L, out / H).
    The backward undoes the transpose and reshape on g, then is `Linear`'s backward.
    """

    def forward(self, x, weight, bias=None, heads=1):
        y = super().forward(x, weight, bias)
        batch, length, features = y.shape
        return y.reshape(batch, length, heads, features // heads).transpose(0, 2, 1, 3)

    def backward(self, g):
        batch, heads, length, head_dim = g.shape
        return super().backward(g.transpose(0, 2, 1, 3).reshape(batch, length, heads * head_dim))

    def backward_graph(self, g):
        batch, heads, length, head_dim = g.shape
        return self._linear_graph(g.permute(0, 2, 1, 3).reshape(batch, length, heads * head_dim))


class HeadsToLinear(Linear):
    """Merging attention heads and `Linear` as one node, for x (B, H, L, D):

    y = x.transpose(0, 2, 1, 3).reshape(B, L, H * D) W^T + b. The backward is `Linear`'s,
    with dx split back into heads.
    """

    def forward(self, x, weight, bias=None):
        self.heads_shape = x.shape
        batch, heads, length, head_dim = x.shape
        merged = x.transpose(0, 2, 1, 3).reshape(batch, length, heads * head_dim)
        return super().forward(merged, weight, bias)

    def backward(self, g):
        dx, *rest = super().backward(g)
        if dx is not None:
            batch, heads, length, head_dim = self.heads_shape
            dx = dx.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)
        return (dx, *rest)

    def backward_graph(self, g):
        batch, heads, length, head_dim = self.heads_shape
        merged = self.parents[0].permute(0, 2, 1, 3).reshape(batch * length, heads * head_dim)
        dx, *rest = self._linear_graph(g, merged)
        dx = dx.reshape(batch, length, heads, head_dim).permute(0, 2, 1, 3)
        return (dx, *rest)


class AttentionCore(Function):
    """The attention core as one node, for q (..., Lq, D), k (..., Lk, D), v (..., Lk, Dv):

    W = softmax(scale * q k^T + bias) over the keys where ``mask`` is True (fully masked rows
    give W = 0), out = dropout(W) v. With Wd = dropout(W) and G the incoming gradient:
    dv = Wd^T G,  dWd = G v^T,  dW = dropout_backward(dWd),  dS = scale * W * (dW - rowsum(dW W))
    (S = q k^T),  dq = dS k,  dk = dS^T q,  dbias = dS / scale.

    ``weights_out``, a list, receives W (a side output outside the graph, for visualisation).
    """

    def forward(self, q, k, v, bias=None, mask=None, scale=1.0, dropout_p=0.0, weights_out=None):
        self.q, self.k, self.v, self.scale, self.dropout_p = q, k, v, scale, dropout_p
        self.mask = mask
        scores = kernels.matmul(q, k.swapaxes(-1, -2))
        if bias is not None:
            scores = scores + bias * np.asarray(1 / scale, dtype=scores.dtype)
        self.weights = kernels.masked_softmax_forward(scores, scale, mask)
        if weights_out is not None:
            weights_out.append(self.weights)
        self.attended = self.weights
        if dropout_p:
            self.attended, self.keep = kernels.dropout_forward(self.weights, dropout_p)
        return kernels.matmul(self.attended, v)

    def backward(self, g):
        needs = self.needs_input_grad
        grad_v = kernels.matmul(self.attended.swapaxes(-1, -2), g) if needs[2] else None
        grad_weights = kernels.matmul(g, self.v.swapaxes(-1, -2))
        if self.dropout_p:
            grad_weights = kernels.dropout_backward(grad_weights, self.keep, self.dropout_p)
        grad_scores = kernels.softmax_backward(self.weights, grad_weights, self.scale)
        grad_q = kernels.matmul(grad_scores, self.k) if needs[0] else None
        grad_k = kernels.matmul(grad_scores.swapaxes(-1, -2), self.q) if needs[1] else None
        if len(needs) == 3:
            return grad_q, grad_k, grad_v
        grad_bias = None
        if needs[3]:
            grad_bias = unbroadcast(grad_scores / self.scale, self.parents[3].shape)
        return grad_q, grad_k, grad_v, grad_bias

    def backward_graph(self, g):
        q, k, v = self.parents[:3]
        scores = (q @ k.transpose(-1, -2)) * self.scale
        if len(self.parents) == 4:
            scores = scores + self.parents[3]
        if self.mask is not None:
            blocked = np.broadcast_to(~np.asarray(self.mask), scores.shape)
            scores = MaskedFill.apply(scores, g._wrap(blocked), value=-np.inf)
        weights = Softmax.apply(scores, dim=scores.ndim - 1)
        attended = weights
        if self.dropout_p:
            kept = np.ones_like(self.keep, dtype=g.dtype)
            attended = weights * g._wrap(kernels.dropout_backward(kept, self.keep, self.dropout_p))
        grad_v = attended.transpose(-1, -2) @ g
        grad_attended = g @ v.transpose(-1, -2)
        if self.dropout_p:
            grad_attended = grad_attended * g._wrap(
                kernels.dropout_backward(kept, self.keep, self.dropout_p)
            )
        grad_s = weights * (grad_attended - (grad_attended * weights).sum(-1, keepdim=True))
        grad_q = (grad_s @ k) * self.scale
        grad_k = (grad_s.transpose(-1, -2) @ q) * self.scale
        if len(self.parents) == 3:
            return grad_q, grad_k, grad_v
        return grad_q, grad_k, grad_v, unbroadcast_graph(grad_s, self.parents[3].shape)
