"""Translation checkpoints: everything needed to translate with a model or to resume training.

One file (written atomically by `minigrad.save`, no pickle) holds::

    {"kind": "transformer-translation", "version": 1,
     "config":        TrainConfig.to_dict(),         # data, model and optimization settings
     "model":         model.state_dict(),
     "src_tokenizer": tokenizer.to_dict(), "tgt_tokenizer": ...,
     "optimizer":     optimizer.state_dict(),  "scheduler": scheduler.state_dict(),
     "rng":           minigrad.random.get_state(),   # dropout continues where it stopped
     "progress":      {"step", "epoch", "batch", "best_score", ...},
     "data":          {"path", "bytes", "sha256"} or None}   # the data file's fingerprint

`load_checkpoint(path)` rebuilds the model and tokenizers for `translate`/`evaluate`/`viz`;
the trainer reads the rest with `read_checkpoint` when resuming. Problems raise
`CheckpointError` with the path and what is wrong (not a checkpoint, another kind of
checkpoint, an entry of the wrong type, settings or tokenizers that do not rebuild, weights that
do not fit the stored configuration, weights that are not finite because training diverged),
also for hand-edited files: `restoring` turns the errors
of rebuilding an entry into one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import minigrad
from minigrad.serialization import CheckpointError
from transformer.data import Tokenizer, tokenizer_from_dict
from transformer.integrity import require_finite_weights
from transformer.model import Transformer
from transformer.train_config import TrainConfig

KIND, VERSION = "transformer-translation", 1
_REQUIRED = ("config", "model", "src_tokenizer", "tgt_tokenizer")
# Entries that are dicts with string keys when present ("data" may also be None).
_DICTS = (*_REQUIRED, "optimizer", "scheduler", "rng", "progress", "data")


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
            f"{path}: translation checkpoint version {content.get('version')!r} is not "
            f"supported (this code reads version {VERSION})"
        )
    missing = [k for k in _REQUIRED if k not in content]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    for key in _DICTS:
        problem = _entry_problem(key, content.get(key)) if key in content else None
        if problem:
            raise CheckpointError(
                f"{path}: the checkpoint's {key!r} {problem} (was the file edited or written by "
                "other code?)"
            )
    return content


def _entry_problem(key: str, value: Any) -> str | None:
    """Why `value` cannot be checkpoint entry `key` (a dict with string keys), or None."""
    if value is None and key == "data":
        return None
    if not isinstance(value, dict):
        return f"is {'None' if value is None else 'a ' + type(value).__name__}, not a dict"
    wrong = next((k for k in value if not isinstance(k, str)), None)
    return None if wrong is None else f"has a key that is not a string: {wrong!r}"


@contextmanager
def restoring(path: str | Path, entry: str) -> Iterator[None]:
    """Turn the errors of rebuilding checkpoint entry `entry` from its stored value (a wrong
    type or value in a hand-edited file) into a `CheckpointError` naming the file and entry::

        with restoring(path, "optimizer"):
            optimizer.load_state_dict(content["optimizer"])
    """
    try:
        yield
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        raise CheckpointError(
            f"{path}: the checkpoint's {entry!r} is unreadable: {error}"
        ) from None


def build_from_checkpoint(
    content: dict[str, Any], path: str | Path = "checkpoint"
) -> tuple[Transformer, Tokenizer, Tokenizer, TrainConfig]:
    """The model (weights loaded, eval mode), tokenizers and config stored in `content`."""
    with restoring(path, "config"):
        config = TrainConfig.from_dict(content["config"])
    with restoring(path, "src_tokenizer"):
        src_tokenizer = tokenizer_from_dict(content["src_tokenizer"])
    with restoring(path, "tgt_tokenizer"):
        tgt_tokenizer = tokenizer_from_dict(content["tgt_tokenizer"])
    model = Transformer(**config.model_kwargs(src_tokenizer.vocab_size, tgt_tokenizer.vocab_size))
    try:
        model.load_state_dict(content["model"])
    except (RuntimeError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{path}: the weights do not fit the model configuration stored with them "
            f"(was the file edited or written by other code?):\n{error}"
        ) from None
    require_finite_weights(model, path)  # a diverged run's weights translate to nothing
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
