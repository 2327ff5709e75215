"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017): the paper's components.

One module per component, in the paper's order, each explaining itself:

- `attention`: scaled dot-product and multi-head attention (§3.2)
- `feedforward`: the position-wise feed-forward network (§3.3)
- `embedding`: scaled token embeddings plus positions (§3.4)
- `positional`: sinusoidal, learned, rotary (RoPE) and ALiBi positions (§3.5)
- `layers`: Add & Norm (post-/pre-norm), encoder and decoder layers and stacks (§3.1)
- `config`: `TransformerConfig`, the settings every layer is built from
- `transformer`: the encoder-decoder `Transformer` and the decoder-only `TransformerLM` (§3)
- `masks`: padding and causal masks (True = may attend)
- `cache`: the key/value cache for O(t)-per-token decoding
"""

from transformer.model.attention import MultiHeadAttention, scaled_dot_product_attention
from transformer.model.cache import KVCache
from transformer.model.config import TransformerConfig
from transformer.model.embedding import Embeddings
from transformer.model.feedforward import FeedForward
from transformer.model.layers import Decoder, DecoderLayer, Encoder, EncoderLayer, add_and_norm
from transformer.model.masks import causal_mask, combine_masks, padding_mask, target_mask
from transformer.model.positional import (
    ALiBi,
    LearnedPositionalEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from transformer.model.transformer import Transformer, TransformerLM

__all__ = [
    "ALiBi", "Decoder", "DecoderLayer", "Embeddings", "Encoder", "EncoderLayer", "FeedForward",
    "KVCache", "LearnedPositionalEmbedding", "MultiHeadAttention", "RotaryEmbedding",
    "SinusoidalPositionalEncoding", "Transformer", "TransformerConfig", "TransformerLM",
    "add_and_norm", "causal_mask", "combine_masks", "padding_mask", "scaled_dot_product_attention",
    "target_mask",
]  # fmt: skip
