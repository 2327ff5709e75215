"""Turning a trained model into translations: greedy decoding and beam search.

A Transformer scores the *next* target token given the source and the target prefix. Decoding
builds the output one token at a time from `<bos>` until `<eos>` (or a length limit):

* **Greedy**: always take the most likely next token. Fast, and for a well-trained model on an
  easy task (the numbers) as good as anything.
* **Beam search**: keep the `beam_size` best partial translations (by summed log-probability),
  extend each by every token, keep the best `beam_size` of those, and set hypotheses that end in
  `<eos>` aside. Among the finished ones the best by *length-normalized* score wins: summed
  log-probabilities always prefer short outputs, so the score is divided by the GNMT length
  penalty ((5 + length) / 6) ** alpha (Wu et al. 2016, eq. 14); alpha = 0 compares raw sums.
  A sentence is done when no live beam can still beat its best finished hypothesis: log-probs
  are <= 0, so a beam's sum only falls, and the best penalized score it can still reach is
  its sum divided by the penalty at the shortest or the longest length left (whichever is
  better for that alpha). So stopping early returns what running every beam to the length
  limit would. `beam_size=1` is greedy decoding.

Both work on a whole batch of sentences at once and use the decoder's key/value cache
(`transformer.model.cache.KVCache`), so step t costs O(t) instead of recomputing the prefix:
each step feeds only the newest token. Sentences (greedy) or beams (beam search) that are done
are dropped from the batch by `KVCache.reorder`, which also regroups the surviving beams.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor
from transformer.data.tokenizers.base import BOS_ID, EOS_ID, PAD_ID
from transformer.model.cache import KVCache
from transformer.model.masks import padding_mask


def pad_sources(sources: Sequence[Sequence[int]], pad_id: int = PAD_ID) -> np.ndarray:
    """(B, S) int64 array of id lists padded with `pad_id` on the right."""
    if not sources:
        raise ValueError("nothing to decode: the list of sources is empty")
    width = max(len(s) for s in sources)
    if width == 0:
        raise ValueError("every source is empty: give at least one token per sentence")
    src = np.full((len(sources), width), pad_id, dtype=np.int64)
    for row, ids in enumerate(sources):
        if not len(ids):
            raise ValueError(f"source {row} is empty: give at least one token per sentence")
        src[row, : len(ids)] = ids
    return src


def default_max_len(src: np.ndarray, model_max_len: int, pad_id: int = PAD_ID) -> int:
    """Generation limit: 2 * longest source + 10 tokens, capped by the model's positions."""
    longest = int((src != pad_id).sum(axis=1).max())
    return max(1, min(model_max_len, 2 * longest + 10))


def _next_logits(model, memory, src_mask, tokens: np.ndarray, cache: KVCache) -> np.ndarray:
    """(rows, vocab) scores of the next token after `tokens` (rows,), one cached step."""
    return model.decode(memory, Tensor(tokens[:, None]), src_mask, cache=cache).data[:, -1, :]


def _next_greedy(model, memory, src_mask, tokens: np.ndarray, cache: KVCache) -> np.ndarray:
    """(rows,) the most likely next token after `tokens`, one cached step: the generator's
    argmax (`F.linear_argmax`), without writing out the (rows, vocab) scores row by row."""
    states = model.decoder_states(memory, Tensor(tokens[:, None]), src_mask, cache=cache)
    return F.linear_argmax(states, model.generator.weight, model.generator.bias).data[:, -1]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-probabilities in float64 (beam scores add many of them)."""
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _check_src(src) -> np.ndarray:
    """A (B, S) int64 array of source ids, or a clear error."""
    src = np.asarray(src)
    if src.ndim != 2 or src.dtype.kind not in "iu":
        raise ValueError(
            f"expected a (batch, length) integer array of source ids, got {src.dtype} of shape "
            f"{src.shape}"
        )
    return src.astype(np.int64, copy=False)


def _encode(model, src: np.ndarray, pad_id: int):
    """Run the encoder once: (memory, src_mask) for a padded (B, S) source batch."""
    src_mask = padding_mask(src, pad_id)
    return model.encode(Tensor(src), src_mask), src_mask


def _outputs(tokens: list[list[int]]) -> list[list[int]]:
    """Strip the trailing <eos> from each generated sequence."""
    return [t[:-1] if t and t[-1] == EOS_ID else t for t in tokens]


def greedy_decode(
    model,
    src: np.ndarray,
    max_len: int | None = None,
    *,
    pad_id: int = PAD_ID,
    bos_id: int = BOS_ID,
    eos_id: int = EOS_ID,
) -> list[list[int]]:
    """Most likely token at every step, for a (B, S) batch; returns B id lists without <eos>.

    Each sentence stops at its first <eos> or after `max_len` tokens (default: see
    `default_max_len`). Finished sentences leave the batch, so a long straggler does not keep
    the others computing.
    """
    src = _check_src(src)
    max_len = _generation_limit(model, src, max_len, pad_id)
    was_training = model.training
    model.eval()
    try:
        with minigrad.no_grad():
            memory, src_mask = _encode(model, src, pad_id)
            cache = KVCache()
            rows = np.arange(len(src))  # sentence of each row still in the batch
            generated = np.empty((len(src), max_len), dtype=np.int64)
            lengths = np.zeros(len(src), dtype=np.intp)  # tokens generated per sentence
            tokens = np.full(len(src), bos_id, dtype=np.int64)
            for step in range(max_len):
                choice = _next_greedy(model, memory, src_mask, tokens, cache)
                generated[rows, step] = choice
                lengths[rows] = step + 1
                alive = choice != eos_id
                if not alive.any():
                    break
                if not alive.all():
                    keep = np.flatnonzero(alive)
                    cache.reorder(keep)
                    rows, memory, src_mask = rows[keep], memory[keep], src_mask[keep]
                tokens = choice[alive]
    finally:
        model.train(was_training)
    return _outputs([ids[:n].tolist() for ids, n in zip(generated, lengths, strict=True)])


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ((5 + length) / 6) ** alpha; scores are divided by it."""
    return ((5.0 + length) / 6.0) ** alpha


@dataclass
class _Beams:
    """The live beams of the sentences still being decoded, `beam_size` rows per sentence."""

    sentences: np.ndarray  # (n,) index of each live sentence in the batch
    scores: np.ndarray  # (n, k) summed log-probabilities
    tokens: list[list[int]]  # (n * k) token lists, row-major


@dataclass
class _Best:
    """The best finished hypothesis of every sentence so far, by length-penalized score."""

    scores: np.ndarray  # (B,) penalized scores, -inf while a sentence has none
    tokens: list[list[int]]  # (B) their tokens

    def offer(self, sentence: int, score: float, tokens: list[int]) -> None:
        """Keep `tokens` if they beat the sentence's best (ties: the earlier one stays)."""
        if score > self.scores[sentence]:
            self.scores[sentence], self.tokens[sentence] = score, tokens


def beam_search(
    model,
    src: np.ndarray,
    beam_size: int = 4,
    max_len: int | None = None,
    alpha: float = 0.6,
    *,
    pad_id: int = PAD_ID,
    bos_id: int = BOS_ID,
    eos_id: int = EOS_ID,
) -> list[list[int]]:
    """Beam search over a (B, S) batch; returns the best B id lists (without <eos>).

    `alpha` is the length-penalty exponent (0: no normalization; larger favours longer output).
    The result is the finished hypothesis with the best length-penalized score; at `max_len`
    the live beams count as finished. A sentence stops as soon as no live beam can beat its best
    finished hypothesis any more (see `_best_reachable`), which returns what running every beam
    to `max_len` would. `beam_size=1` is `greedy_decode` (a one-wide beam would otherwise go on
    with the runner-up after the best token is <eos>).
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if beam_size == 1:
        return greedy_decode(model, src, max_len, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)
    src = _check_src(src)
    max_len = _generation_limit(model, src, max_len, pad_id)
    k = beam_size
    batch = len(src)
    best = _Best(np.full(batch, -np.inf), [[] for _ in range(batch)])
    was_training = model.training
    model.eval()
    try:
        with minigrad.no_grad():
            memory, src_mask = _encode(model, src, pad_id)
            rows = np.repeat(np.arange(batch), k)
            memory, src_mask = memory[rows], src_mask[rows]
            cache = KVCache()
            scores = np.full((batch, k), -np.inf)
            scores[:, 0] = 0.0  # all beams start identical: only the first one may expand
            beams = _Beams(np.arange(batch), scores, [[] for _ in rows])
            last = np.full(len(rows), bos_id, dtype=np.int64)
            for step in range(1, max_len + 1):
                log_probs = _log_softmax(_next_logits(model, memory, src_mask, last, cache))
                keep, last = _advance(beams, log_probs, k, step, max_len, alpha, eos_id, best)
                if not len(keep):
                    break
                cache.reorder(keep)
                memory, src_mask = memory[keep], src_mask[keep]
    finally:
        model.train(was_training)
    penalty = length_penalty(max_len, alpha)
    for i, sentence in enumerate(beams.sentences):  # reached max_len: the live beams compete
        for j in range(k):
            best.offer(sentence, beams.scores[i, j] / penalty, beams.tokens[i * k + j])
    return _outputs(best.tokens)


def _best_reachable(scores: np.ndarray, step: int, max_len: int, alpha: float) -> np.ndarray:
    """The best length-penalized score that beams with summed log-probs `scores` (after `step`
    tokens) can still finish with: an upper bound, the stopping test of `beam_search`.

    Log-probs are <= 0, so a sum never rises; the beam ends with between step + 1 (its next
    token <eos>) and max_len tokens. sum / penalty(length) is monotonic in the length, so the
    best is at one end: the longest for alpha > 0 (a larger penalty shrinks a negative sum),
    the shortest for alpha < 0, either for alpha = 0.
    """
    shortest = min(step + 1, max_len)
    return np.maximum(
        scores / length_penalty(shortest, alpha), scores / length_penalty(max_len, alpha)
    )


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Column indices of the `n` largest scores of each row, best first (ties: lower index).

    `argpartition` finds them in linear time; only those n are then sorted.
    """
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    part.sort(axis=1)  # equal scores keep index order under the stable sort below
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _advance(beams: _Beams, log_probs, k, step, max_len, alpha, eos_id, best: _Best):
    """One beam step in place: extend, offer finished hypotheses to `best`, keep the best k
    live ones, and drop the sentences whose live beams cannot beat their best finished one.

    Returns the cache rows to keep (parent row of each new beam, done sentences dropped) and
    the new last tokens.
    """
    n, vocab = len(beams.sentences), log_probs.shape[1]
    candidates = (beams.scores[:, :, None] + log_probs.reshape(n, k, vocab)).reshape(n, k * vocab)
    # 2k candidates always hold >= k that do not end in <eos> (each beam has one <eos> candidate)
    top = _top(candidates, 2 * k)
    top_scores = np.take_along_axis(candidates, top, axis=1)
    parent, token = top // vocab, top % vocab
    is_eos = token == eos_id
    penalty = length_penalty(step, alpha)
    for i, rank in zip(*np.nonzero(is_eos[:, :k]), strict=True):  # <eos> among the best k
        tokens = [*beams.tokens[i * k + parent[i, rank]], eos_id]
        best.offer(beams.sentences[i], top_scores[i, rank] / penalty, tokens)
    live_rank = np.cumsum(~is_eos, axis=1) - 1
    chosen = ~is_eos & (live_rank < k)  # exactly k per sentence
    new_parent = parent[chosen].reshape(n, k)
    new_token = token[chosen].reshape(n, k)
    new_scores = top_scores[chosen].reshape(n, k)
    reachable = _best_reachable(new_scores.max(axis=1), step, max_len, alpha)
    live = np.flatnonzero(reachable > best.scores[beams.sentences])
    rows = (live[:, None] * k + new_parent[live]).reshape(-1)
    beams.tokens = [
        [*beams.tokens[r], int(t)] for r, t in zip(rows, new_token[live].reshape(-1), strict=True)
    ]
    beams.sentences, beams.scores = beams.sentences[live], new_scores[live]
    return rows, new_token[live].reshape(-1)


def decode_in_batches(
    model,
    sources: Sequence[Sequence[int]],
    *,
    beam_size: int = 1,
    alpha: float = 0.6,
    max_len: int | None = None,
    batch_size: int = 128,
    pad_id: int = PAD_ID,
) -> list[list[int]]:
    """Decode many id lists: sorted by length into batches, results in the input order.

    `beam_size=1` uses `greedy_decode`, larger sizes `beam_search` (with `batch_size // beam_size`
    sentences per batch, so a batch holds about `batch_size` rows either way).
    """
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    per_batch = max(1, batch_size // beam_size)
    results: list[list[int]] = [[] for _ in sources]
    for start in range(0, len(order), per_batch):
        chunk = order[start : start + per_batch]
        src = pad_sources([sources[i] for i in chunk], pad_id)
        if beam_size == 1:
            outputs = greedy_decode(model, src, max_len, pad_id=pad_id)
        else:
            outputs = beam_search(model, src, beam_size, max_len, alpha, pad_id=pad_id)
        for i, ids in zip(chunk, outputs, strict=True):
            results[i] = ids
    return results


def translate(
    model,
    src_tokenizer,
    tgt_tokenizer,
    sentences: Sequence[str],
    *,
    beam_size: int = 1,
    alpha: float = 0.6,
    max_len: int | None = None,
    batch_size: int = 128,
    warn_unknown: bool = True,
) -> list[str]:
    """Translate sentences (text in, text out), keeping their order.

    An empty (or all-space) sentence translates to "" with a warning, so that line-by-line
    output stays aligned with the input. A sentence with more tokens than the model's maximum
    length (its ``config["max_len"]``) is truncated to that length with a warning naming it:
    the model never saw longer inputs. `max_len` limits the length of the translations
    (default: `default_max_len`). Words the source tokenizer does not know are read as <unk>,
    with a warning naming them unless ``warn_unknown=False`` (evaluation on real corpora, where
    rare words are expected).
    """
    limit = _model_max_len(model)
    sources, empty, truncated, unknown = [], [], [], {}
    for i, sentence in enumerate(sentences):
        if not isinstance(sentence, str):
            raise TypeError(f"sentence {i} is a {type(sentence).__name__}, not a string")
        ids = src_tokenizer.encode(sentence) if sentence.strip() else []
        if not ids:
            empty.append(i)
        elif len(ids) > limit:
            truncated.append(i)
            ids = ids[:limit]
        if warn_unknown and src_tokenizer.unk_id in ids:
            unknown[i] = _unknown_tokens(src_tokenizer, sentence)
        sources.append(ids)
    if empty:
        _warn_lines(empty, "empty, translated as an empty line")
    if truncated:
        _warn_lines(truncated, f"longer than {limit} tokens, truncated to fit the model")
    if unknown:
        words = sorted({word for found in unknown.values() for word in found})
        shown = ", ".join(repr(w) for w in words[:8]) + (", ..." if len(words) > 8 else "")
        _warn_lines(list(unknown), f"with tokens the model never saw ({shown}), read as <unk>")
    todo = [i for i, ids in enumerate(sources) if ids]
    outputs = decode_in_batches(
        model,
        [sources[i] for i in todo],
        beam_size=beam_size,
        alpha=alpha,
        max_len=max_len,
        batch_size=batch_size,
    ) if todo else []  # fmt: skip
    texts = [""] * len(sources)
    for i, ids in zip(todo, outputs, strict=True):
        texts[i] = tgt_tokenizer.decode(ids)
    return texts


def _model_max_len(model) -> int:
    """The longest sequence the model was built for (``config["max_len"]``, else 512)."""
    return int(getattr(model, "config", {}).get("max_len", 512))


def _generation_limit(model, src: np.ndarray, max_len: int | None, pad_id: int) -> int:
    """`max_len`, or `default_max_len` when None; refused past the positions a model with
    learned positions has (any other scheme extends to any length)."""
    limit = _model_max_len(model)
    if max_len is None:
        return default_max_len(src, limit, pad_id)
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if max_len > limit and getattr(model, "config", {}).get("positional") == "learned":
        raise ValueError(
            f"max_len {max_len} is longer than the {limit} positions this model learned "
            f"(positional='learned', max_len={limit}): give at most {limit}"
        )
    return max_len


def _unknown_tokens(tokenizer, sentence: str) -> list[str]:
    """The tokens of ``sentence`` that are not in the tokenizer's vocabulary."""
    return [t for t in tokenizer.tokenize(sentence) if t not in tokenizer.token_to_id]


def _warn_lines(indices: list[int], what: str) -> None:
    """One warning naming the (1-based) input lines concerned."""
    shown = ", ".join(str(i + 1) for i in indices[:5]) + (", ..." if len(indices) > 5 else "")
    warnings.warn(f"{len(indices)} input sentence(s) {what} (line {shown})", stacklevel=3)
