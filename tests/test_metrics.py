"""Metrics against known values and edge cases."""

import numpy as np
import pytest

from transformer.metrics import bleu, chrf, exact_match, token_accuracy

REFS = ["the cat sat on the mat today", "a dog ran in the big park"]


def test_identical_corpus_scores_100():
    assert bleu(REFS, REFS) == pytest.approx(100.0)
    assert chrf(REFS, REFS) == pytest.approx(100.0)
    assert exact_match(REFS, REFS) == 1.0


def test_known_partial_values():
    hyps = ["the cat sat on the mat today", "a dog ran in a small park"]
    score = bleu(hyps, REFS)
    assert 40 < score < 90
    assert bleu(["completely different words here now"] * 2, REFS) == pytest.approx(0.0)
    assert exact_match(hyps, REFS) == 0.5
    assert exact_match([" yes "], ["yes"]) == 1.0
    assert 0 < chrf(["the cat"], ["the cat sat"]) < 100


def test_empty_inputs_and_empty_hypotheses():
    for metric in (bleu, chrf, exact_match):
        assert metric([], []) == 0.0
    assert bleu(["", ""], REFS) == 0.0 and chrf([""], ["abc"]) == 0.0
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        bleu(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="not one string"):
        exact_match("abc", "abc")


def test_token_accuracy_ignores_padding():
    gold = np.array([[5, 6, 2, 0], [7, 2, 0, 0]])
    pred = np.array([[5, 9, 2, 0], [7, 2, 4, 4]])
    assert token_accuracy(pred, gold, pad_id=0) == pytest.approx(4 / 5)
    assert token_accuracy(gold, gold) == 1.0
    assert token_accuracy(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0
    with pytest.raises(ValueError, match=r"shape \(2, 4\) but gold_ids has \(2, 3\)"):
        token_accuracy(pred, gold[:, :3])
