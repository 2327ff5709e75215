"""Translation checkpoints: everything needed to translate with a model or to resume training.

One file (written atomically by `minigrad.save`, no pickle) holds::

    {"kind": "transformer-translation", "version": 1,
     "config":        TrainConfig.to_dict(),         # data, model and optimization settings
     "model":         model.state_dict(),
     "src_tokenizer": tokenizer.to_dict(), "tgt_tokenizer": ...,
     "optimizer":     optimizer.state_dict(),  "scheduler": scheduler.state_dict(),
     "rng":           minigrad.random.get_state(),   # dropout continues where it stopped
     "progress":      {"step", "epoch", "batch", "best_score", ...}}

`load_checkpoint(path)` rebuilds the model and tokenizers for `translate`/`evaluate`/`viz`;
the trainer reads the rest with `read_checkpoint` when resuming. Problems raise
`CheckpointError` with the path and what is wrong (not a checkpoint, another kind of
checkpoint, weights that do not fit the stored configuration).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import minigrad
from minigrad.serialization import CheckpointError
from transformer.config import TrainConfig
from transformer.data import Tokenizer, tokenizer_from_dict
from transformer.model import Transformer

KIND, VERSION = "transformer-translation", 1
_REQUIRED = ("config", "model", "src_tokenizer", "tgt_tokenizer")


def save_checkpoint(path: str | Path, **content: Any) -> Path:
    """Write a checkpoint holding `content` (see the module docstring for the keys)."""
    missing = [k for k in _REQUIRED if k not in content]
    if missing:
        raise ValueError(f"save_checkpoint: missing {', '.join(missing)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    minigrad.save({"kind": KIND, "version": VERSION, **content}, path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw content of a translation checkpoint, checked for its kind and keys."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(
            f"{path} is a directory: give a checkpoint file such as {path / 'best.ckpt'}"
        )
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    content = minigrad.load(path)
    if not isinstance(content, dict) or content.get("kind") != KIND:
        raise CheckpointError(
            f"{path}: a minigrad file, but not a translation checkpoint (written by "
            "`python -m transformer train`)"
        )
    if content.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: translation checkpoint version {content.get('version')} is not supported "
            f"(this code reads version {VERSION})"
        )
    missing = [k for k in _REQUIRED if k not in content]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return content


def build_from_checkpoint(
    content: dict[str, Any], path: str | Path = "checkpoint"
) -> tuple[Transformer, Tokenizer, Tokenizer, TrainConfig]:
    """The model (weights loaded, eval mode), tokenizers and config stored in `content`."""
    try:
        config = TrainConfig.from_dict(content["config"])
        src_tokenizer = tokenizer_from_dict(content["src_tokenizer"])
        tgt_tokenizer = tokenizer_from_dict(content["tgt_tokenizer"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: unreadable configuration or tokenizers: {error}") from None
    model = Transformer(**config.model_kwargs(src_tokenizer.vocab_size, tgt_tokenizer.vocab_size))
    try:
        model.load_state_dict(content["model"])
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(
            f"{path}: the weights do not fit the model configuration stored with them "
            f"(was the file edited or written by other code?):\n{error}"
        ) from None
    model.eval()
    return model, src_tokenizer, tgt_tokenizer, config


def load_checkpoint(path: str | Path) -> tuple[Transformer, Tokenizer, Tokenizer, TrainConfig]:
    """(model, src_tokenizer, tgt_tokenizer, config) from a checkpoint file, ready to translate."""
    return build_from_checkpoint(read_checkpoint(path), path)


def config_differences(saved: TrainConfig, wanted: dict[str, Any]) -> list[str]:
    """`name: checkpoint value != requested value` for each requested setting that differs."""
    return [
        f"{name}: checkpoint has {getattr(saved, name)!r}, requested {value!r}"
        for name, value in wanted.items()
        if getattr(saved, name) != value
    ]
