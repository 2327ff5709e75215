"""The number-words datasets: determinism, leak-free splits, balanced lengths, morphemes."""

import random
from collections import Counter

import pytest
from num2words import num2words

from transformer.data import (
    MorphemeTokenizer,
    english_number,
    numbers_dataset,
    sample_numbers,
    split_number_word,
)
from transformer.data.sampling import split_of, stable_fraction


def test_same_seed_same_data_and_other_seed_other_data():
    a = numbers_dataset(num_train=200, num_valid=20, num_test=30, seed=1)
    b = numbers_dataset(num_train=200, num_valid=20, num_test=30, seed=1)
    c = numbers_dataset(num_train=200, num_valid=20, num_test=30, seed=2)
    assert (a.train, a.valid, a.test) == (b.train, b.valid, b.test)
    assert a.train != c.train


def test_test_numbers_never_in_training_whatever_the_seed():
    train = set()
    for seed in range(3):
        train |= set(sample_numbers(800, "train", seed=seed))
    test = set(sample_numbers(300, "test", seed=7))
    valid = set(sample_numbers(300, "valid", seed=7))
    assert not train & test and not train & valid and not valid & test
    assert all(split_of(str(n), 0.05, 0.05) == "test" for n in test)


def test_splits_are_disjoint_and_without_repeats():
    s = numbers_dataset(num_train=500, num_valid=50, num_test=80)
    sources = [{p.src for p in split} for split in (s.train, s.valid, s.test)]
    assert [len(x) for x in sources] == [500, 50, 80]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])


def test_digit_lengths_are_balanced_where_numbers_exist():
    numbers = sample_numbers(1200, "train", max_digits=6, seed=0)
    digits = Counter(len(str(n)) for n in numbers)
    # only ~9 one-digit and ~81 two-digit train numbers exist: all are taken ...
    assert digits[1] == sum(split_of(str(n), 0.05, 0.05) == "train" for n in range(10))
    assert digits[2] == sum(split_of(str(n), 0.05, 0.05) == "train" for n in range(10, 100))
    # ... and the rest is shared equally by the longer numbers
    longer = [digits[d] for d in range(3, 7)]
    assert max(longer) - min(longer) <= 1 and sum(digits.values()) == 1200


def test_asking_for_more_numbers_than_exist_is_a_clear_error():
    with pytest.raises(ValueError, match="distinct test examples"):
        sample_numbers(50, "test", max_digits=1)


def test_stable_fraction_is_sha1_based_not_python_hash():
    assert stable_fraction("432") == pytest.approx(0.632953, abs=1e-6)  # sha1, any machine
    assert 0 <= stable_fraction("") < 1


def test_pairs_are_normalized_english_and_exact_num2words():
    assert english_number(12345) == "twelve thousand three hundred and forty five"
    s = numbers_dataset("fr", num_train=50, num_valid=5, num_test=5, seed=4)
    numbers = sample_numbers(50, "train", seed=4)
    assert s.train == [(english_number(n), num2words(n, lang="fr")) for n in numbers]
    assert all("," not in src and "-" not in src for src, _ in s.train)
    assert (s.src_tokenizer, s.tgt_tokenizer) == ("word", "word")
    de = numbers_dataset(num_train=5, num_valid=1, num_test=1)
    assert (de.name, de.tgt_tokenizer) == ("numbers-en-de", "morpheme")


def test_german_morphemes_split_and_join_back_exactly():
    assert split_number_word("vierhundertzweiunddreißig") == (
        "vier",
        "hundert",
        "zwei",
        "und",
        "dreißig",
    )
    assert split_number_word("einhunderteinstausend") == ("ein", "hundert", "eins", "tausend")
    assert split_number_word("siebzehn") == ("siebzehn",)
    assert split_number_word("haus") is None


def test_morpheme_round_trip_on_numbers_up_to_999999():
    rng = random.Random(0)
    numbers = [*range(1000), 1001, 101000, 999999]
    numbers += [rng.randrange(10 ** rng.randint(1, 6)) for _ in range(1500)]
    words = [num2words(n, lang="de") for n in numbers]
    tokenizer = MorphemeTokenizer.build(words)
    assert tokenizer.vocab_size < 80  # a few dozen morphemes, each with and without "##"
    for word in words:
        morphemes = split_number_word(word)
        assert morphemes is not None and "".join(morphemes) == word
        tokens = tokenizer.tokenize(word)
        assert len(tokens) == len(morphemes) and tokenizer.detokenize(tokens) == word
        assert tokenizer.decode(tokenizer.encode(word)) == word
