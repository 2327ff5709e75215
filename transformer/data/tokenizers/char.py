"""Character-level tokenizer: every character is a token.

The simplest possible tokenizer: it never meets an unknown *word*, and decoding is exact.
The price is long sequences (every letter is a step for the decoder), which makes attention
slower and learning harder; it suits the copy/reverse/sort tasks, where symbols are characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from transformer.data.tokenizers.base import Tokenizer, check_texts, vocab_from_counts


class CharTokenizer(Tokenizer):
    """One token per character; characters unseen in training become <unk>."""

    kind = "char"

    @classmethod
    def build(
        cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None
    ) -> CharTokenizer:
        """Vocabulary of the characters in `texts` (seen `min_freq` times, at most `max_size`)."""
        counts = Counter()
        for text in check_texts(texts):
            counts.update(text)
        return cls(vocab_from_counts(counts, min_freq, max_size))

    def tokenize(self, text: str) -> list[str]:
        """The characters of `text`."""
        return list(text)

    def detokenize(self, tokens: list[str]) -> str:
        """The characters joined back together."""
        return "".join(tokens)
