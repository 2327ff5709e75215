"""Deterministic, leak-free sampling for the generated datasets (numbers, copy/reverse/sort).

Two ideas keep generated test sets honest:

1. **The split of an item is a function of the item.** `split_of(key)` hashes the item's text
   with SHA-1 (stable across runs and machines, unlike Python's `hash()`) to a number in [0, 1)
   and cuts that interval into test / valid / train. So a test number can never appear in
   training, whatever the seed or the dataset sizes.
2. **Lengths are balanced.** Items are grouped into length classes (number of digits, sequence
   length). Each class gets an equal share of the examples; a class with fewer distinct items
   than its share (there are only ten 1-digit numbers) gives all it has and the rest is shared
   among the longer classes. No item appears twice in a split.

The seed only decides *which* items of each class are drawn and their order.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence

SPLITS = ("train", "valid", "test")

# Classes with at most this many items are enumerated exactly; bigger ones are sampled by
# rejection, and a split may then take at most half the items expected in it (so rejection stays
# fast and the request surely exists).
_ENUMERATE_LIMIT = 50_000


def stable_fraction(key: str) -> float:
    """Map `key` to a number in [0, 1) via SHA-1: the same on every machine and run."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(key: str, valid_fraction: float, test_fraction: float) -> str:
    """The split ("train", "valid" or "test") that item `key` belongs to.

    Items hashing below `test_fraction` are test, the next `valid_fraction` are valid, the rest
    train.
    """
    f = stable_fraction(key)
    if f < test_fraction:
        return "test"
    if f < test_fraction + valid_fraction:
        return "valid"
    return "train"


def sample_split(
    num: int,
    split: str,
    class_sizes: Sequence[int],
    item: Callable[[int, int], str],
    *,
    seed: int,
    valid_fraction: float,
    test_fraction: float,
) -> list[str]:
    """Draw `num` distinct items of `split`, balanced over length classes, in shuffled order.

    `class_sizes[c]` is how many items length class `c` has and `item(c, i)` names item `i` of
    class `c` (its text, which is also its hash key). Raises `ValueError` when the split does
    not hold `num` distinct items.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if min(valid_fraction, test_fraction) < 0 or valid_fraction + test_fraction >= 1:
        raise ValueError(
            "need 0 <= valid_fraction, test_fraction and valid_fraction + test_fraction < 1, "
            f"got {valid_fraction} and {test_fraction}"
        )
    share = {"test": test_fraction, "valid": valid_fraction}.get(
        split, 1 - valid_fraction - test_fraction
    )
    rng = random.Random(f"{seed}-{split}")

    def in_split(key: str) -> bool:
        return split_of(key, valid_fraction, test_fraction) == split

    pools: list[list[str] | None] = []
    capacities = []
    for c, size in enumerate(class_sizes):
        if size <= _ENUMERATE_LIMIT:
            pool = [key for key in (item(c, i) for i in range(size)) if in_split(key)]
            pools.append(pool)
            capacities.append(len(pool))
        else:
            pools.append(None)
            capacities.append(int(size * share / 2))
    quotas = _balanced_quotas(num, capacities, split)

    chosen: list[str] = []
    for c, quota in enumerate(quotas):
        pool = pools[c]
        if pool is not None:
            chosen.extend(rng.sample(pool, quota))
            continue
        found: set[str] = set()
        while len(found) < quota:
            key = item(c, rng.randrange(class_sizes[c]))
            if key not in found and in_split(key):
                found.add(key)
                chosen.append(key)
    rng.shuffle(chosen)
    return chosen


def _balanced_quotas(num: int, capacities: list[int], split: str) -> list[int]:
    """Split `num` as evenly as possible over classes, never above a class's capacity."""
    if num < 0:
        raise ValueError(f"number of {split} examples must be >= 0, got {num}")
    if num > sum(capacities):
        raise ValueError(
            f"asked for {num} distinct {split} examples but this task only has about "
            f"{sum(capacities)} (per length: {capacities}); ask for fewer or allow longer items"
        )
    quotas = [0] * len(capacities)
    open_classes = list(range(len(capacities)))
    remaining = num
    while remaining:
        share, extra = divmod(remaining, len(open_classes))
        full = [c for c in open_classes if capacities[c] <= share]
        if not full:
            for j, c in enumerate(open_classes):
                quotas[c] = share + (1 if j < extra else 0)
            break
        for c in full:
            quotas[c] = capacities[c]
            remaining -= capacities[c]
            open_classes.remove(c)
    return quotas
