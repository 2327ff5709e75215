"""Every knob of a translation training run, in one dataclass that a checkpoint stores.

`TrainConfig` is the single source of truth: the command line (`python -m transformer train`)
builds its options from these fields and their help texts, the trainer reads them, and a
checkpoint saves them (as plain JSON data) so that `translate`, `evaluate` and `--resume`
rebuild exactly the same model and data. The defaults are the toy setting that learns
English -> German numbers in about two CPU minutes (see docs/translation.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _opt(default, help: str, **kw):  # noqa: A002 (argparse's name)
    """A dataclass field with a help text for the command line."""
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainConfig:
    """The settings of one training run (data, model, optimization, bookkeeping)."""

    # ---- data ---------------------------------------------------------------------------------
    data: str = _opt(
        "numbers-en-de",
        "dataset name (numbers-en-de, numbers-en-fr, copy, reverse, sort), a .tsv/.txt file of "
        "tab-separated pairs, or line-aligned files (a directory or a prefix)",
    )
    data_options: dict = _opt(
        {}, "options of the dataset loader, e.g. num_train=5000 (see docs/data.md)", group="data"
    )
    src_tokenizer: str | None = _opt(
        None, "source tokenizer: char, word, morpheme or bpe (default: the dataset's suggestion)"
    )
    tgt_tokenizer: str | None = _opt(None, "target tokenizer kind (default: as suggested)")
    vocab_size: int = _opt(8000, "vocabulary size of bpe tokenizers (specials included)")
    min_freq: int = _opt(1, "char/word/morpheme tokenizers keep tokens seen this often")
    lowercase: bool = _opt(False, "lowercase text in word/morpheme/bpe tokenizers")
    max_len: int = _opt(
        64, "longest sequence in tokens: longer training pairs are truncated (with a warning)"
    )
    # ---- model ----------------------------------------------------------------------------------
    d_model: int = _opt(128, "model width")
    num_heads: int = _opt(4, "attention heads")
    num_encoder_layers: int = _opt(2, "encoder layers")
    num_decoder_layers: int = _opt(2, "decoder layers")
    d_ff: int = _opt(512, "feed-forward hidden width")
    dropout: float = _opt(0.1, "dropout probability")
    positional: str = _opt("sinusoidal", "positions: sinusoidal, learned, rope, alibi or none")
    norm_first: bool = _opt(True, "pre-norm (True) or the paper's post-norm (False)")
    activation: str = _opt("relu", "feed-forward activation: relu or gelu")
    tie_embeddings: bool = _opt(False, "share the target embedding and the output layer")
    # ---- optimization ---------------------------------------------------------------------------
    optimizer: str = _opt("adam", "adam or adamw")
    lr: float = _opt(2e-3, "peak learning rate (reached at the end of warmup)")
    schedule: str = _opt("noam", "learning-rate schedule: noam, cosine or constant")
    warmup: int = _opt(300, "warmup steps (linear rise to the peak lr)")
    min_lr: float = _opt(0.0, "final learning rate of the cosine schedule")
    weight_decay: float = _opt(0.0, "weight decay of matrices (adamw: decoupled)")
    beta1: float = _opt(0.9, "Adam beta1")
    beta2: float = _opt(0.98, "Adam beta2")
    eps: float = _opt(1e-9, "Adam epsilon")
    label_smoothing: float = _opt(0.1, "label smoothing of the training loss")
    clip_norm: float = _opt(1.0, "clip the gradient norm to this (0: no clipping)")
    batch_size: int | None = _opt(64, "sentence pairs per batch")
    max_tokens: int | None = _opt(None, "or/also: at most this many tokens per batch")
    epochs: int = _opt(20, "maximum number of epochs")
    max_steps: int | None = _opt(None, "stop after this many optimizer steps")
    time_budget: float | None = _opt(None, "stop after this many seconds of training steps")
    patience: int = _opt(3, "early stopping: epochs without improvement (0: off)")
    monitor: str = _opt("chrf", "validation score for the best checkpoint: chrf, bleu, "
                        "exact_match or loss")  # fmt: skip
    seed: int = _opt(0, "seed of initialisation, dropout and batch order")
    # ---- evaluation and bookkeeping -------------------------------------------------------------
    beam_size: int = _opt(1, "beam size when decoding the validation set (1: greedy)")
    valid_size: int | None = _opt(None, "decode only this many validation pairs per epoch")
    log_every: int = _opt(50, "write a training record to the log every this many steps")

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

    def validate(self) -> None:
        """Reject impossible settings with a message naming the option."""
        choices = {
            "optimizer": ("adam", "adamw"),
            "schedule": ("noam", "cosine", "constant"),
            "monitor": ("chrf", "bleu", "exact_match", "loss"),
            "activation": ("relu", "gelu"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.batch_size is None and self.max_tokens is None:
            raise ValueError("give batch_size, max_tokens or both")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by num_heads ({self.num_heads})"
            )
        positive = ("d_model", "num_heads", "d_ff", "max_len", "epochs", "beam_size", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

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
