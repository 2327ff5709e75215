"""Attention: each position gathers information from the positions it finds relevant.

**Scaled dot-product attention** ("Attention Is All You Need", Vaswani et al. 2017, §3.2.1)::

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Every query is compared with every key by a dot product; the softmax turns each query's row of
scores into weights that are non-negative and sum to 1; the output is the weighted average of
the values. Dividing by sqrt(d_k) keeps the scores' variance near 1 whatever the head size, so
the softmax does not saturate into a one-hot with vanishing gradients. A mask (True = may
attend, see `transformer.model.masks`) removes pairs before the softmax.

**Multi-head attention** (§3.2.2)::

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O
    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

h heads of size d_k = d_model / h attend in parallel, each in its own learned subspace: one
head can track the previous word while another links a verb to its subject. All heads' projections
are one (d_model, d_model) matrix each, ``w_q``, ``w_k``, ``w_v``, split into heads by a reshape;
``w_o`` mixes the heads' outputs back. The same module serves self-attention (query = key =
value = the sequence) and encoder-decoder attention (queries from the decoder, keys and values
from the encoder's output, §3.2.3), and optionally applies a relative position scheme
(rope/alibi, see `transformer.model.positional`) and a key/value cache (`transformer.model.cache`).
"""

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor, is_grad_enabled, nn
from minigrad.tensor import broadcast_shape
from transformer.model.cache import AttentionCache
from transformer.model.masks import as_mask, causal_mask
from transformer.model.positional import RelativePosition


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    bias: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """softmax(q k^T / sqrt(d_k) + bias, masked) v, for q (..., q_len, d_k), k (..., k_len, d_k),
    v (..., k_len, d_v). Returns ``(output (..., q_len, d_v), weights (..., q_len, k_len))``.

    ``mask``: bool, broadcastable to the weights' shape, True = may attend. ``is_causal``: also
    block keys after each query (queries are taken to be the *last* q_len of k_len positions, as
    in cached decoding). ``bias``: an additive score bias (ALiBi). Rows with nothing to attend to
    get all-zero weights (and a zero output), never NaN. ``dropout_p`` drops attention weights
    (pass 0 in evaluation); the returned weights are those before dropout.

    The computation itself is `minigrad.nn.functional.attention`: one fused graph node by
    default, every step recorded as its own op under ``minigrad.fused(False)``.
    """
    _check_qkv(q, k, v)
    allowed = _allowed(mask, is_causal, q.shape[:-1] + k.shape[-2:-1])
    return F.attention(q, k, v, allowed, dropout_p=dropout_p, bias=bias)


def _allowed(mask, is_causal: bool, shape: tuple) -> np.ndarray | None:
    """The combined bool mask for scores of ``shape``, or None when every pair is allowed."""
    allowed = None if mask is None else as_mask(mask)
    if allowed is not None and broadcast_shape(allowed.shape, shape) != tuple(shape):
        raise ValueError(
            f"attention mask of shape {allowed.shape} does not broadcast to the scores' "
            f"shape {tuple(shape)} (batch, heads, q_len, k_len)"
        )
    if is_causal and shape[-2] > 1:  # one query (the newest position) may see every key
        causal = causal_mask(shape[-2], shape[-1])
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None and allowed.all():
        return None
    return allowed


def _check_qkv(q: Tensor, k: Tensor, v: Tensor) -> None:
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(
            f"attention: q, k, v need the same number (>= 2) of dimensions, got shapes "
            f"{q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"attention: q (..., q_len, d_k), k (..., k_len, d_k), v (..., k_len, d_v) expected, "
            f"got {q.shape}, {k.shape}, {v.shape}"
        )


class MultiHeadAttention(nn.Module):
    """Multi-head attention (§3.2.2): ``forward(query, key, value, mask=None)`` with inputs
    (batch, length, d_model) returns (batch, q_len, d_model).

    The weights of the last call are kept in ``last_attention`` (numpy, (batch, heads, q_len,
    k_len)) for visualisation. ``position`` (rope or alibi) is for self-attention only.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        position: RelativePosition | None = None,
    ):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.d_model, self.num_heads, self.head_dim = d_model, num_heads, d_model // num_heads
        self.dropout, self.position = dropout, position
        self.w_q = nn.Linear(d_model, d_model, bias=bias)
        self.w_k = nn.Linear(d_model, d_model, bias=bias)
        self.w_v = nn.Linear(d_model, d_model, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)
        self.last_attention: np.ndarray | None = None

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        mask=None,
        is_causal: bool = False,
        cache: AttentionCache | None = None,
    ) -> Tensor:
        """Attend from ``query`` to ``key``/``value``; ``is_causal`` adds the causal mask.

        With a ``cache``, ``key``/``value`` hold only the new positions (self-attention) and
        are appended to the cached ones; a static (cross-attention) cache that is already filled
        ignores them and reuses its keys and values.
        """
        self._check_inputs(query, key, value)
        offset = 0 if cache is None or cache.static else len(cache)
        q, k, v = self._projections(query, key, value, cache)
        if k is None:
            k, v = cache.key, cache.value
        else:
            if self.position is not None:
                k = self.position.rotate(k, offset)
            if cache is not None:
                k, v = cache.update(k, v)
        bias = None
        if self.position is not None:
            q = self.position.rotate(q, offset)
            bias = self.position.bias(q.shape[-2], k.shape[-2], q.dtype)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal, bias)
        self.last_attention = weights.data
        return F.heads_to_linear(out, self.w_o.weight, self.w_o.bias)  # merge heads, then w_o

    def _projections(self, query: Tensor, key: Tensor, value: Tensor, cache) -> tuple:
        """q, k, v split into heads; k and v are None when a filled static cache has them.

        Cached self-attention without gradients (a decoding step) projects q, k and v with one
        product: the three weights stacked, once per cache (weights do not change during a
        decode). Three small products cost about 3% of a decoding step more than one.
        """
        if cache is None or cache.static or not (query is key is value) or is_grad_enabled():
            q = self._project(self.w_q, query)
            if cache is not None and cache.ready:
                return q, None, None
            return q, self._project(self.w_k, key), self._project(self.w_v, value)
        if cache.stacked_projection is None:
            cache.stacked_projection = _stacked(self.w_q, self.w_k, self.w_v)
        weight, bias = cache.stacked_projection
        heads = F.linear_to_heads(query, weight, bias, 3 * self.num_heads).data
        h = self.num_heads
        return tuple(minigrad.from_numpy(heads[:, i * h : (i + 1) * h]) for i in range(3))

    def _project(self, linear: nn.Linear, x: Tensor) -> Tensor:
        """(batch, length, d_model) -> projected and split into (batch, heads, length, head_dim)."""
        return F.linear_to_heads(x, linear.weight, linear.bias, self.num_heads)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x.ndim != 3 or x.shape[-1] != self.d_model:
                raise ValueError(
                    f"MultiHeadAttention: {name} must be (batch, length, {self.d_model}), "
                    f"got {x.shape}"
                )
        if key.shape[:2] != value.shape[:2] or query.shape[0] != key.shape[0]:
            raise ValueError(
                f"MultiHeadAttention: batch sizes or key/value lengths differ: query "
                f"{query.shape}, key {key.shape}, value {value.shape}"
            )

    def extra_repr(self) -> str:
        position = f", position={self.position!r}" if self.position is not None else ""
        return (
            f"d_model={self.d_model}, num_heads={self.num_heads}, dropout={self.dropout}{position}"
        )


def _stacked(*linears: nn.Linear) -> tuple[Tensor, Tensor | None]:
    """(weight, bias) of one Linear that computes the given ones' outputs side by side."""
    weight = np.concatenate([linear.weight.data for linear in linears])
    if linears[0].bias is None:
        return minigrad.from_numpy(weight), None
    bias = np.concatenate([linear.bias.data for linear in linears])
    return minigrad.from_numpy(weight), minigrad.from_numpy(bias)
