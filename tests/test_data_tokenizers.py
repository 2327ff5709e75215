"""Tokenizers: specials, round trips, unknowns, JSON save/load, BPE learning and speed."""

import itertools
import json
import random
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transformer.data import (
    SPECIALS,
    TOKENIZERS,
    BPETokenizer,
    CharTokenizer,
    MorphemeTokenizer,
    WordTokenizer,
    build_tokenizer,
    load_tokenizer,
    tokenizer_from_dict,
)
from transformer.data.tokenizers.bpe import learn_merges

TEXTS = [
    "The cat sat on the mat.",
    "The dog didn't sit; it ran!",
    "Cats and dogs, dogs and cats.",
    "vierhundertzweiunddreißig Katzen",
]


@pytest.mark.parametrize("kind", sorted(TOKENIZERS))
def test_specials_and_round_trip_on_training_text(kind):
    tokenizer = build_tokenizer(kind, TEXTS)
    assert tokenizer.tokens[:4] == list(SPECIALS)
    assert (tokenizer.pad_id, tokenizer.bos_id, tokenizer.eos_id, tokenizer.unk_id) == (0, 1, 2, 3)
    for text in TEXTS:
        ids = tokenizer.encode(text)
        assert all(4 <= i < tokenizer.vocab_size for i in ids)
        assert tokenizer.decode(ids) == text


@pytest.mark.parametrize("kind", sorted(TOKENIZERS))
def test_save_load_and_dict_round_trip(kind, tmp_path):
    tokenizer = build_tokenizer(kind, TEXTS)
    path = tmp_path / f"{kind}.json"
    tokenizer.save(path)
    json.loads(path.read_text(encoding="utf-8"))  # plain JSON, no pickle
    for restored in (type(tokenizer).load(path), load_tokenizer(path)):
        assert type(restored) is type(tokenizer) and restored.to_dict() == tokenizer.to_dict()
        assert restored.encode(TEXTS[1]) == tokenizer.encode(TEXTS[1])
    assert tokenizer_from_dict(tokenizer.to_dict()).tokens == tokenizer.tokens


def test_decode_stops_at_eos_skips_pad_and_bos_and_shows_unk():
    tokenizer = CharTokenizer.build(["ab"])
    a, b = tokenizer.encode("ab")
    assert tokenizer.decode([1, a, 3, b, 2, a, 0]) == "a<unk>b"
    assert tokenizer.decode(np.array([1, b, 0, 0])) == "b"
    assert tokenizer.encode("abz") == [a, b, 3]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([99])


def test_word_tokenizer_options():
    tokenizer = WordTokenizer.build(["a a a b b c", "A"], lowercase=True, min_freq=2)
    assert tokenizer.tokens == [*SPECIALS, "a", "b"]
    assert tokenizer.encode("A c") == [4, 3]
    capped = WordTokenizer.build(["a a a b b c"], max_size=5)
    assert capped.tokens == [*SPECIALS, "a"]
    assert tokenizer.tokenize("Don't!") == ["don", "##'", "##t", "##!"]


def test_morpheme_tokenizer_glues_number_words_only():
    tokenizer = MorphemeTokenizer.build(["zweiundvierzig Häuser, dreizehn"])
    assert tokenizer.tokenize("zweiundvierzig Häuser, dreizehn") == [
        "zwei",
        "##und",
        "##vierzig",
        "Häuser",
        "##,",
        "dreizehn",
    ]


def test_bpe_learns_merges_that_shorten_sequences():
    texts = ["lower lowest newer newest wider widest"] * 5 + ["low new wide"] * 3
    bpe = BPETokenizer.build(texts, vocab_size=60)
    assert bpe.merges[0] == ("##w", "##e")  # the most frequent pair: in 4 words x 5
    assert bpe.tokenize(texts[0]) == texts[0].split()  # every frequent word became one token
    assert bpe.vocab_size < 60  # stopped early: no pair is left that occurs twice
    assert len(bpe.encode(texts[0])) < len(CharTokenizer.build(texts).encode(texts[0])) // 5
    assert bpe.tokenize("lowly") == ["low", "##l", "##y"]
    assert bpe.encode("lowly")[1:] == [bpe.unk_id, bpe.unk_id]  # "##l", "##y" never seen


def test_bpe_stops_at_vocab_size_and_keeps_the_alphabet():
    counts = {"abcabc": 10, "abd": 3}
    tokens, merges = learn_merges(counts, vocab_size=11)  # alphabet: a ##a ##b ##c ##d
    assert len(tokens) == 11 and len(merges) >= 1
    tokens, merges = learn_merges(counts, vocab_size=2)
    assert merges == [] and {"a", "##b", "##c", "##d"} <= set(tokens)


def test_bpe_trains_on_20k_sentences_in_under_5_seconds():
    rng = random.Random(0)
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyzäöü", k=rng.randint(2, 9)))
        for _ in range(8000)
    ]
    zipf = list(itertools.accumulate(1 / (i + 1) for i in range(len(words))))
    texts = [
        " ".join(rng.choices(words, cum_weights=zipf, k=rng.randint(3, 12))) + "."
        for _ in range(20_000)
    ]
    start = time.process_time()  # CPU time: other jobs sharing the cores do not count
    bpe = BPETokenizer.build(texts, vocab_size=4000)
    assert time.process_time() - start < 5.0
    assert bpe.vocab_size == 4000


@settings(max_examples=60, deadline=None)
@given(train=st.text(max_size=40), text=st.text(max_size=40))
def test_arbitrary_unicode_never_crashes_and_known_text_round_trips(train, text):
    for kind in sorted(TOKENIZERS):
        tokenizer = build_tokenizer(kind, [train])
        assert isinstance(tokenizer.decode(tokenizer.encode(text)), str)
        expected = train if kind == "char" else " ".join(train.split())
        assert tokenizer.decode(tokenizer.encode(train)) == expected


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        build_tokenizer("sentencepiece", TEXTS)
    with pytest.raises(TypeError, match="iterable of strings"):
        build_tokenizer("char", "just one string")
    with pytest.raises(TypeError, match="expects a string"):
        CharTokenizer.build(TEXTS).encode(42)
    with pytest.raises(ValueError, match="expects kind 'char'"):
        CharTokenizer.from_dict(WordTokenizer.build(TEXTS).to_dict())
    with pytest.raises(ValueError, match="must start with"):
        CharTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="does not produce a token"):
        BPETokenizer([*SPECIALS, "a", "##b"], merges=[("a", "##b")])
