"""Word-level tokenizers: one token per word or punctuation mark, and German number morphemes.

`WordTokenizer` cuts text into words and punctuation with `transformer.data.text.split_pieces`,
so "Hello, world!" becomes `Hello ##, world ##!` and decodes back exactly. Words rarer than
`min_freq` (or beyond `max_size`) become <unk>, which keeps the embedding table small.

`MorphemeTokenizer` additionally cuts German number words into their building blocks
(`transformer.data.german`): "vierhundertzweiunddreißig" becomes
`vier ##hundert ##zwei ##und ##dreißig`, and the `##` markers glue them back into one word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from transformer.data.german import split_number_word
from transformer.data.text import GLUE, is_glued, join_pieces, split_pieces
from transformer.data.tokenizers.base import Tokenizer, check_texts, vocab_from_counts


class WordTokenizer(Tokenizer):
    """Words and punctuation marks as tokens; optional lowercasing."""

    kind = "word"

    def __init__(self, tokens: list[str], lowercase: bool = False):
        super().__init__(tokens)
        self.lowercase = bool(lowercase)

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> WordTokenizer:
        """Vocabulary of the words in `texts` seen `min_freq` times, at most `max_size` tokens."""
        counts = Counter()
        for text in check_texts(texts):
            counts.update(cls._pieces(text.lower() if lowercase else text))
        return cls(vocab_from_counts(counts, min_freq, max_size), lowercase)

    @staticmethod
    def _pieces(text: str) -> list[str]:
        """Cut already-lowercased text into token strings."""
        return split_pieces(text)

    def options(self) -> dict:
        """Saved with the vocabulary: whether text is lowercased first."""
        return {"lowercase": self.lowercase}

    def tokenize(self, text: str) -> list[str]:
        """Words and punctuation, `##`-marked where glued to the previous one."""
        return self._pieces(text.lower() if self.lowercase else text)

    def detokenize(self, tokens: list[str]) -> str:
        """Join with spaces, gluing `##` tokens to their predecessor."""
        return join_pieces(tokens)


class MorphemeTokenizer(WordTokenizer):
    """A word tokenizer that also cuts German number words into morphemes."""

    kind = "morpheme"

    @staticmethod
    def _pieces(text: str) -> list[str]:
        """Word pieces, with German number words replaced by their `##`-joined morphemes."""
        pieces = []
        for piece in split_pieces(text):
            glued = is_glued(piece)
            word = piece[len(GLUE) :] if glued else piece
            morphemes = split_number_word(word)
            if morphemes is None or len(morphemes) < 2:
                pieces.append(piece)
                continue
            pieces.append(GLUE + morphemes[0] if glued else morphemes[0])
            pieces.extend(GLUE + m for m in morphemes[1:])
        return pieces
