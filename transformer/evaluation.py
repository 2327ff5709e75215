"""Measuring a translation model on held-out pairs: loss, perplexity and translation scores.

Two views of the same model:

* **Teacher forcing** (what training optimizes): feed the reference prefix, score the next
  reference token. Gives the cross-entropy (without label smoothing, so that
  perplexity = exp(loss) is the usual quantity) and the token accuracy of the argmax.
* **Free decoding** (what a user gets): translate the source with greedy or beam search and
  compare the text with the reference: BLEU and chrF (sacrebleu) and exact match.

A model can be good at the first and poor at the second (errors compound when it reads its own
output), so a run reports both.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import minigrad
import minigrad.nn.functional as F
from transformer import metrics
from transformer.data import Pair, Tokenizer, encode_pairs, make_batches
from transformer.data.tokenizers.base import PAD_ID
from transformer.decoding import translate
from transformer.model.masks import padding_mask

# The file-corpus recipe splits punctuation off on purpose (docs/data.md), so sacrebleu's
# "forgot to detokenize?" warning would be repeated at every validation: keep only its errors.
logging.getLogger("sacrebleu").setLevel(logging.ERROR)


@dataclass
class Evaluation:
    """Scores of one evaluation, the hypotheses in the order of the pairs, and their pairs."""

    scores: dict[str, float]
    hypotheses: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)

    def samples(self, n: int = 10) -> list[tuple[str, str, str]]:
        """(source, reference, hypothesis) for the first `n` pairs."""
        return [(p.src, p.tgt, h) for p, h in zip(self.pairs[:n], self.hypotheses, strict=False)]


def teacher_forced_scores(
    model, examples, batch_size: int = 128, pad_id: int = PAD_ID
) -> dict[str, float]:
    """Cross-entropy per target token, its perplexity and the token accuracy, no dropout."""
    total_loss, total_tokens, correct = 0.0, 0, 0
    was_training = model.training
    model.eval()
    try:
        with minigrad.no_grad():
            for batch in make_batches(examples, batch_size, shuffle=False):
                src, tgt_in = minigrad.tensor(batch.src), minigrad.tensor(batch.tgt_in)
                logits = model(src, tgt_in, padding_mask(batch.src, pad_id))
                flat = logits.reshape(-1, logits.shape[-1])
                gold = batch.tgt_out.reshape(-1)
                loss = F.cross_entropy(flat, gold, ignore_index=pad_id, reduction="sum")
                total_loss += float(loss.item())
                total_tokens += batch.num_tgt_tokens
                real = gold != pad_id
                correct += int(((flat.data.argmax(axis=1) == gold) & real).sum())
    finally:
        model.train(was_training)
    loss = total_loss / max(total_tokens, 1)
    return {
        "loss": loss,
        "perplexity": math.exp(min(loss, 50.0)),
        "token_accuracy": correct / max(total_tokens, 1),
    }


def evaluate(
    model,
    src_tokenizer: Tokenizer,
    tgt_tokenizer: Tokenizer,
    pairs: Sequence[Pair],
    *,
    beam_size: int = 1,
    alpha: float = 0.6,
    max_len: int | None = None,
    batch_size: int = 128,
    teacher_forcing: bool = True,
) -> Evaluation:
    """Translate `pairs` and score them: BLEU, chrF, exact match (and teacher-forced scores).

    `max_len` limits the length of the translations (default: `decoding.default_max_len`).
    For the teacher-forced scores, pairs longer than the model's ``config["max_len"]`` are
    truncated as in training.
    """
    pairs = list(pairs)
    if not pairs:
        raise ValueError("nothing to evaluate: the list of pairs is empty")
    hypotheses = translate(
        model,
        src_tokenizer,
        tgt_tokenizer,
        [p.src for p in pairs],
        beam_size=beam_size,
        alpha=alpha,
        max_len=max_len,
        batch_size=batch_size,
        warn_unknown=False,
    )
    references = [p.tgt for p in pairs]
    scores = {
        "bleu": metrics.bleu(*_bleu_units(tgt_tokenizer, hypotheses, references)),
        "chrf": metrics.chrf(hypotheses, references),
        "exact_match": metrics.exact_match(hypotheses, references),
    }
    if teacher_forcing:
        limit = model.config["max_len"]
        examples = encode_pairs(pairs, src_tokenizer, tgt_tokenizer, max_len=limit)
        scores.update(teacher_forced_scores(model, examples, batch_size))
    return Evaluation(scores, hypotheses, pairs)


def _bleu_units(tokenizer: Tokenizer, *corpora: list[str]) -> list[list[str]]:
    """The texts BLEU is computed on. A German number is one long word, so word-level BLEU
    would give 0 to every imperfect number (and to every short corpus); with the morpheme
    tokenizer, BLEU counts morphemes (`vier hundert zwei und dreißig`) instead."""
    if tokenizer.kind != "morpheme":
        return list(corpora)
    return [[" ".join(tokenizer.tokenize(text)) for text in corpus] for corpus in corpora]


def format_scores(scores: dict[str, float]) -> str:
    """One line such as `exact_match 99.2%  chrF 99.8  BLEU 97.1  loss 1.234  ppl 3.4`."""
    return "  ".join(
        template.format(scores[key] * scale) for key, template, scale in _FORMATS if key in scores
    )


_FORMATS = (  # (key, template, scale) in display order
    ("exact_match", "exact_match {:.1f}%", 100),
    ("chrf", "chrF {:.1f}", 1),
    ("bleu", "BLEU {:.1f}", 1),
    ("loss", "loss {:.3f}", 1),
    ("perplexity", "ppl {:.2f}", 1),
    ("token_accuracy", "token_acc {:.1f}%", 100),
)
