"""Greedy decoding and beam search against slow, obviously-right references.

The references recompute the whole prefix without the key/value cache, so these tests also
check that batching, the cache and dropping finished rows change nothing.
"""

import warnings

import numpy as np
import pytest

import minigrad
from transformer import Transformer, padding_mask
from transformer.data import CharTokenizer
from transformer.data.tokenizers.base import BOS_ID, EOS_ID
from transformer.decoding import (
    beam_search,
    decode_in_batches,
    greedy_decode,
    length_penalty,
    pad_sources,
    translate,
)


def tiny_model(tgt_vocab=12, seed=0, eos_bias=1.5):
    """An untrained model whose <eos> is likely enough that rows end at different steps."""
    minigrad.manual_seed(seed)
    model = Transformer(10, tgt_vocab, d_model=16, num_heads=2, num_encoder_layers=1,
                        num_decoder_layers=1, d_ff=32, dropout=0.0, max_len=16)  # fmt: skip
    model.generator.bias.data[EOS_ID] += eos_bias
    for p in model.parameters():  # float64: no rounding can flip a decision between two paths
        p.data = p.data.astype(np.float64)
    return model.eval()


def sources(rows=6, seed=1):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(4, 10, size=rng.integers(1, 7))) for _ in range(rows)]


def full_log_probs(model, src, prefix):
    """log p(next | src, prefix) for one sentence, recomputing everything (no cache)."""
    src = np.array([src])
    tgt = np.array([[BOS_ID, *prefix]])
    with minigrad.no_grad():
        logits = model(minigrad.tensor(src), minigrad.tensor(tgt), padding_mask(src, 0))
    z = logits.data[0, -1].astype(np.float64)
    return z - z.max() - np.log(np.exp(z - z.max()).sum())


def naive_greedy(model, src, max_len):
    out = []
    while len(out) < max_len:
        token = int(full_log_probs(model, src, out).argmax())
        out.append(token)
        if token == EOS_ID:
            return out[:-1]
    return out


def test_greedy_matches_uncached_one_by_one_decoding():
    model, srcs = tiny_model(), sources()
    got = greedy_decode(model, pad_sources(srcs), max_len=8)
    expected = [naive_greedy(model, s, 8) for s in srcs]
    assert got == expected
    lengths = {len(e) for e in expected}
    assert len(lengths) > 1, "the rows should stop at different steps for this test to bite"


def test_beam_size_one_equals_greedy():
    model, srcs = tiny_model(seed=3), sources(8, seed=4)
    src = pad_sources(srcs)
    assert beam_search(model, src, beam_size=1, max_len=9) == greedy_decode(model, src, 9)


def exhaustive_best(model, src, vocab, max_len, alpha):
    """The best sequence by length-normalized log-probability, trying every one."""
    hypotheses = []  # (score, tokens)

    def extend(prefix, logp):
        log_probs = full_log_probs(model, src, prefix)
        for token in range(vocab):
            total = logp + log_probs[token]
            tokens = [*prefix, token]
            if token == EOS_ID or len(tokens) == max_len:
                hypotheses.append((total / length_penalty(len(tokens), alpha), tokens))
            else:
                extend(tokens, total)

    extend([], 0.0)
    best = max(hypotheses, key=lambda h: h[0])[1]
    return [t for t in best if t != EOS_ID]


@pytest.mark.parametrize("seed", range(6))
def test_wide_beam_finds_the_best_sequence_by_exhaustive_search(seed):
    vocab, max_len, src = 6, 3, [4, 7, 5]
    model = tiny_model(tgt_vocab=vocab, seed=seed, eos_bias=0.0)
    for alpha in (0.0, 0.6, 2.0):
        best = exhaustive_best(model, src, vocab, max_len, alpha)
        got = beam_search(model, pad_sources([src]), beam_size=40, max_len=max_len, alpha=alpha)
        assert got == [best], f"alpha={alpha}"


def test_beam_search_can_beat_greedy():
    """For this model and sentence the best-scoring output is not the greedy one."""
    model, src = tiny_model(tgt_vocab=6, seed=3, eos_bias=0.5), pad_sources([[4, 7, 5]])
    assert greedy_decode(model, src, 3) == [[5, 4]]
    assert beam_search(model, src, beam_size=4, max_len=3, alpha=2.0) == [[5, 1, 5]]


def test_beam_search_batches_like_single_sentences():
    model, srcs = tiny_model(seed=6), sources(5, seed=7)
    together = beam_search(model, pad_sources(srcs), beam_size=3, max_len=8)
    alone = [beam_search(model, pad_sources([s]), beam_size=3, max_len=8)[0] for s in srcs]
    assert together == alone


def test_decode_in_batches_keeps_input_order():
    model, srcs = tiny_model(seed=2), sources(9, seed=8)
    got = decode_in_batches(model, srcs, batch_size=2, max_len=6)
    assert got == [greedy_decode(model, pad_sources([s]), 6)[0] for s in srcs]
    assert decode_in_batches(model, srcs, beam_size=2, batch_size=4, max_len=6) == [
        beam_search(model, pad_sources([s]), 2, 6)[0] for s in srcs
    ]


def test_decoding_leaves_the_training_mode_alone():
    model = tiny_model().train()
    greedy_decode(model, pad_sources([[4, 5]]), 3)
    assert model.training


def test_translate_empty_and_too_long_lines_warn_and_keep_alignment():
    tok = CharTokenizer.build(["abcdef"])
    minigrad.manual_seed(0)
    model = Transformer(tok.vocab_size, tok.vocab_size, d_model=16, num_heads=2,
                        num_encoder_layers=1, num_decoder_layers=1, d_ff=32, max_len=8)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = translate(model, tok, tok, ["abc", "   ", "abcdefabcdefabc"], max_len=4)
    assert len(out) == 3 and out[1] == ""
    messages = " ".join(str(w.message) for w in caught)
    assert "empty" in messages and "(line 2)" in messages
    assert "longer than 8 tokens" in messages and "(line 3)" in messages


def test_bad_arguments_are_clear():
    model = tiny_model()
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(model, pad_sources([[4]]), beam_size=0)
    with pytest.raises(ValueError, match="source 1 is empty"):
        pad_sources([[4], []])
    with pytest.raises(ValueError, match="batch, length"):
        greedy_decode(model, np.array([4, 5]))
    with pytest.raises(ValueError, match="max_len must be >= 1"):
        greedy_decode(model, pad_sources([[4]]), max_len=0)


def test_a_length_past_the_learned_positions_is_refused_up_front():
    from transformer import Transformer

    sizes = dict(d_model=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=16)
    model = Transformer(10, 10, positional="learned", max_len=6, **sizes)
    for decode in (greedy_decode, lambda *a, **k: beam_search(*a, beam_size=2, **k)):
        with pytest.raises(ValueError, match="max_len 7 is longer than the 6 positions"):
            decode(model, pad_sources([[4]]), max_len=7)
        assert len(decode(model, pad_sources([[4]]), max_len=6)) == 1
    sinusoidal = Transformer(10, 10, max_len=6, **sizes)  # any length: nothing to refuse
    assert len(greedy_decode(sinusoidal, pad_sources([[4]]), max_len=9)) == 1


def test_translate_warns_about_words_the_model_never_saw():
    import warnings

    from transformer import Transformer
    from transformer.data import WordTokenizer
    from transformer.decoding import translate

    src_tok = WordTokenizer.build(["one two three"])
    tgt_tok = WordTokenizer.build(["eins zwei drei"])
    sizes = dict(num_encoder_layers=1, num_decoder_layers=1, d_ff=16, dropout=0.0)
    model = Transformer(src_tok.vocab_size, tgt_tok.vocab_size, d_model=8, num_heads=2, **sizes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        translate(model, src_tok, tgt_tok, ["one hello", "two"], max_len=3)
    messages = [str(w.message) for w in caught]
    assert any("'hello'" in m and "<unk>" in m and "line 1" in m for m in messages), messages
