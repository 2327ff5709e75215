"""One run per folder: the lock, stale temporary files, and files written whole or not at all.

A run folder (`train --out RUN`) holds one training run: `last.ckpt`, `best.ckpt`, `log.jsonl`,
`config.json` and `curves.png`. `Trainer` keeps it that way with this module:

* `RunLock`: while a run trains it holds an exclusive `fcntl.flock` on `RUN/.lock`, with its
  process id written in the file. A second run on the same folder stops at once with a message
  naming the folder and that process. The kernel drops the lock when the process ends, even by
  SIGKILL, so a killed run never blocks the next one. The `.lock` file stays (deleting it would
  let two runs lock two different files). Without `fcntl` (Windows) runs are not locked.
* `remove_stale_temporaries`: a process killed during a save leaves the temporary file of its
  atomic write (`.last.ckpt.<12 hex digits>.tmp`, see `minigrad.serialization`). With the lock
  held no save of ours is under way, so every such file is stale.
* `write_atomic`/`copy_atomic`: `config.json`, a rewritten log and a copied checkpoint appear
  whole or not at all, under the same temporary names.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = ".lock"
RUN_FILES = ("last.ckpt", "best.ckpt", "log.jsonl")  # their presence means: a run lives here
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")  # minigrad.serialization's naming


class RunFolderInUse(FileExistsError):
    """Another process is training in this run folder."""


class RunLock:
    """Exclusive use of a run folder: ``with RunLock(folder): ...`` (creates the folder)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._file = None

    def __enter__(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            return self
        file = (self.folder / LOCK_NAME).open("a+", encoding="utf-8")  # a+: keep the holder's pid
        if not _try_lock(file, fcntl.LOCK_EX):
            holder = _holder(file)
            file.close()
            raise RunFolderInUse(_in_use(self.folder, holder))
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file
        return self

    def __exit__(self, *exc_info) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None


def check_not_in_use(folder: str | Path) -> None:
    """Raise `RunFolderInUse` if a run holds `folder`'s lock now (creates nothing)."""
    path = Path(folder) / LOCK_NAME
    if fcntl is None or not path.is_file():
        return
    with path.open(encoding="utf-8") as file:
        if not _try_lock(file, fcntl.LOCK_SH):
            raise RunFolderInUse(_in_use(Path(folder), _holder(file)))


def _try_lock(file, mode: int, attempts: int = 5) -> bool:
    """Take a flock without blocking; a few tries 0.1 s apart ride out another run's
    `check_not_in_use`, which holds the lock for an instant."""
    for attempt in range(attempts):
        try:
            fcntl.flock(file.fileno(), mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < attempts:
                time.sleep(0.1)
    return False


def _holder(file) -> str:
    """'process 1234' from a lock file (empty for an instant after the holder took it)."""
    file.seek(0)
    pid = file.read().strip()
    return f"process {pid}" if pid.isdigit() else "another process"


def _in_use(folder: Path, holder: str) -> str:
    return (
        f"{folder} is in use by another training run ({holder}): wait for it to finish, or "
        "choose another output folder"
    )


def remove_stale_temporaries(folder: str | Path) -> list[str]:
    """Delete the temporary files of interrupted atomic writes in `folder`; return their names.

    Call it only while holding the folder's `RunLock`: another run's save could be under way.
    """
    removed = []
    for path in sorted(Path(folder).glob(".*.tmp")):
        if path.is_file() and _TEMPORARY.fullmatch(path.name):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def write_atomic(path: str | Path, write) -> None:
    """Run ``write(binary_file)`` on a temporary file next to `path`, then rename it over `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with tmp.open("xb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace `path` by `text` (UTF-8) atomically."""
    write_atomic(path, lambda file: file.write(text.encode("utf-8")))


def copy_atomic(source: str | Path, path: str | Path) -> None:
    """Replace `path` by a copy of `source` atomically."""
    with Path(source).open("rb") as original:
        write_atomic(path, lambda file: shutil.copyfileobj(original, file))
