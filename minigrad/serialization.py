"""Checkpoints without pickle: ``minigrad.save(obj, path)`` and ``minigrad.load(path)``.

Why not pickle: loading a pickle runs code chosen by whoever wrote the file. A minigrad
checkpoint is an uncompressed ``.npz`` (a zip of ``.npy`` arrays) that numpy reads with
``allow_pickle=False``; the structure around the arrays is JSON stored inside the same zip,
as the uint8 array ``__minigrad__``::

    {"format": "minigrad-checkpoint", "version": 1, "root": NODE}

A NODE is a JSON null, boolean, number or string (None, bool, int, float, str), or an object
with one tag: ``{"list": [NODE, ...]}``, ``{"tuple": [...]}``, ``{"dict": [[KEY, NODE], ...]}``
(KEY a string or an integer, so optimizer state dicts keep their integer keys),
``{"array": "a0"}`` (the member holding it), ``{"tensor": "a1", "requires_grad": false}`` or
``{"scalar": "a2"}`` (a numpy scalar such as ``np.float32(1.5)``, kept with its dtype).

Writes are atomic: the file is written under a temporary name in the same folder, flushed and
fsynced, then renamed over ``path`` (``os.replace``) and the folder is fsynced. A process killed
during a save leaves the previous checkpoint intact (and possibly a stray ``.*.tmp`` file).
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile

import numpy as np

from minigrad.tensor import Tensor

FORMAT, VERSION, META = "minigrad-checkpoint", 1, "__minigrad__"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint (truncated, corrupt or foreign)."""


# ---- saving -----------------------------------------------------------------------------------
def save(obj, path) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, numbers, strings, bools and
    None) to ``path`` atomically, without pickle."""
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    root = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "root": root}).encode("utf-8")
    arrays[META] = np.frombuffer(meta, dtype=np.uint8)
    _atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))


def _encode(obj, arrays: dict, where: str):
    """The JSON node for ``obj``; arrays go into ``arrays`` under fresh member names."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, Tensor):
        return {"tensor": _add(obj.data, arrays, where), "requires_grad": obj.requires_grad}
    if isinstance(obj, np.ndarray):
        return {"array": _add(obj, arrays, where)}
    if isinstance(obj, np.generic):
        return {"scalar": _add(np.asarray(obj), arrays, where)}
    if isinstance(obj, int | float):
        return obj
    if isinstance(obj, list | tuple):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, dict):
        for key in obj:
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(f"save(): dict keys must be str or int, got {key!r} in {where}")
        return {"dict": [[k, _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]}
    raise TypeError(
        f"save(): cannot store a {type(obj).__name__} at {where} (supported: dict, list, tuple, "
        "Tensor, numpy array or scalar, int, float, str, bool, None)"
    )


def _add(array: np.ndarray, arrays: dict, where: str) -> str:
    if array.dtype.hasobject:
        raise TypeError(
            f"save(): {where} is an object array, which cannot be stored without pickle"
        )
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


def _atomic_write(path: str, write) -> None:
    """Run ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for a normal open()
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX). The rename is already atomic without it, so a file
    system that cannot fsync a folder is not an error."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- loading ----------------------------------------------------------------------------------
def load(path):
    """Read a checkpoint written by `save`. Never unpickles: a file holding pickled (object)
    data is refused. A truncated, corrupt or foreign file raises `CheckpointError`."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head not in _ZIP_MAGIC:
        what = "an empty file" if not head else f"starts with {head!r}, not a zip/.npz file"
        raise CheckpointError(f"{path}: not a minigrad checkpoint ({what})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if META not in npz.files:
                raise CheckpointError(
                    f"{path}: a .npz file without '{META}' metadata: not written by minigrad.save"
                )
            meta = json.loads(bytes(npz[META]).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"{path}: unknown metadata format, not a minigrad checkpoint")
            if meta.get("version") != VERSION:
                raise CheckpointError(
                    f"{path}: checkpoint format version {meta.get('version')} is not supported "
                    f"(this minigrad reads version {VERSION})"
                )
            return _decode(meta.get("root"), npz, path)
    except CheckpointError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        reason = str(e)
        if "allow_pickle" in reason or "pickled" in reason:
            reason = (
                "it contains pickled (object) data, which is refused: loading it could run code"
            )
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({reason})") from e


def _decode(node, npz, path: str):
    """Rebuild the object described by a JSON node."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, dict) and len(node) in (1, 2):
        if "list" in node:
            return [_decode(v, npz, path) for v in node["list"]]
        if "tuple" in node:
            return tuple(_decode(v, npz, path) for v in node["tuple"])
        if "dict" in node:
            return {_key(k, path): _decode(v, npz, path) for k, v in node["dict"]}
        if "array" in node:
            return _member(npz, node["array"], path)
        if "scalar" in node:
            return _member(npz, node["scalar"], path)[()]
        if "tensor" in node:
            t = Tensor._wrap(_member(npz, node["tensor"], path))
            return t.requires_grad_(True) if node.get("requires_grad") else t
    raise CheckpointError(f"{path}: malformed metadata node {str(node)[:80]}")


def _key(key, path: str):
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise CheckpointError(f"{path}: malformed metadata: dict key {key!r}")
    return key


def _member(npz, name, path: str) -> np.ndarray:
    if not isinstance(name, str) or name == META or name not in npz.files:
        raise CheckpointError(f"{path}: metadata refers to a missing array {name!r}")
    return npz[name]
