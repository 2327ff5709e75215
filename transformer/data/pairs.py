"""Sentence pairs and train/valid/test splits: the common currency of every dataset.

A translation dataset is a list of `Pair(src, tgt)` strings. Every loader in this package, the
generated ones (numbers, copy/reverse/sort) and the file readers alike, returns a `Splits` with
three such lists, so the training loop never needs to know where the data came from. `Splits`
also carries the tokenizer kinds that suit the task (for example words for English numbers and
morphemes for German ones), so a caller can build sensible tokenizers without knowing the task.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple


class DataError(ValueError):
    """Bad input data or dataset options: the message names the file (and line) or the option,
    and what is wrong with it."""


class Pair(NamedTuple):
    """One translation example: a source string and its target string."""

    src: str
    tgt: str


@dataclass
class Splits:
    """The train, valid and test pairs of one dataset.

    `src_tokenizer` and `tgt_tokenizer` name the tokenizer kinds that suit this data (see
    `transformer.data.tokenizers.build_tokenizer`); they are suggestions, not constraints.
    """

    train: list[Pair]
    valid: list[Pair]
    test: list[Pair]
    name: str = ""
    src_tokenizer: str = "word"
    tgt_tokenizer: str = "word"

    def __repr__(self) -> str:
        return (
            f"Splits(name={self.name!r}, train={len(self.train)}, valid={len(self.valid)}, "
            f"test={len(self.test)}, src_tokenizer={self.src_tokenizer!r}, "
            f"tgt_tokenizer={self.tgt_tokenizer!r})"
        )


def holdout_splits(
    pairs: list[Pair], num_valid: int, num_test: int, seed: int = 0, name: str = ""
) -> Splits:
    """Shuffle `pairs` with a fixed seed and hold out the first pairs as test, then valid.

    The same seed always gives the same split. Raises `DataError` if there are not enough pairs
    to leave at least one for training.
    """
    if num_valid < 0 or num_test < 0:
        raise DataError(f"num_valid and num_test must be >= 0, got {num_valid} and {num_test}")
    if num_valid + num_test >= len(pairs):
        raise DataError(
            f"cannot hold out {num_valid} valid + {num_test} test pairs from only {len(pairs)} "
            "pairs: lower num_valid/num_test"
        )
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    test = shuffled[:num_test]
    valid = shuffled[num_test : num_test + num_valid]
    return Splits(train=shuffled[num_test + num_valid :], valid=valid, test=test, name=name)
