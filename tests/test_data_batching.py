"""Batching: shapes, padding, <bos>/<eos> placement, truncation, bucketing, token budgets."""

import numpy as np
import pytest

from transformer.data import CharTokenizer, Pair, collate, encode_pairs, make_batches


def examples(n, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (
            list(rng.integers(4, 20, rng.integers(1, 15))),
            list(rng.integers(4, 20, rng.integers(0, 12))),
        )
        for _ in range(n)
    ]


def test_collate_pads_and_places_bos_and_eos():
    batch = collate([([5, 6, 7], [8, 9]), ([5], [8, 9, 10, 11])], indices=[4, 9])
    assert batch.src.dtype == np.int64 and batch.src.shape == (2, 3)
    assert batch.src.tolist() == [[5, 6, 7], [5, 0, 0]]
    assert batch.tgt_in.tolist() == [[1, 8, 9, 0, 0], [1, 8, 9, 10, 11]]
    assert batch.tgt_out.tolist() == [[8, 9, 2, 0, 0], [8, 9, 10, 11, 2]]
    assert batch.src_lengths.tolist() == [3, 1] and batch.tgt_lengths.tolist() == [3, 5]
    assert batch.num_tgt_tokens == 8 and batch.indices.tolist() == [4, 9] and len(batch) == 2
    assert batch.src_pad_mask.tolist() == [[True] * 3, [True, False, False]]
    assert batch.tgt_pad_mask.sum() == batch.num_tgt_tokens


def test_encode_pairs_truncates_with_one_warning():
    tok = CharTokenizer.build(["abcdef"])
    pairs = [Pair("abcdef", "abc"), Pair("ab", "abcdef"), Pair("a", "b")]
    with pytest.warns(UserWarning, match="truncated 2 of 3 pairs to max_len=4"):
        encoded = encode_pairs(pairs, tok, tok, max_len=4)
    assert [(len(s), len(t)) for s, t in encoded] == [(4, 3), (2, 3), (1, 1)]
    assert max(len(collate(encoded).tgt_in[0]), collate(encoded).src.shape[1]) == 4
    with pytest.raises(ValueError, match="pair 0 has an empty source"):
        encode_pairs([Pair("", "a")], tok, tok)


def test_every_example_once_and_same_seed_same_batches():
    data = examples(300)
    first = make_batches(data, batch_size=16, seed=5, epoch=2)
    again = make_batches(data, batch_size=16, seed=5, epoch=2)
    other = make_batches(data, batch_size=16, seed=5, epoch=3)
    assert sorted(np.concatenate([b.indices for b in first]).tolist()) == list(range(300))
    assert all(len(b) <= 16 for b in first)
    assert all(
        (a.src == b.src).all() and (a.indices == b.indices).all()
        for a, b in zip(first, again, strict=True)
    )
    assert [b.indices.tolist() for b in first] != [b.indices.tolist() for b in other]
    for batch in first:  # rows hold the right example
        i = int(batch.indices[0])
        assert batch.src[0, : len(data[i][0])].tolist() == data[i][0]


def test_bucketing_reduces_padding():
    data = examples(1000)

    def padding(batches):
        return sum(b.src.size - b.src_lengths.sum() for b in batches)

    bucketed = make_batches(data, batch_size=32, bucket_size=512)
    plain = make_batches(data, batch_size=32, bucket_size=None)
    assert padding(bucketed) < padding(plain) / 3


def test_token_budget_is_respected():
    data = examples(500)
    batches = make_batches(data, max_tokens=100, seed=1)
    assert all(len(b) * max(b.src.shape[1], b.tgt_in.shape[1]) <= 100 for b in batches)
    assert sum(len(b) for b in batches) == 500
    both = make_batches(data, batch_size=4, max_tokens=100)
    assert all(len(b) <= 4 for b in both)
    with pytest.raises(ValueError, match="more than max_tokens=10"):
        make_batches(data, max_tokens=10)


def test_unshuffled_unbucketed_keeps_data_order():
    data = examples(10)
    batches = make_batches(data, batch_size=4, shuffle=False, bucket_size=None)
    assert [b.indices.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size, max_tokens"):
        make_batches(examples(3))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        make_batches(examples(3), batch_size=0)
    with pytest.raises(ValueError, match="at least one"):
        collate([])
