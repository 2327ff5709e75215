"""Scores for translations: BLEU and chrF (via sacrebleu), exact match and token accuracy.

* `bleu`: corpus BLEU, the classic machine-translation score (0-100): how many word 1- to
  4-grams of the hypotheses appear in the references, with a penalty for short output. It needs
  several words per sentence: a one-word German number scores 0 even when right, so for the
  number task read exact match (and chrF) instead.
* `chrf`: character n-gram F-score (0-100); kinder to long compound words than BLEU.
* `exact_match`: the fraction of hypotheses equal to their reference; the honest score for
  tasks with one right answer (numbers, copy, reverse, sort).
* `token_accuracy`: the fraction of non-padding target positions predicted right under teacher
  forcing; cheap to compute during training from the logits' argmax.

BLEU and chrF use sacrebleu, the standard implementation, so numbers are comparable with
papers. An empty corpus scores 0.0 everywhere, so logging never crashes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sacrebleu


def _check_corpus(hypotheses: Sequence[str], references: Sequence[str], metric: str) -> None:
    """Both must be equally long sequences of strings."""
    for name, texts in (("hypotheses", hypotheses), ("references", references)):
        if isinstance(texts, str):
            raise TypeError(f"{metric}: {name} must be a list of strings, not one string")
        bad = next((t for t in texts if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"{metric}: {name} must be strings, got {type(bad).__name__}")
    if len(hypotheses) != len(references):
        raise ValueError(f"{metric}: {len(hypotheses)} hypotheses but {len(references)} references")


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) with sacrebleu's defaults (13a tokenization, one reference each)."""
    _check_corpus(hypotheses, references, "bleu")
    if not hypotheses:
        return 0.0
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0-100) with sacrebleu's defaults (character 6-grams, beta = 2)."""
    _check_corpus(hypotheses, references, "chrf")
    if not hypotheses:
        return 0.0
    return float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Fraction (0-1) of hypotheses identical to their reference, ignoring outer whitespace."""
    _check_corpus(hypotheses, references, "exact_match")
    if not hypotheses:
        return 0.0
    hits = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references, strict=True))
    return hits / len(hypotheses)


def token_accuracy(pred_ids, gold_ids, pad_id: int = 0) -> float:
    """Fraction (0-1) of positions with `gold_ids != pad_id` where `pred_ids == gold_ids`.

    Both are integer arrays of the same shape, e.g. (B, T) argmax predictions and `tgt_out`.
    """
    pred, gold = np.asarray(pred_ids), np.asarray(gold_ids)
    if pred.shape != gold.shape:
        raise ValueError(
            f"token_accuracy: pred_ids has shape {pred.shape} but gold_ids has {gold.shape}"
        )
    real = gold != pad_id
    count = int(real.sum())
    if count == 0:
        return 0.0
    return int(((pred == gold) & real).sum()) / count
