"""Byte-pair encoding (BPE): subword tokens learned from the training text (Sennrich et al. 2016).

Words are too many (every rare word is <unk>) and characters too small (sequences get long).
BPE sits between: it starts from characters and repeatedly *merges the most frequent adjacent
pair* into a new token, until the vocabulary has the requested size. Frequent words end up as
one token, rare words as a few pieces ("un ##believ ##able"), and any word made of known
characters can still be written.

Training here:
1. cut each text into pieces with `text.split_pieces` (words and punctuation marks) and count
   the distinct pieces;
2. write each piece as characters, the later ones marked `##` ("low" -> `l ##o ##w`), so the
   same marker that glues punctuation also glues subwords when decoding;
3. count adjacent symbol pairs (weighted by piece frequency), merge the most frequent pair
   everywhere, record the merge, update only the counts of pieces that contained the pair;
   stop at `vocab_size` tokens or when no pair occurs twice.

Encoding a piece replays the merges in the order they were learned. Merges never cross piece
boundaries, so punctuation stays separate. Characters never seen in training become <unk> (no
byte-level fallback: not needed for our corpora).

We write our own (one short file) instead of depending on a tokenizer library: the
project keeps its dependencies to numpy, numba and a few small tools, and BPE is worth reading.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise

from transformer.data.text import GLUE, is_glued, join_pieces, split_pieces
from transformer.data.tokenizers.base import Tokenizer, check_texts, vocab_from_counts

Symbols = tuple[str, ...]
_CACHE_LIMIT = 100_000


def piece_symbols(piece: str) -> Symbols:
    """A piece as BPE's starting symbols: characters, all but the first marked `##`."""
    glued = is_glued(piece)
    text = piece[len(GLUE) :] if glued else piece
    first = GLUE + text[0] if glued else text[0]
    return (first, *(GLUE + c for c in text[1:]))


def merged_token(left: str, right: str) -> str:
    """The token made by merging `left` with `right` (whose `##` marker disappears)."""
    return left + right[len(GLUE) :]


def apply_merge(symbols: Symbols, pair: tuple[str, str], token: str) -> Symbols:
    """Replace every occurrence of `pair` in `symbols`, left to right, by `token`."""
    out = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(token)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def learn_merges(piece_counts: Counter, vocab_size: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Learn BPE merges from piece frequencies; returns (vocabulary, merges in order)."""
    words = [piece_symbols(piece) for piece in piece_counts]
    freqs = list(piece_counts.values())
    alphabet = Counter()
    for symbols, freq in zip(words, freqs, strict=True):
        for symbol in symbols:
            alphabet[symbol] += freq
    tokens = vocab_from_counts(alphabet)
    known = set(tokens)

    pair_counts: Counter = Counter()
    where: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for w, symbols in enumerate(words):
        for pair in pairwise(symbols):
            pair_counts[pair] += freqs[w]
            where[pair].add(w)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    merges = []
    while len(tokens) < vocab_size and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:
            continue  # a stale heap entry: this pair's count changed since it was pushed
        if -negative < 2:
            break  # a pair seen once is not a pattern worth a token
        token = merged_token(*pair)
        merges.append(pair)
        if token not in known:
            known.add(token)
            tokens.append(token)
        changed = set()
        for w in where.pop(pair):
            old, freq = words[w], freqs[w]
            new = apply_merge(old, pair, token)
            words[w] = new
            for p in pairwise(old):
                pair_counts[p] -= freq
                where[p].discard(w)
                changed.add(p)
            for p in pairwise(new):
                pair_counts[p] += freq
                where[p].add(w)
                changed.add(p)
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                del pair_counts[p]
    return tokens, merges


class BPETokenizer(Tokenizer):
    """Subword tokenizer with merges learned by byte-pair encoding."""

    kind = "bpe"

    def __init__(
        self,
        tokens: Sequence[str],
        merges: Iterable[Sequence[str]] = (),
        lowercase: bool = False,
    ):
        super().__init__(tokens)
        self.merges = [tuple(m) for m in merges]
        for pair in self.merges:
            if len(pair) != 2 or merged_token(*pair) not in self.token_to_id:
                raise ValueError(f"merge {pair} does not produce a token of the vocabulary")
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.lowercase = bool(lowercase)
        self._cache: dict[str, Symbols] = {}

    @classmethod
    def build(
        cls, texts: Iterable[str], vocab_size: int = 1000, lowercase: bool = False
    ) -> BPETokenizer:
        """Learn merges from `texts` until the vocabulary (specials included) has `vocab_size`.

        The alphabet (every character seen) is always kept, even if it alone exceeds
        `vocab_size`; then no merges are learned.
        """
        counts = Counter()
        for text in check_texts(texts):
            counts.update(split_pieces(text.lower() if lowercase else text))
        tokens, merges = learn_merges(counts, vocab_size)
        return cls(tokens, merges, lowercase)

    def options(self) -> dict:
        """Saved with the vocabulary: the merges in order and the lowercasing flag."""
        return {"merges": [list(pair) for pair in self.merges], "lowercase": self.lowercase}

    def encode_piece(self, piece: str) -> Symbols:
        """Subword tokens of one piece: apply the learned merges, lowest rank first."""
        if piece in self._cache:
            return self._cache[piece]
        symbols = piece_symbols(piece)
        while len(symbols) > 1:
            pair = min(pairwise(symbols), key=lambda p: self.ranks.get(p, len(self.ranks)))
            if pair not in self.ranks:
                break
            symbols = apply_merge(symbols, pair, merged_token(*pair))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[piece] = symbols
        return symbols

    def tokenize(self, text: str) -> list[str]:
        """Subword tokens of every piece of `text`."""
        pieces = split_pieces(text.lower() if self.lowercase else text)
        return [token for piece in pieces for token in self.encode_piece(piece)]

    def detokenize(self, tokens: list[str]) -> str:
        """Glue `##` subwords and punctuation to their predecessor, space the rest."""
        return join_pieces(tokens)
