"""Algorithmic toy tasks: copy, reverse and sort a random string of symbols.

    copy     "31415"  ->  "31415"
    reverse  "31415"  ->  "51413"
    sort     "31415"  ->  "11345"

These are the first test of any sequence-to-sequence model (The Annotated Transformer starts
with copy): the answer is known exactly, nothing is ambiguous, and a model that cannot learn to
copy has a bug. Reverse needs attention to look far away; sort needs it to count.

Each symbol is one character of `symbols`, so the character tokenizer suits these tasks.
Lengths are balanced between `min_len` and `max_len`, and a sequence's split is decided by a
hash of the sequence itself (see `transformer.data.sampling`): test inputs never occur in
training.
"""

from __future__ import annotations

from transformer.data.pairs import Pair, Splits
from transformer.data.sampling import sample_split

TASKS = ("copy", "reverse", "sort")


def task_target(task: str, source: str, symbols: str) -> str:
    """The answer to `task` for `source`; "sort" orders by position in `symbols`."""
    if task == "copy":
        return source
    if task == "reverse":
        return source[::-1]
    return "".join(sorted(source, key=symbols.index))


def task_dataset(
    task: str = "copy",
    num_train: int = 10_000,
    num_valid: int = 500,
    num_test: int = 1_000,
    min_len: int = 1,
    max_len: int = 10,
    symbols: str = "0123456789",
    seed: int = 0,
    valid_fraction: float = 0.05,
    test_fraction: float = 0.05,
) -> Splits:
    """Random symbol strings paired with their copy, reversal or sorted version.

    `symbols` is the alphabet (one character per symbol, no repeats); lengths run from
    `min_len` to `max_len` inclusive. For "sort", the order is the order of characters in
    `symbols`.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if num_train < 1:
        raise ValueError(f"num_train must be >= 1 (a model needs training pairs), got {num_train}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got min_len={min_len} max_len={max_len}")
    if len(symbols) < 2 or len(set(symbols)) != len(symbols):
        raise ValueError(f"symbols must hold at least 2 distinct characters, got {symbols!r}")
    base = len(symbols)

    def item(c: int, i: int) -> str:
        """Sequence number i among all sequences of length min_len + c (base-`base` digits)."""
        chars = []
        for _ in range(min_len + c):
            i, digit = divmod(i, base)
            chars.append(symbols[digit])
        return "".join(chars)

    sizes = [base**length for length in range(min_len, max_len + 1)]
    options = dict(seed=seed, valid_fraction=valid_fraction, test_fraction=test_fraction)
    pairs = {
        split: [
            Pair(s, task_target(task, s, symbols))
            for s in sample_split(num, split, sizes, item, **options)
        ]
        for split, num in (("train", num_train), ("valid", num_valid), ("test", num_test))
    }
    return Splits(**pairs, name=task, src_tokenizer="char", tgt_tokenizer="char")
