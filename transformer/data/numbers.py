"""The default task: translate English number words into German (or French) number words.

    "four hundred and thirty two"  ->  "vierhundertzweiunddreißig"
    "ninety nine"                  ->  "quatre-vingt-dix-neuf"

It is a real translation problem in miniature (reordering, agreement, irregular words, German
compounding) that a small Transformer learns in a couple of CPU minutes, and it is generated
offline with the `num2words` package, so it needs no download.

Which numbers are train, valid or test is decided by a hash of the number itself (see
`transformer.data.sampling`): test numbers never occur in training. The number of digits is
balanced (1 to `max_digits` equally often, as far as short numbers exist), so the model does not
see almost only 6-digit numbers.

The English source is normalized: num2words writes "twelve thousand, three hundred and
forty-five"; we drop the comma and turn the hyphen into a space ("forty five"), so English is
plain space-separated words and the "and" of British usage is kept. Targets are exactly what
num2words writes.
"""

from __future__ import annotations

from functools import lru_cache

from num2words import num2words

from transformer.data.pairs import Pair, Splits
from transformer.data.sampling import sample_split

# Tokenizer kinds that suit each target language (see transformer.data.tokenizers).
_TARGET_TOKENIZER = {"de": "morpheme", "fr": "word"}


@lru_cache(maxsize=200_000)
def english_number(n: int) -> str:
    """English words for `n`, normalized: lowercase, no commas, hyphens as spaces."""
    return num2words(n, lang="en").replace(",", "").replace("-", " ")


@lru_cache(maxsize=200_000)
def number_words(n: int, lang: str) -> str:
    """`n` written out in language `lang` ("de", "fr", ...) exactly as num2words writes it."""
    return num2words(n, lang=lang)


def _number_class_sizes(max_digits: int) -> list[int]:
    """How many numbers have 1, 2, ..., max_digits digits (0 counts as a 1-digit number)."""
    return [10] + [9 * 10 ** (d - 1) for d in range(2, max_digits + 1)]


def _number_item(c: int, i: int) -> str:
    """The i-th number with c + 1 digits, as a decimal string."""
    return str(i if c == 0 else 10**c + i)


def sample_numbers(
    num: int,
    split: str,
    max_digits: int = 6,
    seed: int = 0,
    valid_fraction: float = 0.05,
    test_fraction: float = 0.05,
) -> list[int]:
    """Draw `num` distinct numbers of `split`, with 1..max_digits digits equally often."""
    if not 1 <= max_digits <= 15:
        raise ValueError(f"max_digits must be between 1 and 15, got {max_digits}")
    keys = sample_split(
        num,
        split,
        _number_class_sizes(max_digits),
        _number_item,
        seed=seed,
        valid_fraction=valid_fraction,
        test_fraction=test_fraction,
    )
    return [int(key) for key in keys]


def numbers_dataset(
    lang: str = "de",
    num_train: int = 20_000,
    num_valid: int = 500,
    num_test: int = 1_000,
    max_digits: int = 6,
    seed: int = 0,
    valid_fraction: float = 0.05,
    test_fraction: float = 0.05,
) -> Splits:
    """English number words -> number words in `lang` ("de" or "fr"), split leak-free.

    `valid_fraction`/`test_fraction` are the shares of *all* numbers reserved for valid/test;
    `num_*` are how many examples to draw from each share. The defaults suit about two
    minutes of CPU training. Generating 20k pairs takes a few seconds (num2words is slow).
    """
    if lang not in _TARGET_TOKENIZER:
        raise ValueError(f"lang must be one of {sorted(_TARGET_TOKENIZER)}, got {lang!r}")
    if num_train < 1:
        raise ValueError(f"num_train must be >= 1 (a model needs training pairs), got {num_train}")
    options = dict(
        max_digits=max_digits,
        seed=seed,
        valid_fraction=valid_fraction,
        test_fraction=test_fraction,
    )
    sizes = {"train": num_train, "valid": num_valid, "test": num_test}
    pairs = {
        split: [
            Pair(english_number(n), number_words(n, lang))
            for n in sample_numbers(size, split, **options)
        ]
        for split, size in sizes.items()
    }
    return Splits(
        **pairs,
        name=f"numbers-en-{lang}",
        src_tokenizer="word",
        tgt_tokenizer=_TARGET_TOKENIZER[lang],
    )
