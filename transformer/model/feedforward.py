"""The position-wise feed-forward network: the per-token "thinking" after attention mixed tokens.

"Attention Is All You Need" (Vaswani et al. 2017), §3.3::

    FFN(x) = max(0, x W_1 + b_1) W_2 + b_2

applied to every position separately and identically (a 1x1 convolution over the sequence).
It expands each d_model vector to d_ff (4 x d_model in the paper: 512 -> 2048), applies a
nonlinearity and contracts back. Attention only takes weighted averages of values; this MLP is
where most of the model's parameters, and much of its per-token computation, sit. GELU
(Hendrycks & Gimpel 2016; BERT, GPT) is a smooth alternative to ReLU. Dropout is applied to
the hidden activations, as in the reference implementations.
"""

import minigrad.nn.functional as F
from minigrad import Tensor, nn

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class FeedForward(nn.Module):
    """w_2(dropout(activation(w_1(x)))): (..., d_model) -> (..., d_model) through d_ff units."""

    def __init__(self, d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}"
            )
        self.activation = activation
        self.w_1 = nn.Linear(d_model, d_ff)
        self.w_2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        if self.activation == "relu":  # w_1 and the ReLU as one node (F.linear_relu)
            hidden = F.linear_relu(x, self.w_1.weight, self.w_1.bias)
        else:
            hidden = ACTIVATIONS[self.activation](self.w_1(x))
        return self.w_2(self.dropout(hidden))

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}"
