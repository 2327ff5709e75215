"""What every tokenizer shares: special tokens, ids, decoding rules and JSON serialization.

A tokenizer turns text into a list of integer ids (the rows of the embedding table) and back.
Each concrete tokenizer only says how to cut text into token strings (`tokenize`) and how to
glue token strings back into text (`detokenize`); this base class maps tokens to ids.

The first four ids are the same in every vocabulary:

    0 <pad>  fills the short sequences of a batch (ignored by the loss)
    1 <bos>  "begin of sentence": the first decoder input
    2 <eos>  "end of sentence": the model says it is done
    3 <unk>  anything not in the vocabulary

Tokenizers are saved as JSON (never pickle: a JSON file cannot run code when loaded) and
`to_dict()` gives the same content so a checkpoint can embed its tokenizers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


def vocab_from_counts(counts: Counter, min_freq: int = 1, max_size: int | None = None) -> list[str]:
    """Specials, then tokens seen at least `min_freq` times, most frequent first.

    Ties are broken alphabetically so the same data always gives the same ids. `max_size`
    caps the whole vocabulary, specials included.
    """
    if min_freq < 1:
        raise ValueError(f"min_freq must be >= 1, got {min_freq}")
    if max_size is not None and max_size < len(SPECIALS):
        raise ValueError(f"max_size must be >= {len(SPECIALS)} (the specials), got {max_size}")
    ranked = sorted(
        (t for t, c in counts.items() if c >= min_freq and t not in SPECIALS),
        key=lambda t: (-counts[t], t),
    )
    if max_size is not None:
        ranked = ranked[: max_size - len(SPECIALS)]
    return [*SPECIALS, *ranked]


def check_texts(texts: Iterable[str]) -> Iterable[str]:
    """Yield `texts`, raising a clear TypeError for anything that is not a string."""
    if isinstance(texts, str):
        raise TypeError("build() expects an iterable of strings, not a single string")
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"build() expects strings, got {type(text).__name__}: {text!r}")
        yield text


class Tokenizer:
    """Base class: token <-> id mapping, specials, `encode`/`decode`, JSON save/load.

    Subclasses set `kind`, implement `tokenize`/`detokenize`, and list the constructor options
    they need saved in `options()`.
    """

    kind: ClassVar[str] = ""
    pad_id: ClassVar[int] = PAD_ID
    bos_id: ClassVar[int] = BOS_ID
    eos_id: ClassVar[int] = EOS_ID
    unk_id: ClassVar[int] = UNK_ID

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {SPECIALS}, got {tokens[:4]}")
        if len(set(tokens)) != len(tokens):
            duplicates = sorted(t for t, c in Counter(tokens).items() if c > 1)
            raise ValueError(f"vocabulary has duplicate tokens: {duplicates[:10]}")
        self.tokens = tokens
        self.token_to_id = {t: i for i, t in enumerate(tokens)}

    @property
    def vocab_size(self) -> int:
        """Number of ids, specials included: the size of the embedding table."""
        return len(self.tokens)

    def tokenize(self, text: str) -> list[str]:
        """Cut `text` into token strings (may include strings not in the vocabulary)."""
        raise NotImplementedError

    def detokenize(self, tokens: list[str]) -> str:
        """Glue token strings back into text."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """Constructor keyword arguments (besides `tokens`) that `to_dict` must save."""
        return {}

    def encode(self, text: str) -> list[int]:
        """Ids of the tokens of `text`; unknown tokens become `unk_id`. No <bos>/<eos> added."""
        if not isinstance(text, str):
            raise TypeError(f"encode() expects a string, got {type(text).__name__}")
        lookup = self.token_to_id.get
        return [lookup(token, UNK_ID) for token in self.tokenize(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """Text for `ids`: stops at the first <eos>, skips <pad> and <bos>, shows <unk> as "<unk>".

        Accepts a list or a 1-D numpy array, so a model's output row can be decoded directly.
        """
        tokens = []
        for value in ids:
            i = int(value)
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"id {i} is outside the vocabulary (size {self.vocab_size})")
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                tokens.append(self.tokens[i])
        return self.detokenize(tokens)

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this tokenizer, as JSON-ready data."""
        return {"kind": self.kind, "tokens": list(self.tokens), **self.options()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        """Rebuild a tokenizer of this class from `to_dict()` output."""
        if data.get("kind") != cls.kind:
            raise ValueError(
                f"{cls.__name__}.from_dict expects kind {cls.kind!r}, got {data.get('kind')!r} "
                "(use tokenizer_from_dict to rebuild any kind)"
            )
        if "tokens" not in data:
            raise ValueError(f"{cls.__name__}.from_dict: missing 'tokens'")
        options = {k: v for k, v in data.items() if k not in ("kind", "tokens")}
        try:
            return cls(data["tokens"], **options)
        except TypeError as error:
            raise ValueError(f"{cls.__name__}.from_dict: bad options {sorted(options)}") from error

    def save(self, path: str | Path) -> None:
        """Write `to_dict()` as UTF-8 JSON to `path`."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        Path(path).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        """Read a tokenizer of this class saved with `save` (any kind: `load_tokenizer`)."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"
