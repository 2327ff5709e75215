"""Input embeddings: from token ids to the vectors the layers work on.

"Attention Is All You Need" (Vaswani et al. 2017), §3.4: a learned embedding turns each token
id into a d_model vector, "and in the embedding layers, we multiply those weights by
sqrt(d_model)". The weights are initialised N(0, 1/d_model), so the scaled embedding has
components of unit variance, the same scale as the sinusoidal position table it is added to
(§3.5). Dropout is applied to the sum (§5.4).

The output layer (the paper's pre-softmax linear transformation) may share its weight matrix
with the target embedding ("weight tying", §3.4; Press & Wolf 2017): fewer parameters, and
tokens that are used alike get similar input and output vectors.
"""

import math

import numpy as np

from minigrad import Tensor, nn
from transformer.model.config import TransformerConfig
from transformer.model.positional import absolute_positional


class Embeddings(nn.Module):
    """ids (batch, length) int -> dropout(token(ids) * sqrt(d_model) + position), (batch,
    length, d_model). ``config.positional`` names the scheme; only the absolute ones (sinusoidal,
    learned) act here, rope and alibi act inside self-attention."""

    def __init__(self, vocab_size: int, config: TransformerConfig):
        super().__init__()
        self.d_model = d = config.d_model
        self.token = nn.Embedding(vocab_size, d)
        nn.init.normal_(self.token.weight, std=d**-0.5)
        self.position = absolute_positional(config.positional, d, config.max_len)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, ids, offset: int = 0) -> Tensor:
        """Embed ``ids`` whose first column sits at absolute position ``offset``."""
        array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if array.ndim != 2 or array.dtype.kind not in "iu":
            raise ValueError(
                f"expected token ids as an integer array (batch, length), got {array.dtype} "
                f"of shape {array.shape}"
            )
        x = self.token(array) * math.sqrt(self.d_model)
        if self.position is not None:
            x = self.position(x, offset)
        return self.dropout(x)
