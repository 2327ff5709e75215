"""Stateless neural-network functions (``import minigrad.nn.functional as F``), as in PyTorch.

Each is one graph node with a hand-written backward (see `minigrad.ops.neural`). The fused ones
(``linear``, ``linear_relu``, ``linear_to_heads``, ``heads_to_linear``, ``add_layer_norm``,
``attention``) also own their composed version: with fused ops switched off
(`minigrad.fused(False)`) they record the small ops they stand for instead, one by one. Callers
never ask which version runs.
"""

import math
import warnings

import numpy as np

from minigrad import kernels
from minigrad.autograd import is_grad_enabled
from minigrad.fusion import is_fused_enabled
from minigrad.ops import elementwise as E
from minigrad.ops import neural as N
from minigrad.ops.reductions import normalize_dims
from minigrad.tensor import Tensor


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    return x.relu()


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return x * x.sigmoid()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x (slope negative_slope at 0, as PyTorch)."""
    positive = Tensor._wrap(x.data > 0)
    return E.Where.apply(positive, x, x * negative_slope)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian Error Linear Unit x * Phi(x); ``approximate="tanh"`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    return N.Gelu.apply(x, approximate=approximate)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``; fully masked (-inf) rows give zeros."""
    (axis,) = normalize_dims(dim, x.ndim)
    return N.Softmax.apply(x, dim=axis)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed stably."""
    (axis,) = normalize_dims(dim, x.ndim)
    return N.LogSoftmax.apply(x, dim=axis)


def layer_norm(x: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift."""
    features, params = _norm_params("layer_norm", x, normalized_shape, weight, bias)
    return N.LayerNorm.apply(x, *params, features=features, eps=eps)


def add_layer_norm(
    x: Tensor, residual: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5
) -> Tensor:
    """``layer_norm(x + residual)``, post-norm's Add & Norm, as one graph node when fused
    (`minigrad.fused`); x and residual must have the same shape."""
    if x.shape != residual.shape:
        raise ValueError(
            f"add_layer_norm(): x {x.shape} and residual {residual.shape} must have one shape"
        )
    if not is_fused_enabled():
        return layer_norm(x + residual, normalized_shape, weight, bias, eps)
    features, params = _norm_params("add_layer_norm", x, normalized_shape, weight, bias)
    return N.AddLayerNorm.apply(x, residual, *params, features=features, eps=eps)


def _norm_params(name: str, x: Tensor, normalized_shape, weight, bias) -> tuple[int, tuple]:
    """(features normalised together, the (weight, bias) inputs: none, or both filled in)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"{name}(): input of shape {x.shape} does not end with normalized_shape {shape}"
        )
    if weight is None and bias is None:
        return math.prod(shape), ()
    if weight is None:
        weight = Tensor._wrap(np.ones(shape, dtype=x.dtype))
    if bias is None:
        bias = Tensor._wrap(np.zeros(shape, dtype=x.dtype))
    return math.prod(shape), (weight, bias)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) while training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout(): p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    return N.Dropout.apply(x, p=p)


def embedding(ids, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) selected by integer ``ids`` of any shape."""
    ids = ids if isinstance(ids, Tensor) else Tensor(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding(): ids must be integers, got {ids.dtype}")
    n = weight.shape[0]
    if ids.data.size and (ids.data.min() < 0 or ids.data.max() >= n):
        bad = ids.data[(ids.data < 0) | (ids.data >= n)][0]
        raise IndexError(f"embedding(): id {bad} is out of range for {n} embeddings")
    return N.Embedding.apply(weight, ids, padding_idx=padding_idx)


def one_hot(ids, num_classes: int = -1) -> Tensor:
    """(..., num_classes) int64 tensor with a 1 at each id's place and 0 elsewhere, for integer
    ``ids`` of any shape; ``num_classes`` -1 takes the largest id + 1. No gradient (ids are
    not differentiable)."""
    ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if ids.dtype.kind not in "iu" and ids.size:
        raise TypeError(f"one_hot(): ids must be integers, got {ids.dtype}")
    ids = ids.astype(np.int64, copy=False)
    if num_classes == -1:
        num_classes = int(ids.max()) + 1 if ids.size else 0
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        bad = ids[(ids < 0) | (ids >= num_classes)][0]
        raise ValueError(f"one_hot(): id {bad} is out of range for {num_classes} classes")
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[ids])


def normalize(x: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``: unit vectors, and zero vectors stay zero."""
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim`` (broadcast together):
    sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps))."""
    norms = x1.norm(2, dim).clamp(min=eps) * x2.norm(2, dim).clamp(min=eps)
    return (x1 * x2).sum(dim) / norms


def _check_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> None:
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear(): input of shape {x.shape} does not match weight of shape {weight.shape}"
        )
    _check_bias("linear", weight, bias)


def _check_bias(name: str, weight: Tensor, bias: Tensor | None) -> None:
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"{name}(): bias of shape {bias.shape} does not match weight of shape "
            f"{weight.shape}: expected ({weight.shape[0]},)"
        )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight^T + bias, with weight of shape (out_features, in_features)."""
    _check_linear(x, weight, bias)
    if not is_fused_enabled():
        out = x @ weight.T
        return out if bias is None else out + bias
    if bias is None:
        return N.Linear.apply(x, weight)
    return N.Linear.apply(x, weight, bias)


def linear_argmax(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The index of the largest output feature of ``linear(x, weight, bias)``, per row:
    (..., in) -> (...,) int64, without gradient. Greedy decoding's choice of the next token.

    For a few rows the product runs weight-major (as `Linear` does) and the argmax reads that
    transposed layout directly (`kernels.argmax_rows`), instead of first copying a wide
    (rows, vocabulary) result into row-major order. Ties give the first index, as numpy.
    """
    _check_linear(x, weight, bias)
    x2 = x.data.reshape(-1, x.shape[-1])
    b = None if bias is None else bias.data
    if len(x2) <= N.FEW_ROWS:
        ids = kernels.argmax_rows(N.weight_major_linear(x2, weight.data, b).T)
    else:
        scores = kernels.matmul(x2, weight.data.T)
        ids = (scores if b is None else scores + b).argmax(axis=1)
    return Tensor._wrap(ids.reshape(x.shape[:-1]))


def linear_cross_entropy(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    target,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """``cross_entropy(linear(x, weight, bias), target, ignore_index, label_smoothing)`` with
    the mean reduction, for x (N, in): a model's output layer and its loss as one graph node
    when fused (`minigrad.fused`), which computes the gradient of the (N, C) logits in the same
    pass as the loss and never keeps them; else, and under `no_grad` (nothing to differentiate),
    `linear` then `cross_entropy`."""
    _check_linear(x, weight, bias)
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if x.ndim != 2 or target.shape != x.shape[:1]:
        raise ValueError(
            f"linear_cross_entropy(): expected x (N, in) and target (N,), "
            f"got {x.shape} and {target.shape}"
        )
    if not (is_fused_enabled() and is_grad_enabled()):
        return cross_entropy(linear(x, weight, bias), target, ignore_index, label_smoothing)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return N.LinearCrossEntropy.apply(
        *inputs, target=target, ignore_index=ignore_index, label_smoothing=label_smoothing
    )


def linear_relu(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """relu(linear(x, weight, bias)): the feed-forward's first layer, one graph node when fused
    (`minigrad.fused`), else `linear` then `relu`."""
    if not is_fused_enabled():
        return relu(linear(x, weight, bias))
    _check_linear(x, weight, bias)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return N.LinearRelu.apply(*inputs)


def linear_to_heads(x: Tensor, weight: Tensor, bias: Tensor | None, num_heads: int) -> Tensor:
    """Project x (B, L, in) with `linear` and split the result into heads: (B, H, L, out / H).

    One graph node when fused (`minigrad.fused`), else linear, reshape and permute.
    """
    if x.ndim != 3 or weight.shape[0] % num_heads:
        raise ValueError(
            f"linear_to_heads(): need x (batch, length, features) and out_features divisible by "
            f"num_heads={num_heads}, got x {x.shape} and weight {weight.shape}"
        )
    if not is_fused_enabled():
        y = linear(x, weight, bias)
        return y.reshape(*x.shape[:2], num_heads, -1).permute(0, 2, 1, 3)
    _check_linear(x, weight, bias)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return N.LinearToHeads.apply(*inputs, heads=num_heads)


def heads_to_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Merge heads x (B, H, L, D) into (B, L, H * D) and apply `linear`: the inverse layout of
    `linear_to_heads`. One graph node when fused, else permute, reshape and linear."""
    if x.ndim != 4:
        raise ValueError(f"heads_to_linear(): need x (batch, heads, length, dim), got {x.shape}")
    batch, heads, length, head_dim = x.shape
    if not is_fused_enabled():
        return linear(x.permute(0, 2, 1, 3).reshape(batch, length, heads * head_dim), weight, bias)
    if heads * head_dim != weight.shape[1]:
        raise ValueError(
            f"heads_to_linear(): {heads} heads of size {head_dim} do not match weight of shape "
            f"{weight.shape}"
        )
    _check_bias("heads_to_linear", weight, bias)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return N.HeadsToLinear.apply(*inputs)


MASKED_SCORE = -1e9
"""Score the composed `attention` gives blocked pairs. Finite (unlike -inf), so
`minigrad.detect_anomaly` stays usable; exp(-1e9 - max) is exactly 0 in float32 and float64."""


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask=None,
    scale: float | None = None,
    dropout_p: float = 0.0,
    bias: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The attention core: softmax(scale q k^T + bias, masked) v, as one graph node when fused.

    q (..., Lq, D), k (..., Lk, D), v (..., Lk, Dv); ``mask`` a bool array broadcastable to
    (..., Lq, Lk), True = may attend (rows with nothing allowed give zeros); ``scale`` defaults
    to 1/sqrt(D); ``dropout_p`` drops attention weights (pass 0 when not training). Returns
    ``(out, weights)``, the weights before dropout (without gradient when fused). Unlike
    ``torch.nn.functional.scaled_dot_product_attention`` it also returns the weights, which
    visualisation needs.
    """
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    mask = mask.data if isinstance(mask, Tensor) else mask
    if not is_fused_enabled():
        return _composed_attention(q, k, v, mask, scale, dropout_p, bias)
    inputs = (q, k, v) if bias is None else (q, k, v, bias)
    weights = []  # AttentionCore.forward appends W here: a side output, outside the graph
    out = N.AttentionCore.apply(
        *inputs, mask=mask, scale=scale, dropout_p=dropout_p, weights_out=weights
    )
    return out, Tensor._wrap(weights[0])


def _composed_attention(q, k, v, mask, scale, dropout_p, bias) -> tuple[Tensor, Tensor]:
    """`attention` op by op: scores, scale, bias, mask, softmax, dropout, weighted sum."""
    scores = (q @ k.transpose(-2, -1)) * scale
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = scores.masked_fill(~mask, MASKED_SCORE)
    weights = softmax(scores, dim=-1)
    if mask is not None:
        empty = ~mask.any(axis=-1, keepdims=True)
        if empty.any():  # a row of all MASKED_SCORE came out uniform: make it zero
            weights = weights.masked_fill(empty, 0.0)
    attended = dropout(weights, dropout_p) if dropout_p > 0 else weights
    return attended @ v, weights


def _reduce(loss: Tensor, reduction: str, count=None) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / max(count, 1) if count is not None else loss.mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or sum) of squared differences. Shapes that differ are broadcast, with PyTorch's
    warning: (N, 1) against (N,) gives N x N differences, almost always a bug."""
    target_shape = np.shape(target.data if isinstance(target, Tensor) else target)
    if target_shape != input.shape:
        warnings.warn(
            f"mse_loss(): target shape {target_shape} differs from input shape {input.shape}; "
            "they are broadcast together, which is likely not what you want: make them equal",
            UserWarning,
            stacklevel=2,
        )
    diff = input - target
    return _reduce(diff * diff, reduction)


def cross_entropy(
    logits: Tensor,
    target,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy of (N, C) logits against (N,) class indices, PyTorch semantics.

    ``mean`` divides by the number of targets that are not ``ignore_index``. Unlike PyTorch
    (which returns NaN), a batch where every target is ignored gives a loss of 0.
    """
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if logits.ndim != 2 or target.shape != logits.shape[:1]:
        raise ValueError(
            f"cross_entropy(): expected logits (N, C) and target (N,), "
            f"got {logits.shape} and {target.shape}"
        )
    # the kernel checks the targets' dtype and range (IndexError naming the bad target)
    loss = N.CrossEntropy.apply(
        logits, Tensor._wrap(target), ignore_index=ignore_index, label_smoothing=label_smoothing
    )
    return _reduce(loss, reduction, count=int((target != ignore_index).sum()))


def nll_loss(log_probs: Tensor, target, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of (N, C) log-probabilities (`log_softmax`'s output) against (N,)
    class indices: -log_probs[i, target[i]], ``mean`` over the targets that are not
    ``ignore_index`` (0 when all are). ``cross_entropy(x, t)`` is ``nll_loss(log_softmax(x), t)``
    in one node."""
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if log_probs.ndim != 2 or target.shape != log_probs.shape[:1]:
        raise ValueError(
            f"nll_loss(): expected log_probs (N, C) and target (N,), got {log_probs.shape} and "
            f"{target.shape}"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss(): target must hold integer class indices, got {target.dtype}")
    kept = target != ignore_index
    if not np.all((target[kept] >= 0) & (target[kept] < log_probs.shape[1])):
        raise IndexError(
            f"nll_loss(): targets must be integers in [0, {log_probs.shape[1]}) or ignore_index"
        )
    picked = log_probs.gather(1, np.where(kept, target, 0)[:, None])[:, 0]
    return _reduce(-picked.masked_fill(~kept, 0.0), reduction, count=int(kept.sum()))


def binary_cross_entropy_with_logits(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] per element, for logits x and targets
    y in [0, 1] of the same shape, computed from the logits so that it never overflows (see
    `minigrad.ops.neural.BinaryCrossEntropyWithLogits`)."""
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target, logits.dtype))
    if target.shape != logits.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits(): target {target.shape} and logits "
            f"{logits.shape} must have the same shape"
        )
    return _reduce(N.BinaryCrossEntropyWithLogits.apply(logits, target), reduction)
