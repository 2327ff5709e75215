"""What a model was trained on, and whether its weights are numbers at all.

* `data_fingerprint(config)`: for a run on files (not a generated dataset such as
  numbers-en-de), the absolute path, total size and SHA-256 of the files the loader reads.
  Checkpoints store it under ``"data"``. Resuming refuses data that changed since (the run would
  go on with other pairs, and the held-out splits could overlap what it trained on) unless the
  change is accepted knowingly; `evaluate` on the checkpoint's own split warns.
* `require_finite_weights(model, path)`: a diverged run's weights are NaN or inf, and such a
  model translates every sentence to an empty line; it is refused with a clear error instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.serialization import CheckpointError
from transformer.data import DATASETS

_TSV_SUFFIXES = (".tsv", ".txt")  # as transformer.data.registry.load_dataset


def data_files(data: str, options: dict[str, Any]) -> list[Path]:
    """The files that `load_dataset(data, **options)` reads (none for a generated dataset):
    a .tsv/.txt file; or line-aligned files, PREFIX.<lang> or a directory's *.<lang> files."""
    if data in DATASETS:
        return []
    path = Path(data)
    if path.is_file() and path.suffix in _TSV_SUFFIXES:
        return [path]
    languages = (options.get("src_lang", "en"), options.get("tgt_lang", "de"))  # the defaults
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix[1:] in languages)
    return [p for p in (Path(f"{path}.{lang}") for lang in languages) if p.is_file()]


def data_fingerprint(data: str, options: dict[str, Any]) -> dict[str, Any] | None:
    """``{"path", "bytes", "sha256"}`` of the dataset's files, or None for a generated dataset.

    `path` is absolute; `sha256` is the file's own digest (as `sha256sum FILE` prints it) or,
    for several files, the digest of their `sha256sum` listing in name order.
    """
    files = data_files(data, options)
    if not files:
        return None
    if len(files) == 1:
        digest = _sha256(files[0])
    else:
        listing = "".join(f"{_sha256(p)}  {p.name}\n" for p in files)
        digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()
    size = sum(p.stat().st_size for p in files)
    return {"path": os.path.abspath(data), "bytes": size, "sha256": digest}


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def data_change(trained_on: dict[str, Any] | None, now: dict[str, Any] | None) -> str | None:
    """What differs between two fingerprints, in words; None if nothing does (or one is None)."""
    if not trained_on or not now or trained_on["sha256"] == now["sha256"]:
        return None
    before, after = trained_on["bytes"], now["bytes"]
    size = f"{before:,} -> {after:,} bytes" if before != after else f"same size ({after:,} bytes)"
    return f"{size}, sha256 {trained_on['sha256'][:12]}... -> {now['sha256'][:12]}..."


def nonfinite_weights(model) -> list[str]:
    """Names of the parameters holding a NaN or an infinity."""
    return [name for name, p in model.named_parameters() if not np.isfinite(p.data).all()]


def require_finite_weights(model, path: str | Path) -> None:
    """Raise `CheckpointError` naming `path` if the model's weights are not all finite."""
    bad = nonfinite_weights(model)
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise CheckpointError(
            f"{path}: the model's weights are not finite (NaN or inf in {', '.join(bad[:3])}"
            f"{more}): training diverged, so it cannot translate; use an earlier checkpoint"
        )
