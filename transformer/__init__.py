"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017), built on minigrad.

One module per component, each explaining itself:

- `transformer.attention`: scaled dot-product and multi-head attention (§3.2)
- `transformer.positional`: sinusoidal, learned, rotary (RoPE) and ALiBi positions (§3.5)
- `transformer.feedforward`: the position-wise feed-forward network (§3.3)
- `transformer.layers`: Add & Norm (post-/pre-norm), encoder and decoder layers and stacks (§3.1)
- `transformer.embedding`: scaled token embeddings plus positions (§3.4)
- `transformer.model`: the encoder-decoder `Transformer` and the decoder-only `TransformerLM`
- `transformer.masks`: padding and causal masks (True = may attend)
- `transformer.cache`: the key/value cache for O(t)-per-token decoding
"""

from transformer.attention import MultiHeadAttention, scaled_dot_product_attention
from transformer.cache import KVCache
from transformer.embedding import Embeddings
from transformer.feedforward import FeedForward
from transformer.layers import Decoder, DecoderLayer, Encoder, EncoderLayer, add_and_norm
from transformer.masks import causal_mask, combine_masks, padding_mask, target_mask
from transformer.model import Transformer, TransformerLM
from transformer.positional import (
    ALiBi,
    LearnedPositionalEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)

__all__ = [
    "ALiBi", "Decoder", "DecoderLayer", "Embeddings", "Encoder", "EncoderLayer", "FeedForward",
    "KVCache", "LearnedPositionalEmbedding", "MultiHeadAttention", "RotaryEmbedding",
    "SinusoidalPositionalEncoding", "Transformer", "TransformerLM", "add_and_norm", "causal_mask",
    "combine_masks", "padding_mask", "scaled_dot_product_attention", "target_mask",
]  # fmt: skip
