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
from transformer.model.attention import MultiHeadAttention
from transformer.model.cache import KVCache, LayerCache
from transformer.model.config import TransformerConfig
from transformer.model.feedforward import FeedForward
from transformer.model.positional import RelativePosition


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

    def _add_feed_forward(self, config: TransformerConfig) -> None:
        self.feed_forward = FeedForward(
            config.d_model, config.d_ff, config.activation, config.dropout
        )
        self.feed_forward_norm = nn.LayerNorm(config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.norm_first = config.norm_first

    def _residual(self, x: Tensor, sublayer: Callable, norm: nn.LayerNorm) -> Tensor:
        return add_and_norm(x, sublayer, norm, self.dropout, self.norm_first)

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        return self._residual(x, self.feed_forward, self.feed_forward_norm)

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"


def _attention(config: TransformerConfig, position: RelativePosition | None = None):
    """A multi-head attention sub-layer with its LayerNorm, as the config says."""
    attention = MultiHeadAttention(
        config.d_model, config.num_heads, config.dropout, position=position
    )
    return attention, nn.LayerNorm(config.d_model)


class EncoderLayer(_ResidualLayer):
    """Self-attention then feed-forward, each wrapped in Add & Norm (§3.1)."""

    def __init__(self, config: TransformerConfig, position: RelativePosition | None = None):
        super().__init__()
        self.self_attn, self.self_attn_norm = _attention(config, position)
        self._add_feed_forward(config)

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
        config: TransformerConfig,
        position: RelativePosition | None = None,
        cross_attention: bool = True,
    ):
        super().__init__()
        self.self_attn, self.self_attn_norm = _attention(config, position)
        self.cross_attn = self.cross_attn_norm = None
        if cross_attention:
            self.cross_attn, self.cross_attn_norm = _attention(config)
        self._add_feed_forward(config)

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
        self, config: TransformerConfig, num_layers: int, position: RelativePosition | None = None
    ):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(config, position) for _ in range(num_layers))
        self.norm = nn.LayerNorm(config.d_model) if config.norm_first else None

    def forward(self, x: Tensor, mask=None) -> Tensor:
        """Embedded source (batch, src_len, d_model) -> memory of the same shape."""
        for layer in self.layers:
            x = layer(x, mask)
        return x if self.norm is None else self.norm(x)


class Decoder(nn.Module):
    """N decoder layers, plus the final LayerNorm that pre-norm needs (§3.1)."""

    def __init__(
        self,
        config: TransformerConfig,
        num_layers: int,
        position: RelativePosition | None = None,
        cross_attention: bool = True,
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            DecoderLayer(config, position, cross_attention) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(config.d_model) if config.norm_first else None

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
