"""Reading real parallel corpora from disk, with errors that name the file and line.

Two common formats are supported:

* **Tab-separated pairs** (Tatoeba / manythings.org `deu.txt`): one pair per line,
  `source<TAB>target`, further columns (such as the attribution) are ignored::

      Go.<TAB>Geh.<TAB>CC-BY 2.0 (France) Attribution: tatoeba.org #2877272 ...

* **Line-aligned files** (Multi30k style): `train.en` and `train.de` hold line `i` of the source
  and its translation on the same line number `i`.

Files must be UTF-8 (a byte-order mark and Windows line ends are accepted). Problems raise
`DataError` naming `file:line`: an empty file, a line with no tab, files of different lengths,
bytes that are not UTF-8, a NUL byte (a UTF-16 or binary file). Readers of untrusted input
(`translate --file`) pass `max_bytes`: a longer input is refused after reading that much, so
even an endless one (/dev/zero) ends at once.

Pairs whose source or target is empty (after stripping spaces) are *skipped* with one warning
that counts them and names the first lines: a few blank lines are common in scraped corpora and
should not stop a training run.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import BinaryIO

from transformer.data.pairs import DataError, Pair


def read_lines(path: str | Path, max_bytes: int | None = None) -> list[str]:
    """The lines of a UTF-8 text file, without line ends (see the module docstring)."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = read_bytes(file, str(path), max_bytes)
    except OSError as error:
        raise DataError(f"{path}: cannot read file ({error.strerror})") from error
    if not raw.strip():
        raise DataError(f"{path}: file is empty")
    return decode_lines(raw, str(path))


def read_bytes(stream: BinaryIO, name: str, max_bytes: int | None = None) -> bytes:
    """All of `stream`, or `DataError` once it holds more than `max_bytes` (None: no limit)."""
    if max_bytes is None:
        return stream.read()
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise DataError(
            f"{name}: more than {max_bytes:,} bytes, the limit for this input; split it up"
        )
    return raw


def decode_lines(raw: bytes, name: str) -> list[str]:
    """UTF-8 bytes -> lines without line ends; `DataError` naming `name:line` for bytes that
    are not UTF-8 text (invalid UTF-8, a NUL byte)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    nul = raw.find(b"\0")
    if nul >= 0:
        number, column = raw.count(b"\n", 0, nul) + 1, nul - raw.rfind(b"\n", 0, nul)
        raise DataError(
            f"{name}:{number}: NUL byte at column {column}: "
            "not a text file (UTF-16 or binary?); re-encode it as UTF-8"
        )
    lines = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append(line.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError as error:
            bad = line[error.start : error.start + 1]
            raise DataError(
                f"{name}:{number}: not valid UTF-8 (byte 0x{bad.hex()} at column "
                f"{error.start + 1}); re-encode the file as UTF-8"
            ) from error
    if raw.endswith(b"\n"):
        lines.pop()
    return lines


def _keep_nonempty(pairs: list[tuple[int, str, str]], where: str) -> list[Pair]:
    """Drop pairs with an empty side, warning once with the count and first line numbers."""
    kept = [Pair(src, tgt) for _, src, tgt in pairs if src and tgt]
    empty = [number for number, src, tgt in pairs if not (src and tgt)]
    if empty:
        first = ", ".join(str(n) for n in empty[:5])
        warnings.warn(
            f"{where}: skipped {len(empty)} pair(s) with an empty source or target "
            f"(line {first}{', ...' if len(empty) > 5 else ''})",
            stacklevel=3,
        )
    return kept


def read_tsv(
    path: str | Path, src_column: int = 0, tgt_column: int = 1, max_bytes: int | None = None
) -> list[Pair]:
    """Read `source<TAB>target[<TAB>ignored...]` lines into pairs (fields stripped of spaces)."""
    needed = max(src_column, tgt_column) + 1
    rows = []
    for number, line in enumerate(read_lines(path, max_bytes), start=1):
        if not line.strip():
            rows.append((number, "", ""))
            continue
        fields = line.split("\t")
        if len(fields) < needed:
            raise DataError(
                f"{path}:{number}: expected at least {needed} tab-separated columns, found "
                f"{len(fields)}: {line[:60]!r}"
            )
        rows.append((number, fields[src_column].strip(), fields[tgt_column].strip()))
    return _keep_nonempty(rows, str(path))


def read_aligned(
    src_path: str | Path, tgt_path: str | Path, max_bytes: int | None = None
) -> list[Pair]:
    """Read two line-aligned files (line i of one translates line i of the other) into pairs."""
    sources, targets = read_lines(src_path, max_bytes), read_lines(tgt_path, max_bytes)
    if len(sources) != len(targets):
        raise DataError(
            f"{src_path} has {len(sources)} lines but {tgt_path} has {len(targets)}: "
            "line-aligned files must have the same number of lines"
        )
    rows = [
        (number, src.strip(), tgt.strip())
        for number, (src, tgt) in enumerate(zip(sources, targets, strict=True), start=1)
    ]
    return _keep_nonempty(rows, f"{src_path} / {tgt_path}")
