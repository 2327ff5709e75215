"""Every knob of a translation training run, in one dataclass that a checkpoint stores.

`TrainConfig` is the single source of truth: the command line (`python -m transformer train`)
builds its options from these fields and their help texts, the trainer reads them, and a
checkpoint saves them (as plain JSON data) so that `translate`, `evaluate` and `--resume`
rebuild exactly the same model and data. The defaults are the toy setting that learns
English -> German numbers in about two CPU minutes (see docs/translation.md).

Each field also carries the check of its values (type, range, choices: `setting_problem`),
which `TrainConfig.validate` and the command line's option parsing share, and belongs to a
section (`sections`: data, model, optimization, stopping and validation, output).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from transformer.data.tokenizers import SPECIALS, TOKENIZERS
from transformer.model.feedforward import ACTIVATIONS
from transformer.model.positional import SCHEMES

Check = Callable[[Any], str | None]  # a value -> what is wrong with it, or None


def at_least(low: int) -> Check:
    """A check that a number is at least `low`."""
    return lambda value: None if value >= low else f"must be >= {low}, got {value}"


def _positive(value) -> str | None:
    return None if value > 0 else f"must be > 0, got {value}"


def _fraction(value) -> str | None:
    return None if 0 <= value < 1 else f"must be in [0, 1), got {value}"


def _one_of(*allowed: str) -> Check:
    return lambda value: None if value in allowed else f"must be one of {allowed}, got {value!r}"


def _opt(default, help: str, check: Check | None = None):  # noqa: A002 (argparse's name)
    """A dataclass field with a help text for the command line and a check of its values.

    The help says what None means where None is the default; other defaults are added by
    the command line. `check` (None: any value of the field's type) sees values other than
    None.
    """
    metadata = {"help": help, "check": check}
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    """The settings of one training run (data, model, optimization, stopping, output)."""

    # ---- data ---------------------------------------------------------------------------------
    data: str = _opt(
        "numbers-en-de",
        "dataset name (numbers-en-de, numbers-en-fr, copy, reverse, sort), a .tsv/.txt file of "
        "tab-separated pairs, or line-aligned files (a directory or a prefix)",
    )
    data_options: dict = _opt({}, "options of the dataset loader, e.g. num_train=5000")
    src_tokenizer: str | None = _opt(
        None,
        "source tokenizer: char, word, morpheme or bpe (default: the dataset's suggestion)",
        _one_of(*TOKENIZERS),
    )
    tgt_tokenizer: str | None = _opt(
        None, "target tokenizer kind (default: the dataset's suggestion)", _one_of(*TOKENIZERS)
    )
    vocab_size: int = _opt(
        8000, "vocabulary size of bpe tokenizers (specials included)", at_least(len(SPECIALS) + 1)
    )
    min_freq: int = _opt(
        1, "char/word/morpheme tokenizers keep tokens seen this often", at_least(1)
    )
    lowercase: bool = _opt(False, "lowercase text in word/morpheme/bpe tokenizers")
    max_len: int = _opt(
        64,
        "longest sequence in tokens: longer training pairs are truncated (with a warning)",
        at_least(2),
    )
    # ---- model ----------------------------------------------------------------------------------
    d_model: int = _opt(128, "model width", at_least(1))
    num_heads: int = _opt(4, "attention heads", at_least(1))
    num_encoder_layers: int = _opt(
        2, "encoder layers (0: the decoder attends to the embedded source)", at_least(0)
    )
    num_decoder_layers: int = _opt(2, "decoder layers", at_least(1))
    d_ff: int = _opt(512, "feed-forward hidden width", at_least(1))
    dropout: float = _opt(0.1, "dropout probability", _fraction)
    positional: str = _opt(
        "sinusoidal", "positions: sinusoidal, learned, rope, alibi or none", _one_of(*SCHEMES)
    )
    norm_first: bool = _opt(True, "pre-norm (True) or the paper's post-norm (False)")
    activation: str = _opt("relu", "feed-forward activation: relu or gelu", _one_of(*ACTIVATIONS))
    tie_embeddings: bool = _opt(False, "share the target embedding and the output layer")
    # ---- optimization ---------------------------------------------------------------------------
    optimizer: str = _opt("adam", "adam or adamw", _one_of("adam", "adamw"))
    lr: float = _opt(2e-3, "peak learning rate (reached at the end of warmup)", _positive)
    schedule: str = _opt(
        "noam",
        "learning-rate schedule: noam, cosine or constant",
        _one_of("noam", "cosine", "constant"),
    )
    warmup: int = _opt(300, "warmup steps (linear rise to the peak lr)", at_least(0))
    min_lr: float = _opt(0.0, "final learning rate of the cosine schedule", at_least(0))
    weight_decay: float = _opt(0.0, "weight decay of matrices (adamw: decoupled)", at_least(0))
    beta1: float = _opt(0.9, "Adam beta1", _fraction)
    beta2: float = _opt(0.98, "Adam beta2", _fraction)
    eps: float = _opt(1e-9, "Adam epsilon", _positive)
    label_smoothing: float = _opt(0.1, "label smoothing of the training loss", _fraction)
    clip_norm: float = _opt(1.0, "clip the gradient norm to this (0: no clipping)", at_least(0))
    batch_size: int | None = _opt(64, "sentence pairs per batch", at_least(1))
    max_tokens: int | None = _opt(
        None, "or/also: at most this many tokens per batch (default: no token limit)", at_least(1)
    )
    seed: int = _opt(0, "seed of initialisation, dropout and batch order", at_least(0))
    # ---- stopping and validation ----------------------------------------------------------------
    epochs: int = _opt(20, "maximum number of epochs", at_least(1))
    max_steps: int | None = _opt(
        None, "stop after this many optimizer steps (default: no limit)", at_least(1)
    )
    time_budget: float | None = _opt(
        None, "stop after this many seconds of training steps (default: no limit)", _positive
    )
    patience: int = _opt(3, "early stopping: epochs without improvement (0: off)", at_least(0))
    monitor: str = _opt(
        "chrf",
        "validation score for the best checkpoint: chrf, bleu, exact_match or loss",
        _one_of("chrf", "bleu", "exact_match", "loss"),
    )
    beam_size: int = _opt(1, "beam size when decoding the validation set (1: greedy)", at_least(1))
    valid_size: int | None = _opt(
        None, "decode only this many validation pairs per epoch (default: all)", at_least(1)
    )
    # ---- output ---------------------------------------------------------------------------------
    log_every: int = _opt(
        50, "write a training record to the log every this many steps", at_least(1)
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for checkpoints and logs)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild a config; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training config keys: {', '.join(unknown)}")
        config = cls(**data)
        config.validate()
        return config

    def validate(self, spell: Callable[[str], str] = str) -> None:
        """Reject impossible settings with a message naming the setting by its field name, or
        as `spell` writes it (the command line passes one that writes `--max-steps`)."""
        for f in fields(self):
            problem = setting_problem(f.name, getattr(self, f.name))
            if problem:
                raise ValueError(f"{spell(f.name)} {problem}")
        if self.batch_size is None and self.max_tokens is None:
            raise ValueError(f"give {spell('batch_size')}, {spell('max_tokens')} or both")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"{spell('d_model')} ({self.d_model}) must be divisible by "
                f"{spell('num_heads')} ({self.num_heads})"
            )
        if self.positional == "rope" and self.d_model // self.num_heads % 2:
            raise ValueError(
                f"rope positions need an even head width, but {spell('d_model')} "
                f"{self.d_model} / {spell('num_heads')} {self.num_heads} is odd"
            )
        if self.schedule == "cosine" and self.min_lr > self.lr:
            raise ValueError(
                f"{spell('min_lr')} ({self.min_lr}) must not exceed {spell('lr')} ({self.lr})"
            )

    def model_kwargs(self, src_vocab_size: int, tgt_vocab_size: int) -> dict[str, Any]:
        """Keyword arguments of `transformer.Transformer` for these settings."""
        return dict(
            src_vocab_size=src_vocab_size,
            tgt_vocab_size=tgt_vocab_size,
            d_model=self.d_model,
            num_heads=self.num_heads,
            num_encoder_layers=self.num_encoder_layers,
            num_decoder_layers=self.num_decoder_layers,
            d_ff=self.d_ff,
            dropout=self.dropout,
            positional=self.positional,
            norm_first=self.norm_first,
            activation=self.activation,
            tie_embeddings=self.tie_embeddings,
            max_len=self.max_len,
        )


# Settings that may change when a run is resumed; all others must match the checkpoint.
RESUMABLE = (
    "epochs", "max_steps", "time_budget", "patience", "log_every", "valid_size", "beam_size",
)  # fmt: skip


# The sections of the settings (the groups of `train --help`): each starts at the named field.
_SECTION_STARTS = {
    "data": "data", "model": "d_model", "optimization": "optimizer",
    "stopping and validation": "epochs", "output": "log_every",
}  # fmt: skip
_FIELDS = {f.name: f for f in fields(TrainConfig)}
_KINDS = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
          "dict": "a dict"}  # fmt: skip


def sections() -> dict[str, list[str]]:
    """The setting names of each section (data, model, optimization, ...), in field order."""
    names = list(_FIELDS)
    starts = [names.index(first) for first in _SECTION_STARTS.values()] + [len(names)]
    return {
        title: names[begin:end]
        for title, begin, end in zip(_SECTION_STARTS, starts, starts[1:], strict=False)
    }


def setting_kind(name: str) -> str:
    """The type of setting `name`, without None: "int", "float", "str", "bool" or "dict"."""
    return _FIELDS[name].type.split(" | ")[0]


def setting_problem(name: str, value: Any) -> str | None:
    """What is wrong with `value` for setting `name` ("must be >= 1, got 0"), or None."""
    field_ = _FIELDS[name]
    if value is None:
        return None if field_.type.endswith("| None") else "must be given, got None"
    kind = setting_kind(name)
    numeric = kind in ("int", "float") and not isinstance(value, bool)
    if kind == "int":
        right_type = numeric and isinstance(value, int)
    elif kind == "float":
        right_type = numeric and isinstance(value, int | float)
    else:
        right_type = isinstance(value, {"str": str, "bool": bool, "dict": dict}[kind])
    if not right_type:
        return f"must be {_KINDS[kind]}, got {value!r}"
    if kind == "float" and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    check = field_.metadata["check"]
    return check(value) if check else None
