"""`TransformerConfig`: the settings the model is built from, passed as one object.

Every encoder and decoder layer needs the same handful of settings (width, heads, feed-forward
width, dropout, norm placement, activation). Rather than handing the same seven arguments
through every constructor, the model builds one frozen `TransformerConfig` and each layer reads
what it needs from it, as nanoGPT passes its ``GPTConfig``. The defaults are the paper's base
model (Table 3).
"""

from dataclasses import dataclass

ACTIVATIONS = ("relu", "gelu")


@dataclass(frozen=True)
class TransformerConfig:
    """The architecture's settings (vocabulary sizes and layer counts are the model's own)."""

    d_model: int = 512  # width of every token's vector (the residual stream)
    num_heads: int = 8  # attention heads; d_model must divide evenly among them
    d_ff: int = 2048  # hidden width of the feed-forward network
    dropout: float = 0.1  # on sub-layer outputs, embeddings and attention weights
    norm_first: bool = False  # pre-norm (True) or the paper's post-norm (False)
    activation: str = "relu"  # of the feed-forward network: relu or gelu
    positional: str = "sinusoidal"  # sinusoidal, learned, rope, alibi or none
    tie_embeddings: bool = False  # share the target embedding and the output layer
    max_len: int = 512  # longest sequence the "learned" positions support

    def __post_init__(self):
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model={self.d_model} is not divisible by num_heads={self.num_heads}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose one of {list(ACTIVATIONS)}"
            )

    @property
    def head_dim(self) -> int:
        """d_k = d_v = d_model / num_heads, the size of one head (§3.2.2)."""
        return self.d_model // self.num_heads
