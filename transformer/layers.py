"""Encoder and decoder layers, their stacks, and the "Add & Norm" that wraps every sub-layer.

"Attention Is All You Need" (Vaswani et al. 2017), §3.1: the encoder is a stack of N identical
layers, each a self-attention sub-layer then a feed-forward sub-layer; the decoder layer adds,
in between, an attention over the encoder's output ("memory"), and its self-attention is
causal so that position i only sees positions <= i.

**Add & Norm.** Each sub-layer is wrapped in a residual connection and a layer normalisation.
Two placements exist (``norm_first`` selects):

- **post-norm** (the paper, §3.1): ``LayerNorm(x + Dropout(Sublayer(x)))``. The residual stream
  is re-normalised after every sub-layer. Works well for a few layers with a learning-rate
  warmup, but in deep stacks the gradient reaching early layers must pass through every norm,
  and training becomes unstable without a careful warmup.
- **pre-norm** (Wang et al. 2019; Xiong et al. 2020, "On Layer Normalization in the
  Transformer Architecture"; GPT-2 and most later models): ``x + Dropout(Sublayer(LayerNorm(x)))``,
  plus one final LayerNorm after the stack (the stream itself is never normalised). The identity
  path from output to input is clean, gradients are well-scaled at initialisation, and deep
  models train with little or no warmup; the price is a slightly different (often a bit worse
  for shallow models) final quality.

Dropout on each sub-layer's output is the paper's "residual dropout" (§5.4).
"""

from collections.abc import Callable

import minigrad.nn.functional as F
from minigrad import Tensor, nn
from transformer.attention import MultiHeadAttention
from transformer.cache import KVCache, LayerCache
from transformer.feedforward import FeedForward
from transformer.positional import RelativePosition


def add_and_norm(
    x: Tensor, sublayer: Callable, norm: nn.LayerNorm, dropout: nn.Dropout, norm_first: bool
) -> Tensor:
    """Residual connection with LayerNorm: post-norm ``norm(x + dropout(sublayer(x)))`` or, with
    ``norm_first``, pre-norm ``x + dropout(sublayer(norm(x)))``."""
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    out = dropout(sublayer(x))  # post-norm: norm(x + out), the add and the norm as one F op
    return F.add_layer_norm(x, out, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


class _ResidualLayer(nn.Module):
    """What encoder and decoder layers share: Add & Norm and the feed-forward sub-layer."""

    def _add_feed_forward(
        self, d_model: int, d_ff: int, activation: str, dropout: float, norm_first: bool
    ) -> None:
        self.feed_forward = FeedForward(d_model, d_ff, activation, dropout)
        self.feed_forward_norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def _residual(self, x: Tensor, sublayer: Callable, norm: nn.LayerNorm) -> Tensor:
        return add_and_norm(x, sublayer, norm, self.dropout, self.norm_first)

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        return self._residual(x, self.feed_forward, self.feed_forward_norm)

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"


class EncoderLayer(_ResidualLayer):
    """Self-attention then feed-forward, each wrapped in Add & Norm (§3.1)."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        activation: str = "relu",
        position: RelativePosition | None = None,
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout, position=position)
        self.self_attn_norm = nn.LayerNorm(d_model)
        self._add_feed_forward(d_model, d_ff, activation, dropout, norm_first)

    def forward(self, x: Tensor, mask=None) -> Tensor:
        """(batch, src_len, d_model) -> same shape; ``mask`` is the source padding mask."""
        x = self._residual(x, lambda h: self.self_attn(h, h, h, mask), self.self_attn_norm)
        return self._feed_forward_block(x)


class DecoderLayer(_ResidualLayer):
    """Causal self-attention, cross-attention over the memory, then feed-forward (§3.1).

    ``cross_attention=False`` drops the middle sub-layer: the layer of a decoder-only language
    model (`transformer.TransformerLM`).
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        activation: str = "relu",
        position: RelativePosition | None = None,
        cross_attention: bool = True,
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout, position=position)
        self.self_attn_norm = nn.LayerNorm(d_model)
        if cross_attention:
            self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
            self.cross_attn_norm = nn.LayerNorm(d_model)
        else:
            self.cross_attn = self.cross_attn_norm = None
        self._add_feed_forward(d_model, d_ff, activation, dropout, norm_first)

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        src_mask=None,
        tgt_mask=None,
        cache: LayerCache | None = None,
    ) -> Tensor:
        """(batch, tgt_len, d_model) -> same shape.

        The self-attention is always causal; ``tgt_mask`` may restrict it further (target
        padding). ``src_mask`` masks the memory's padding in cross-attention. With a ``cache``,
        ``x`` holds only the new positions.
        """
        if (memory is None) != (self.cross_attn is None):
            raise ValueError(
                "DecoderLayer: pass memory exactly when the layer has cross-attention (it has "
                f"{'one' if self.cross_attn is not None else 'none'}; memory given: "
                f"{memory is not None})"
            )
        self_cache = cross_cache = None
        if cache is not None:
            self_cache, cross_cache = cache.self_attn, cache.cross_attn
        x = self._residual(
            x,
            lambda h: self.self_attn(h, h, h, tgt_mask, is_causal=True, cache=self_cache),
            self.self_attn_norm,
        )
        if memory is not None:
            x = self._residual(
                x,
                lambda h: self.cross_attn(h, memory, memory, src_mask, cache=cross_cache),
                self.cross_attn_norm,
            )
        return self._feed_forward_block(x)


class Encoder(nn.Module):
    """N encoder layers, plus the final LayerNorm that pre-norm needs (§3.1)."""

    def __init__(
        self,
        num_layers: int,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        activation: str = "relu",
        position: RelativePosition | None = None,
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first, activation, position)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(self, x: Tensor, mask=None) -> Tensor:
        """Embedded source (batch, src_len, d_model) -> memory of the same shape."""
        for layer in self.layers:
            x = layer(x, mask)
        return x if self.norm is None else self.norm(x)


class Decoder(nn.Module):
    """N decoder layers, plus the final LayerNorm that pre-norm needs (§3.1)."""

    def __init__(
        self,
        num_layers: int,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        activation: str = "relu",
        position: RelativePosition | None = None,
        cross_attention: bool = True,
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            DecoderLayer(
                d_model,
                num_heads,
                d_ff,
                dropout,
                norm_first,
                activation,
                position,
                cross_attention,
            )  # fmt: skip
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        src_mask=None,
        tgt_mask=None,
        cache: KVCache | None = None,
    ) -> Tensor:
        """Embedded target (batch, tgt_len, d_model) -> hidden states of the same shape."""
        for i, layer in enumerate(self.layers):
            layer_cache = None if cache is None else cache.layer(i)
            x = layer(x, memory, src_mask, tgt_mask, layer_cache)
        return x if self.norm is None else self.norm(x)
