"""Attention masks: which positions each query may look at.

A mask is a boolean array broadcastable to the attention scores' shape
(batch, heads, q_len, k_len), with **True = may attend** (PyTorch's
``scaled_dot_product_attention`` convention). Attention sets the scores of blocked pairs to a
large negative number before the softmax, so they get (numerically exactly) zero weight.

Two masks matter in the Transformer ("Attention Is All You Need", Vaswani et al. 2017):

- the **padding mask** (B, 1, 1, S): sentences in a batch are padded to the same length, and no
  query should attend to the padding keys. It broadcasts over heads and queries.
- the **causal mask** (1, 1, T, T), lower-triangular (§3.2.3): in the decoder, position i may
  only attend to positions j <= i, so that predicting token i+1 cannot peek at it ("masking
  out (setting to -inf) all values in the input of the softmax which correspond to illegal
  connections"). The decoder's self-attention applies it by itself (``is_causal=True``).

Masks are plain numpy bool arrays (minigrad bool tensors are accepted wherever a mask is): they
never need gradients, and combining them with ``&`` is cheap.
"""

from functools import lru_cache

import numpy as np

from minigrad import Tensor


def padding_mask(ids, pad_id: int) -> np.ndarray:
    """(B, 1, 1, S) bool: True at real tokens of ``ids`` (B, S), False at ``pad_id``."""
    ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"padding_mask(): expected ids of shape (batch, length), got {ids.shape}")
    return (ids != pad_id)[:, None, None, :]


def causal_mask(length: int, k_len: int | None = None) -> np.ndarray:
    """(1, 1, length, k_len) bool lower-triangular mask: query i may attend to key j <= i.

    ``k_len`` (default ``length``) allows more keys than queries, as in cached decoding where the
    queries are the *last* ``length`` of ``k_len`` positions: query i then sits at absolute
    position ``k_len - length + i`` and may attend to keys up to and including it.
    The returned array is shared and read-only.
    """
    k_len = length if k_len is None else k_len
    if length < 0 or k_len < length:
        raise ValueError(f"causal_mask(): need 0 <= length <= k_len, got {length} and {k_len}")
    return _causal(length, k_len)


@lru_cache(maxsize=64)
def _causal(q_len: int, k_len: int) -> np.ndarray:
    mask = np.tri(q_len, k_len, k_len - q_len, dtype=bool)[None, None]
    mask.setflags(write=False)
    return mask


def combine_masks(*masks):
    """Logical AND of masks that broadcast together (None entries are skipped; all None -> None).

    E.g. ``combine_masks(padding_mask(tgt, pad), causal_mask(T))`` -> (B, 1, T, T).
    """
    arrays = [as_mask(m) for m in masks if m is not None]
    if not arrays:
        return None
    out = arrays[0]
    for mask in arrays[1:]:
        try:
            out = out & mask
        except ValueError:
            raise ValueError(
                f"combine_masks(): masks of shapes {out.shape} and {mask.shape} do not broadcast"
            ) from None
    return out


def target_mask(tgt_ids, pad_id: int) -> np.ndarray:
    """(B, 1, T, T): the decoder's full self-attention mask, causal AND not padding."""
    padding = padding_mask(tgt_ids, pad_id)
    return combine_masks(padding, causal_mask(padding.shape[-1]))


def as_mask(mask) -> np.ndarray:
    """A mask (numpy array or minigrad tensor) as a numpy bool array; anything else is an error."""
    array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype != np.bool_:
        raise TypeError(f"attention masks must be boolean (True = may attend), got {array.dtype}")
    return array
