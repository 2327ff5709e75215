"""Building and restoring tokenizers by name: `build_tokenizer("bpe", texts, vocab_size=800)`.

The training loop names tokenizer kinds in its config (and `Splits` suggests kinds per
dataset); checkpoints store `to_dict()` output and rebuild with `tokenizer_from_dict`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from transformer.data.tokenizers.base import Tokenizer
from transformer.data.tokenizers.bpe import BPETokenizer
from transformer.data.tokenizers.char import CharTokenizer
from transformer.data.tokenizers.word import MorphemeTokenizer, WordTokenizer

TOKENIZERS: dict[str, type[Tokenizer]] = {
    cls.kind: cls for cls in (CharTokenizer, WordTokenizer, MorphemeTokenizer, BPETokenizer)
}


def _tokenizer_class(kind: Any) -> type[Tokenizer]:
    """The class for `kind`, or a ValueError listing the kinds that exist."""
    if kind not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer kind {kind!r}: expected one of {sorted(TOKENIZERS)}")
    return TOKENIZERS[kind]


def build_tokenizer(kind: str, texts: Iterable[str], **options: Any) -> Tokenizer:
    """Train a tokenizer of `kind` ("char", "word", "morpheme", "bpe") on `texts`.

    `options` go to that class's `build` (for example `min_freq`, `max_size`, `lowercase`,
    `vocab_size`).
    """
    return _tokenizer_class(kind).build(texts, **options)


def tokenizer_from_dict(data: dict[str, Any]) -> Tokenizer:
    """Rebuild any tokenizer from its `to_dict()` output (the kind is stored inside)."""
    if not isinstance(data, dict):
        raise ValueError(f"a tokenizer dict is expected, got {type(data).__name__}")
    return _tokenizer_class(data.get("kind")).from_dict(data)


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Read any tokenizer saved with `Tokenizer.save`."""
    return tokenizer_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
