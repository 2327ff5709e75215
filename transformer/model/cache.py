"""The key/value cache that makes step-by-step decoding cost O(t) per token instead of O(t^2).

An autoregressive decoder generates one token at a time, each step feeding the whole prefix
back in. Without a cache, step t recomputes the keys and values of all t previous positions in
every layer, although they never change: position j's key depends only on tokens <= j (the
causal mask guarantees it). With a cache, each step projects only the *new* token, appends its
key and value to the stored ones, and attends over them: the work per step is O(t).

In encoder-decoder (cross) attention the keys and values come from the encoder output
("memory"), the same at every step: they are computed at the first step and then reused.

Usage (what `transformer.Transformer.decode` and `TransformerLM.forward` accept)::

    cache = KVCache()                         # empty; layers fill it lazily
    memory = model.encode(src, src_mask)
    ys = bos_column                           # (B, 1) int64
    for _ in range(max_len):
        logits = model.decode(memory, ys[:, -1:], src_mask, cache=cache)   # (B, 1, vocab)
        ...                                   # pick next tokens, append them to ys
    # beam search: after choosing which hypotheses survive, keep their caches
    cache.reorder(beam_indices)               # batch rows [i0, i1, ...] -> new batch

``cache.offset`` is the number of target positions already processed; the positional schemes use
it as the absolute position of the next token. Masks given while decoding with a cache cover
the keys seen so far (offset + new tokens). A cache belongs to one batch of sources: start a new
one for new sources. Caches are for inference: use them under ``minigrad.no_grad()``, where a
self-attention's cache also keeps its module's q/k/v weights stacked for one product a step
(``stacked_projection``): the weights must not change while a cache is in use.
"""

import numpy as np

import minigrad
from minigrad import Tensor


class AttentionCache:
    """Keys and values (batch, heads, length, head_dim) of one attention module.

    ``static=False`` (self-attention): `update` appends the new positions.
    ``static=True`` (cross-attention): `update` stores them once; later steps reuse them.

    Appending does not copy the past: keys and values live in buffers with room to spare
    (doubled when full), and ``key``/``value`` are views of their filled part, so a step costs
    the new position's copy rather than the whole prefix's (``cat`` would copy O(t) per step).
    Tensors that need a gradient are concatenated instead, so autograd still sees the append.
    """

    def __init__(self, static: bool = False):
        self.static = static
        self.key: Tensor | None = None
        self.value: Tensor | None = None
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None
        self.stacked_projection: tuple | None = None  # set by MultiHeadAttention: (weight, bias)

    def __len__(self) -> int:
        return 0 if self.key is None else self.key.shape[-2]

    @property
    def ready(self) -> bool:
        """True for a static cache that already holds its keys and values."""
        return self.static and self.key is not None

    def update(self, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Add (static: store) new keys and values; return all of them."""
        if self.key is None or self.static:
            self.key, self.value, self._buffers = key, value, None
        elif key.requires_grad or value.requires_grad:
            self.key = minigrad.cat([self.key, key], dim=-2)
            self.value = minigrad.cat([self.value, value], dim=-2)
            self._buffers = None
        else:
            self._append(key.data, value.data)
        return self.key, self.value

    def _append(self, key: np.ndarray, value: np.ndarray) -> None:
        """Write the new positions after the filled ones, growing the buffers when full."""
        length = len(self)
        end = length + key.shape[-2]
        if self._buffers is None or self._buffers[0].shape[-2] < end:
            self._buffers = tuple(
                _grown(old.data, max(2 * end, 16)) for old in (self.key, self.value)
            )
        for buffer, array in zip(self._buffers, (key, value), strict=True):
            buffer[..., length:end, :] = array
        self.key = minigrad.from_numpy(self._buffers[0][..., :end, :])
        self.value = minigrad.from_numpy(self._buffers[1][..., :end, :])

    def reorder(self, indices: np.ndarray) -> None:
        """Keep batch rows ``indices`` (in that order, repeats allowed)."""
        if self.key is not None:
            self.key, self.value = self.key[indices], self.value[indices]
            self._buffers = None


def _grown(filled: np.ndarray, capacity: int) -> np.ndarray:
    """A buffer of `capacity` positions (axis -2) whose first ones hold `filled`."""
    buffer = np.empty(filled.shape[:-2] + (capacity, filled.shape[-1]), dtype=filled.dtype)
    buffer[..., : filled.shape[-2], :] = filled
    return buffer


class LayerCache:
    """The caches of one decoder layer: ``self_attn`` (growing) and ``cross_attn`` (static)."""

    def __init__(self):
        self.self_attn = AttentionCache()
        self.cross_attn = AttentionCache(static=True)

    def reorder(self, indices: np.ndarray) -> None:
        """Keep batch rows ``indices`` in both caches."""
        self.self_attn.reorder(indices)
        self.cross_attn.reorder(indices)


class KVCache:
    """The key/value caches of a whole decoder stack, one `LayerCache` per layer (made lazily)."""

    def __init__(self):
        self.layers: list[LayerCache] = []

    def layer(self, index: int) -> LayerCache:
        """The cache of layer ``index``, created empty on first use."""
        while len(self.layers) <= index:
            self.layers.append(LayerCache())
        return self.layers[index]

    @property
    def offset(self) -> int:
        """Number of positions already decoded (the absolute position of the next token)."""
        return len(self.layers[0].self_attn) if self.layers else 0

    def reorder(self, indices) -> None:
        """Keep batch rows ``indices`` (e.g. the surviving beams) in every layer, in that order."""
        indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise ValueError(
                f"KVCache.reorder(): indices must be a 1-D integer array, got {indices.dtype} "
                f"of shape {indices.shape}"
            )
        for layer in self.layers:
            layer.reorder(indices)

    def __repr__(self) -> str:
        return f"KVCache(layers={len(self.layers)}, offset={self.offset})"
