"""Cutting text into pieces that can be glued back exactly, plus simple text normalization.

Word-level and subword tokenizers first cut a sentence into *pieces*: runs of letters/digits
(`\\w+`) and single punctuation characters. To make decoding exact, a piece that was written
directly after the previous one (no space in between) carries the marker `##` in front, the
convention BERT's WordPiece uses:

    "Hello, world!"  ->  ["Hello", "##,", "world", "##!"]

Decoding puts a space before every token without the marker and glues the others on, so
`join_pieces(split_pieces(s)) == s` for any text whose whitespace is single spaces with none at
the ends (other whitespace is normalized to that). The marker is unambiguous: a word piece never
contains "#", and a punctuation piece is one character, so "##" is never a piece's own text.
Subword tokenizers reuse the same marker for the later parts of a word ("play", "##ing").
"""

from __future__ import annotations

import re

GLUE = "##"
_PIECE = re.compile(r"\w+|[^\w\s]")


def split_pieces(text: str) -> list[str]:
    """Cut `text` into word and punctuation pieces; pieces glued to the previous one get `##`."""
    pieces = []
    previous_end = None
    for match in _PIECE.finditer(text):
        glued = match.start() == previous_end
        pieces.append(GLUE + match.group() if glued else match.group())
        previous_end = match.end()
    return pieces


def is_glued(token: str) -> bool:
    """True if `token` attaches to the previous token without a space."""
    return len(token) > len(GLUE) and token.startswith(GLUE)


def join_pieces(tokens: list[str]) -> str:
    """Inverse of `split_pieces`: glue marked tokens on, put one space before the others."""
    parts = []
    for token in tokens:
        if is_glued(token):
            parts.append(token[len(GLUE) :])
        else:
            if parts:
                parts.append(" ")
            parts.append(token)
    return "".join(parts)


def split_punctuation(text: str) -> str:
    """Put spaces around punctuation and collapse whitespace: "Hi, Tom!" -> "Hi , Tom !"."""
    return " ".join(_PIECE.findall(text))


def normalize(text: str, lowercase: bool = True, punctuation: bool = True) -> str:
    """The Tatoeba-recipe cleanup: optional lowercasing and punctuation splitting.

    Whitespace is always collapsed to single spaces and stripped at the ends.
    """
    if lowercase:
        text = text.lower()
    return split_punctuation(text) if punctuation else " ".join(text.split())
