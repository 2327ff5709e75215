"""From encoded pairs to padded numpy batches for teacher-forced training.

A model step needs rectangles of ids, but sentences differ in length. For a batch of B pairs:

    src     (B, S)  source ids, padded with <pad> to the longest source S
    tgt_in  (B, T)  <bos> + target      the decoder reads this ...
    tgt_out (B, T)  target + <eos>      ... and must predict this, one position ahead

so position t of `tgt_out` is the token that follows `tgt_in[:, :t+1]` ("teacher forcing").
Padding positions are never real data: the model masks them in attention and the loss skips
them (`num_tgt_tokens` counts the real ones, for averaging the loss).

Padding is wasted work, so batches are *bucketed*: the shuffled data is cut into chunks of
`bucket_size` examples, each chunk is sorted by length, batches are cut from the sorted chunks,
and then the batch order is shuffled. Batches hold either `batch_size` examples or as many as
fit `max_tokens` (B * max(S, T) <= max_tokens), or both limits. The same `seed` and `epoch`
always give the same batches; a new epoch gives a new shuffle.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transformer.data.pairs import Pair
from transformer.data.tokenizers.base import BOS_ID, EOS_ID, PAD_ID, Tokenizer

Example = tuple[list[int], list[int]]


@dataclass
class Batch:
    """One padded batch. Arrays are int64; `indices` are the examples' positions in the data."""

    src: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    src_lengths: np.ndarray
    tgt_lengths: np.ndarray
    indices: np.ndarray
    num_tgt_tokens: int
    pad_id: int = PAD_ID

    def __len__(self) -> int:
        return len(self.src)

    @property
    def src_pad_mask(self) -> np.ndarray:
        """(B, S) bool, True at real source tokens and False at padding."""
        return self.src != self.pad_id

    @property
    def tgt_pad_mask(self) -> np.ndarray:
        """(B, T) bool, True at real `tgt_out` tokens (target + <eos>), False at padding."""
        return self.tgt_out != self.pad_id


def encode_pairs(
    pairs: Sequence[Pair],
    src_tokenizer: Tokenizer,
    tgt_tokenizer: Tokenizer,
    max_len: int | None = None,
) -> list[Example]:
    """Encode pairs to id lists, truncating to `max_len` tokens with one warning.

    With `max_len`, sources keep at most `max_len` ids and targets `max_len - 1`, so `tgt_in`
    and `tgt_out` (which add <bos>/<eos>) are at most `max_len` long. An empty source is an
    error: the encoder would have nothing to attend to.
    """
    if max_len is not None and max_len < 2:
        raise ValueError(f"max_len must be >= 2 (room for a token and <eos>), got {max_len}")
    examples = []
    truncated = 0
    for i, (src, tgt) in enumerate(pairs):
        src_ids, tgt_ids = src_tokenizer.encode(src), tgt_tokenizer.encode(tgt)
        if not src_ids:
            raise ValueError(f"pair {i} has an empty source after tokenization: {src!r}")
        if max_len is not None and (len(src_ids) > max_len or len(tgt_ids) > max_len - 1):
            truncated += 1
            src_ids, tgt_ids = src_ids[:max_len], tgt_ids[: max_len - 1]
        examples.append((src_ids, tgt_ids))
    if truncated:
        warnings.warn(
            f"encode_pairs: truncated {truncated} of {len(examples)} pairs to max_len={max_len}",
            stacklevel=2,
        )
    return examples


def collate(
    examples: Sequence[Example],
    indices: Sequence[int] | None = None,
    *,
    pad_id: int = PAD_ID,
    bos_id: int = BOS_ID,
    eos_id: int = EOS_ID,
) -> Batch:
    """Pad a list of (source ids, target ids) into one `Batch`."""
    if not examples:
        raise ValueError("collate needs at least one example")
    if indices is None:
        indices = range(len(examples))
    src_lengths = np.array([len(s) for s, _ in examples], dtype=np.int64)
    tgt_lengths = np.array([len(t) + 1 for _, t in examples], dtype=np.int64)
    if src_lengths.min() == 0:
        raise ValueError(f"example {indices[int(src_lengths.argmin())]} has an empty source")
    batch_size = len(examples)
    src = np.full((batch_size, src_lengths.max()), pad_id, dtype=np.int64)
    tgt_in = np.full((batch_size, tgt_lengths.max()), pad_id, dtype=np.int64)
    tgt_out = np.full_like(tgt_in, pad_id)
    for row, (s, t) in enumerate(examples):
        src[row, : len(s)] = s
        tgt_in[row, : len(t) + 1] = [bos_id, *t]
        tgt_out[row, : len(t) + 1] = [*t, eos_id]
    return Batch(
        src=src,
        tgt_in=tgt_in,
        tgt_out=tgt_out,
        src_lengths=src_lengths,
        tgt_lengths=tgt_lengths,
        indices=np.asarray(indices, dtype=np.int64),
        num_tgt_tokens=int(tgt_lengths.sum()),
        pad_id=pad_id,
    )


def _group(order: np.ndarray, widths: np.ndarray, batch_size: int | None, max_tokens: int | None):
    """Cut `order` into consecutive groups within the size and token limits."""
    groups, current, width = [], [], 0
    for i in order:
        w = int(widths[i])
        full = batch_size is not None and len(current) == batch_size
        over = max_tokens is not None and (len(current) + 1) * max(width, w) > max_tokens
        if current and (full or over):
            groups.append(current)
            current, width = [], 0
        current.append(int(i))
        width = max(width, w)
    if current:
        groups.append(current)
    return groups


def make_batches(
    examples: Sequence[Example],
    batch_size: int | None = None,
    max_tokens: int | None = None,
    *,
    shuffle: bool = True,
    bucket_size: int | None = 1024,
    seed: int = 0,
    epoch: int = 0,
    pad_id: int = PAD_ID,
    bos_id: int = BOS_ID,
    eos_id: int = EOS_ID,
) -> list[Batch]:
    """All batches of one epoch: shuffled (seed + epoch), length-bucketed, within the limits.

    Give `batch_size` (examples per batch), `max_tokens` (B * max(S, T) per batch) or both.
    `bucket_size=None` turns bucketing off; `shuffle=False` keeps data order (up to bucketing),
    e.g. for evaluation. Every example lands in exactly one batch.
    """
    if batch_size is None and max_tokens is None:
        raise ValueError("give batch_size, max_tokens, or both")
    for name, value in (("batch_size", batch_size), ("max_tokens", max_tokens)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if bucket_size is not None and bucket_size < 1:
        raise ValueError(f"bucket_size must be >= 1 or None, got {bucket_size}")
    src_lengths = np.array([len(s) for s, _ in examples], dtype=np.int64)
    tgt_lengths = np.array([len(t) + 1 for _, t in examples], dtype=np.int64)
    widths = np.maximum(src_lengths, tgt_lengths)
    if max_tokens is not None and len(widths) and widths.max() > max_tokens:
        i = int(widths.argmax())
        raise ValueError(
            f"example {i} is {widths[i]} tokens long, more than max_tokens={max_tokens}: "
            "raise max_tokens or truncate with encode_pairs(max_len=...)"
        )
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(examples)) if shuffle else np.arange(len(examples))
    if bucket_size is not None:
        chunks = [order[i : i + bucket_size] for i in range(0, len(order), bucket_size)]
        # lexsort sorts by the last key first; it is stable, so ties keep the shuffled order
        order = np.concatenate(
            [c[np.lexsort((tgt_lengths[c], src_lengths[c], widths[c]))] for c in chunks] or [order]
        )
    groups = _group(order, widths, batch_size, max_tokens)
    if shuffle:
        groups = [groups[i] for i in rng.permutation(len(groups))]
    return [
        collate([examples[i] for i in group], group, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)
        for group in groups
    ]
