"""Turning parallel files into train/valid/test splits: the Tatoeba and Multi30k recipes.

The recipe for a small real corpus such as Tatoeba English-German:

1. read the `src<TAB>tgt` pairs (`transformer.data.files.read_tsv`);
2. clean every sentence: lowercase and put spaces around punctuation (`text.normalize`), which
   shrinks the vocabulary a small model must learn;
3. shuffle with a fixed seed and hold out pairs for test and valid (`pairs.holdout_splits`);
4. optionally keep only the first `max_train` training pairs, for a quick run.

Line-aligned corpora come either as one pair of files (`corpus.en`, `corpus.de`: held out as
above) or as a directory with `train.en`/`train.de` and optionally `valid` (or `val`, `dev`) and
`test` files, which are used as given.
"""

from __future__ import annotations

from pathlib import Path

from transformer.data.files import read_aligned, read_tsv
from transformer.data.pairs import DataError, Pair, Splits, holdout_splits
from transformer.data.text import normalize

_VALID_NAMES = ("valid", "val", "dev")


def clean_pairs(pairs: list[Pair], lowercase: bool = True, punctuation: bool = True) -> list[Pair]:
    """Apply `text.normalize` to both sides of every pair."""
    return [
        Pair(normalize(s, lowercase, punctuation), normalize(t, lowercase, punctuation))
        for s, t in pairs
    ]


def _finish(splits: Splits, lowercase: bool, punctuation: bool, max_train: int | None) -> Splits:
    """Clean all splits, cap the training set and suggest subword tokenizers."""
    if max_train is not None and max_train < 1:
        raise DataError(f"max_train must be >= 1 (or None: every pair), got {max_train}")
    train = splits.train if max_train is None else splits.train[:max_train]
    return Splits(
        train=clean_pairs(train, lowercase, punctuation),
        valid=clean_pairs(splits.valid, lowercase, punctuation),
        test=clean_pairs(splits.test, lowercase, punctuation),
        name=splits.name,
        src_tokenizer="bpe",
        tgt_tokenizer="bpe",
    )


def tsv_dataset(
    path: str | Path,
    num_valid: int = 500,
    num_test: int = 1_000,
    seed: int = 0,
    lowercase: bool = True,
    punctuation: bool = True,
    max_train: int | None = None,
    src_column: int = 0,
    tgt_column: int = 1,
) -> Splits:
    """Splits from one tab-separated file, following the Tatoeba recipe above."""
    pairs = read_tsv(path, src_column, tgt_column)
    splits = holdout_splits(pairs, num_valid, num_test, seed, name=Path(path).name)
    return _finish(splits, lowercase, punctuation, max_train)


def aligned_dataset(
    prefix: str | Path,
    src_lang: str = "en",
    tgt_lang: str = "de",
    num_valid: int = 500,
    num_test: int = 1_000,
    seed: int = 0,
    lowercase: bool = True,
    punctuation: bool = True,
    max_train: int | None = None,
) -> Splits:
    """Splits from line-aligned files: `{prefix}.{lang}`, or a directory of `{split}.{lang}`.

    In the directory form, `train` is required; a missing valid or test split is held out from
    train (`num_valid`/`num_test` pairs), present ones are used whole.
    """
    prefix = Path(prefix)
    single = Path(f"{prefix}.{src_lang}")
    if single.is_file():
        pairs = read_aligned(single, f"{prefix}.{tgt_lang}")
        splits = holdout_splits(pairs, num_valid, num_test, seed, name=prefix.name)
        return _finish(splits, lowercase, punctuation, max_train)
    if not (prefix / f"train.{src_lang}").is_file():
        raise DataError(
            f"{prefix}: found neither {single.name} nor {prefix}/train.{src_lang}: expected "
            f"line-aligned files {prefix}.{src_lang} + {prefix}.{tgt_lang} or a directory with "
            f"train.{src_lang} + train.{tgt_lang}"
        )

    def read_split(name: str) -> list[Pair]:
        return read_aligned(prefix / f"{name}.{src_lang}", prefix / f"{name}.{tgt_lang}")

    train = read_split("train")
    valid_name = next((n for n in _VALID_NAMES if (prefix / f"{n}.{src_lang}").is_file()), None)
    has_test = (prefix / f"test.{src_lang}").is_file()
    held = holdout_splits(
        train, 0 if valid_name else num_valid, 0 if has_test else num_test, seed, prefix.name
    )
    splits = Splits(
        train=held.train,
        valid=read_split(valid_name) if valid_name else held.valid,
        test=read_split("test") if has_test else held.test,
        name=prefix.name,
    )
    return _finish(splits, lowercase, punctuation, max_train)
