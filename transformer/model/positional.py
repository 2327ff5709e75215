"""Positional information: telling a permutation-blind model where each token is.

Attention treats its input as a *set*: permute the tokens and the outputs are permuted the same
way. Word order matters in language, so position must be injected somewhere ("Attention Is All
You Need", Vaswani et al. 2017, §3.5). Four schemes are selectable by name (``positional=`` in
`transformer.Transformer`), and a fifth, ``"none"``, exists to demonstrate the problem:

- ``"sinusoidal"`` (the paper, §3.5): add a fixed table to the embeddings,
  PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).
  Each dimension pair is a clock of its own frequency; PE(pos + k) is a linear function
  (a rotation) of PE(pos), so relative offsets are easy to read off. No parameters, any length.
  A sound default.
- ``"learned"`` (§3.5 reports "nearly identical results"; BERT, GPT-2): a trainable
  embedding per position, added to the token embeddings. Flexible, but limited to ``max_len``
  positions and unable to generalise to lengths it never saw.
- ``"rope"``, rotary position embedding (Su et al. 2021, "RoFormer"): inside self-attention,
  rotate each query and key, dimension pair by dimension pair, by an angle proportional to its
  position. Then q_m . k_n depends on the positions only through m - n: attention sees
  *relative* positions, with no extra parameters. The choice of most modern language models.
- ``"alibi"``, attention with linear biases (Press et al. 2022, "Train Short, Test Long"): add
  -m_h * |i - j| to the attention score of query i and key j, with a fixed slope m_h per head.
  Nearby tokens are favoured, each head with its own reach; extrapolates well to sequences
  longer than those seen in training.
- ``"none"``: no positional information; the encoder is then exactly permutation-equivariant.

The absolute schemes (sinusoidal, learned) are modules added to the scaled token embeddings
(`absolute_positional`). The relative schemes (rope, alibi) are `RelativePosition` objects that
the model hands to every *self*-attention (`relative_positional`): cross-attention relates two
different sequences, which share no positions. Every scheme takes an ``offset``, the absolute
position of the first token, so cached step-by-step decoding sees the same positions as a full
forward pass.
"""

import math

import numpy as np

from minigrad import Tensor, nn

SCHEMES = ("sinusoidal", "learned", "rope", "alibi", "none")


def check_scheme(name: str) -> str:
    """Return ``name`` if it is a known positional scheme, else raise a ValueError listing them."""
    if name not in SCHEMES:
        raise ValueError(f"unknown positional scheme {name!r}; choose one of {SCHEMES}")
    return name


def sinusoid_table(length: int, d_model: int) -> np.ndarray:
    """(length, d_model) float64: sin on even dimensions, cos on odd ones (§3.5)."""
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    table = np.zeros((length, d_model))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency[: d_model // 2])
    return table


class _GrowingTable:
    """A table ``make(n)`` covering positions 0..n-1 (along every axis that counts positions),
    kept per dtype and regrown (doubling) when a later position is asked for."""

    def __init__(self, make):
        self.make, self.tables = make, {}

    def rows(self, start: int, stop: int, dtype) -> np.ndarray:
        table = self.tables.get(np.dtype(dtype))
        if table is None or len(table) < stop:
            table = self.make(max(stop, 2 * len(table) if table is not None else 64))
            table = table.astype(dtype)
            self.tables[np.dtype(dtype)] = table
        return table[start:stop]


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoid table to (batch, length, d_model) inputs (§3.5); no parameters."""

    def __init__(self, d_model: int):
        super().__init__()
        self.d_model = d_model
        self._table = _GrowingTable(lambda n: sinusoid_table(n, d_model))

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        return x + Tensor(self._table.rows(offset, offset + x.shape[1], x.dtype))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}"


class LearnedPositionalEmbedding(nn.Module):
    """Adds a trainable vector per position (``weight``: (max_len, d_model)) to the inputs."""

    def __init__(self, d_model: int, max_len: int):
        super().__init__()
        self.max_len = max_len
        self.weight = nn.Parameter(np.zeros((max_len, d_model), dtype=np.float32))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        stop = offset + x.shape[1]
        if stop > self.max_len:
            raise ValueError(
                f"learned positions: position {stop - 1} is beyond max_len={self.max_len} "
                "(build the model with a larger max_len)"
            )
        return x + self.weight[offset:stop]

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.weight.shape[1]}"


class RelativePosition:
    """A position scheme that acts inside self-attention (the base class does nothing).

    ``rotate(x, offset)`` transforms queries or keys (batch, heads, length, head_dim) whose first
    row sits at absolute position ``offset``; ``bias(q_len, k_len, dtype)`` returns an additive
    score bias (1, heads, q_len, k_len) for queries at the last ``q_len`` of ``k_len`` positions,
    or None.
    """

    def rotate(self, x: Tensor, offset: int) -> Tensor:
        return x

    def bias(self, q_len: int, k_len: int, dtype) -> Tensor | None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RotaryEmbedding(RelativePosition):
    """RoPE: rotate dimension pairs (i, i + head_dim/2) of queries and keys by pos * theta_i.

    With theta_i = base^(-2i/head_dim), the rotation is
    x' = x * cos(pos theta) + rotate_half(x) * sin(pos theta),  rotate_half([a, b]) = [-b, a],
    and since rotations compose, (R_m q) . (R_n k) = q . R_(n-m) k: scores see only n - m.
    ``rotate_half`` is a fixed signed permutation, applied as one matrix product.
    """

    def __init__(self, head_dim: int, base: float = 10000.0):
        if head_dim % 2:
            raise ValueError(f"rope needs an even head dimension, got {head_dim}")
        self.head_dim, self.base = head_dim, base
        half = head_dim // 2
        self.theta = base ** (-np.arange(half) / half)
        self.swap = np.zeros((head_dim, head_dim))  # x @ swap == rotate_half(x)
        self.swap[np.arange(half) + half, np.arange(half)] = -1.0
        self.swap[np.arange(half), np.arange(half) + half] = 1.0
        self._cos = _GrowingTable(lambda n: np.tile(np.cos(self._angles(n)), 2))
        self._sin = _GrowingTable(lambda n: np.tile(np.sin(self._angles(n)), 2))

    def _angles(self, length: int) -> np.ndarray:
        return np.arange(length)[:, None] * self.theta[None, :]

    def rotate(self, x: Tensor, offset: int) -> Tensor:
        stop = offset + x.shape[-2]
        cos = Tensor(self._cos.rows(offset, stop, x.dtype))
        sin = Tensor(self._sin.rows(offset, stop, x.dtype))
        return x * cos + (x @ Tensor(self.swap.astype(x.dtype))) * sin

    def __repr__(self) -> str:
        return f"RotaryEmbedding(head_dim={self.head_dim}, base={self.base:g})"


def alibi_slopes(num_heads: int) -> np.ndarray:
    """The geometric head slopes of ALiBi: 2^(-8/n), 2^(-16/n), ... for n a power of two;
    otherwise those of the nearest lower power of two plus every other slope of the next."""

    def geometric(n):
        return 2.0 ** (-8.0 * np.arange(1, n + 1) / n)

    lower = 2 ** int(math.floor(math.log2(num_heads)))
    if lower == num_heads:
        return geometric(num_heads)
    return np.concatenate([geometric(lower), geometric(2 * lower)[0::2][: num_heads - lower]])


class ALiBi(RelativePosition):
    """ALiBi: add -m_h * |i - j| to the score of query position i and key position j in head h.

    For a causal decoder only j <= i remain, which is the original -m_h (i - j); the absolute
    value makes the same bias symmetric for the (bidirectional) encoder.
    """

    def __init__(self, num_heads: int):
        self.num_heads = num_heads
        self.slopes = alibi_slopes(num_heads)
        self._table = _GrowingTable(self._penalties)  # rows: query i, then heads, keys j

    def _penalties(self, n: int) -> np.ndarray:
        distance = np.abs(np.arange(n)[:, None, None] - np.arange(n)[None, None, :])
        return -self.slopes[None, :, None] * distance

    def bias(self, q_len: int, k_len: int, dtype) -> Tensor:
        rows = self._table.rows(k_len - q_len, k_len, dtype)[:, :, :k_len]
        return Tensor(rows.transpose(1, 0, 2)[None])

    def __repr__(self) -> str:
        return f"ALiBi(num_heads={self.num_heads})"


def absolute_positional(name: str, d_model: int, max_len: int) -> nn.Module | None:
    """The module that adds positions to the embeddings for ``name``, or None (rope/alibi/none)."""
    if check_scheme(name) == "sinusoidal":
        return SinusoidalPositionalEncoding(d_model)
    if name == "learned":
        return LearnedPositionalEmbedding(d_model, max_len)
    return None


def relative_positional(name: str, head_dim: int, num_heads: int) -> RelativePosition | None:
    """The scheme applied inside self-attention for ``name``, or None (sinusoidal/learned/none)."""
    if check_scheme(name) == "rope":
        return RotaryEmbedding(head_dim)
    if name == "alibi":
        return ALiBi(num_heads)
    return None


__all__ = [
    "ALiBi", "LearnedPositionalEmbedding", "RelativePosition", "RotaryEmbedding", "SCHEMES",
    "SinusoidalPositionalEncoding", "absolute_positional", "alibi_slopes", "check_scheme",
    "relative_positional", "sinusoid_table",
]  # fmt: skip
