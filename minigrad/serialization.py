"""Checkpoints without pickle: ``minigrad.save(obj, path)`` and ``minigrad.load(path)``.

A checkpoint is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: 8 bytes
giving the length of a JSON header (little-endian), the header (each tensor's dtype, shape and
byte range, plus a string-to-string "__metadata__" table), then the raw little-endian tensor
bytes. PyTorch, JAX and numpy read it with the ``safetensors`` package. The arrays in ``obj``
become tensors named after their place in it (``model.layers.0.weight``, ``step~1`` where two
places would share a name); the structure around them is JSON under the metadata key
``"minigrad"``, with a CRC-32 of each tensor's bytes (safetensors has no checksum)::

    {"format": "minigrad-checkpoint", "version": 2, "crc32": {NAME: CRC, ...}, "root": NODE}

A NODE is a JSON null, boolean, number or string (None, bool, int, float, str), or an object
with one tag: ``{"list": [NODE, ...]}``, ``{"tuple": [...]}``, ``{"dict": [[KEY, NODE], ...]}``
(KEY a string or an integer, so optimizer state dicts keep their integer keys),
``{"array": NAME}`` (the tensor holding it), ``{"tensor": NAME, "requires_grad": false}`` or
``{"scalar": NAME}`` (a numpy scalar such as ``np.float32(1.5)``, a 0-d tensor keeping its dtype).

Safe to load, meaning: loading runs no code from the file (no pickle: JSON and raw numbers
only); nothing is allocated for a size the file declares before that size is checked against
the file's real size (the header is at most `MAX_HEADER_BYTES`, each tensor's dtype and shape
must match its byte range, the byte ranges must tile the file exactly); nothing is
decompressed; the structure nests at most `MAX_DEPTH` containers deep (deeper JSON stops the
parser at Python's recursion limit, or the decoder at `MAX_DEPTH`).
Any file that breaks a rule, or whose tensors fail their checksum, raises `CheckpointError`
naming the file.

Version 1 checkpoints (an uncompressed ``.npz``: one ``.npy`` member per array, the same
structure JSON in the uint8 member ``__minigrad__``, arrays named ``a0``, ``a1``, ...) still load,
through a reader that keeps the same rules: compressed or encrypted members are refused
unread, each member's declared shape and dtype must add up to its size in the zip directory,
which must fit in the file, and pickled (object) arrays are refused.

Writes are atomic: the file is written under a temporary name in the same folder, fsynced,
then renamed over ``path`` (``os.replace``) and the folder is fsynced. A process killed during
a save leaves the previous checkpoint intact (and possibly a stray ``.*.tmp`` file).
"""

from __future__ import annotations

import json
import math
import os
import uuid
import zipfile
import zlib

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from minigrad.tensor import Tensor

FORMAT, VERSION, META = "minigrad-checkpoint", 2, "minigrad"
NPZ_VERSION, NPZ_META = 1, "__minigrad__"

MAX_DEPTH = 64
"""Containers (dicts, lists, tuples) may nest this deep; `save` refuses deeper objects and
`load` deeper metadata."""

MAX_HEADER_BYTES = 16 * 2**20
"""Largest header (tensor table and structure) `load` reads, and `save` writes. Parsing JSON
in Python can take up to 25 times its size in memory (a list of empty dicts), so this caps that
near 400 MB (safetensors' own limit, 100 MB, would allow 2.5 GB). The translation checkpoints
of this project's tests have headers of about 40 kB; a larger vocabulary adds some 10 bytes a
token."""

_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
    "U32": np.uint32, "I32": np.int32, "U64": np.uint64, "I64": np.int64,
    "F16": np.float16, "F32": np.float32, "F64": np.float64, "C64": np.complex64,
}  # fmt: skip
_SAVABLE = {np.dtype(t) for t in _DTYPES.values()}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class CheckpointError(ValueError):
    """A file that is not a loadable minigrad checkpoint (truncated, corrupt, foreign, or
    breaking one of the size and nesting limits); the message names the file."""


# ---- saving -----------------------------------------------------------------------------------
def save(obj, path) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, numbers, strings, bools and
    None) to ``path`` atomically, as a safetensors file, without pickle."""
    path = os.fspath(path)
    tensors: dict[str, np.ndarray] = {}
    root = _encode(obj, tensors, ())
    crcs = {name: zlib.crc32(array) for name, array in tensors.items()}
    structure = json.dumps({"format": FORMAT, "version": VERSION, "crc32": crcs, "root": root})
    data = safetensors.numpy.save(tensors, metadata={META: structure})
    header = int.from_bytes(data[:8], "little")
    if header > MAX_HEADER_BYTES:
        raise ValueError(
            f"save(): the checkpoint's header would take {header} bytes, more than the "
            f"{MAX_HEADER_BYTES} that load() accepts; store long lists of numbers as numpy arrays"
        )
    _atomic_write(path, data)


def _where(path: tuple) -> str:
    return "obj" + "".join(f"[{key!r}]" for key in path)


def _encode(obj, tensors: dict, path: tuple):
    """The JSON node for ``obj`` (found at ``path`` in the saved object); arrays go into
    ``tensors`` under fresh names."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, Tensor):
        return {"tensor": _add(obj.data, tensors, path), "requires_grad": obj.requires_grad}
    if isinstance(obj, np.ndarray):
        return {"array": _add(obj, tensors, path)}
    if isinstance(obj, np.generic):
        return {"scalar": _add(np.asarray(obj), tensors, path)}
    if isinstance(obj, int | float):
        return obj
    if isinstance(obj, list | tuple | dict) and len(path) >= MAX_DEPTH:
        raise ValueError(
            f"save(): {_where(path)[:200]} nests containers more than {MAX_DEPTH} deep "
            "(a list or dict that contains itself?)"
        )
    if isinstance(obj, list | tuple):
        items = [_encode(v, tensors, (*path, i)) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, dict):
        for key in obj:
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(
                    f"save(): dict keys must be str or int, got {key!r} in {_where(path)}"
                )
        return {"dict": [[k, _encode(v, tensors, (*path, k))] for k, v in obj.items()]}
    raise TypeError(
        f"save(): cannot store a {type(obj).__name__} at {_where(path)} (supported: dict, list, "
        "tuple, Tensor, numpy array or scalar, int, float, str, bool, None)"
    )


def _add(array: np.ndarray, tensors: dict, path: tuple) -> str:
    """Store ``array`` under a fresh name derived from ``path``; return the name."""
    if array.dtype.hasobject:
        raise TypeError(
            f"save(): {_where(path)} is an object array, which cannot be stored without pickle"
        )
    if array.dtype.newbyteorder("=") not in _SAVABLE:
        raise TypeError(
            f"save(): {_where(path)} has dtype {array.dtype}, which a checkpoint cannot hold "
            "(supported: bool, int8-64, uint8-64, float16/32/64, complex64)"
        )
    base = ".".join(str(key) for key in path) or "root"
    name, n = base, 0
    while name in tensors or name == "__metadata__":  # the one name safetensors reserves
        n += 1
        name = f"{base}~{n}"
    # little-endian and contiguous, as written: safetensors would write a strided view wrongly
    tensors[name] = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)
    return name


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to a new temporary file next to ``path``, flush it to disk, then rename it
    over ``path``: a reader sees the old file or the new one, never a partial one."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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
    """Read a checkpoint written by `save` (or a version 1 ``.npz`` one) without running code
    from it. A truncated, corrupt, foreign or oversized file raises `CheckpointError`; a
    missing one raises `FileNotFoundError`."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(9)
        size = os.fstat(f.fileno()).st_size
    if head[:4] in _ZIP_MAGIC:
        return _load_npz(path, size)
    if len(head) == 9 and head[8:] == b"{":
        return _load_safetensors(path, size, int.from_bytes(head[:8], "little"))
    what = "an empty file" if not head else f"it starts with {head!r}, neither safetensors nor .npz"
    raise CheckpointError(f"{path}: not a minigrad checkpoint ({what})")


def _load_safetensors(path: str, size: int, header: int):
    """Read a version 2 checkpoint whose first 8 bytes declare a ``header``-byte header."""
    if header > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"{path}: its header declares {header} bytes, more than the {MAX_HEADER_BYTES} "
            "a checkpoint may have"
        )
    if 8 + header > size:
        raise CheckpointError(
            f"{path}: corrupt or truncated checkpoint (its header declares {header} bytes, "
            f"the file has {size})"
        )
    try:
        with safe_open(path, framework="np") as f:  # checks every tensor's range against the file
            structure = (f.metadata() or {}).get(META)
            if structure is None:
                raise CheckpointError(
                    f"{path}: a safetensors file without minigrad's structure metadata: not "
                    "written by minigrad.save (safetensors.numpy.load_file reads its tensors)"
                )
            meta = _parse_structure(structure, VERSION, path)
            crcs = meta.get("crc32")
            if not isinstance(crcs, dict):
                raise CheckpointError(f"{path}: its metadata lacks the tensors' checksums")
            names = set(f.keys())

            def read(name) -> np.ndarray:
                if not isinstance(name, str) or name not in names:
                    raise CheckpointError(f"{path}: metadata refers to a missing tensor {name!r}")
                dtype = f.get_slice(name).get_dtype()
                if dtype not in _DTYPES:
                    raise CheckpointError(
                        f"{path}: tensor {name!r} has dtype {dtype}, which minigrad cannot load"
                    )
                try:
                    array = f.get_tensor(name)
                except ValueError as error:
                    raise CheckpointError(f"{path}: tensor {name!r}: {error}") from None
                if zlib.crc32(array) != crcs.get(name):
                    raise CheckpointError(f"{path}: tensor {name!r} is corrupt (bad checksum)")
                return array

            return _decode(meta.get("root"), read, path)
    except SafetensorError as error:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({error})") from None


def _load_npz(path: str, size: int):
    """Read a version 1 checkpoint, checking every size before reading or allocating."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = {}
            for info in zf.infolist():
                _check_member(info, size, path)
                members[info.filename] = info
            meta = members.get(NPZ_META + ".npy")
            if meta is None:
                raise CheckpointError(
                    f"{path}: a .npz file without '{NPZ_META}' metadata: not written by "
                    "minigrad.save"
                )
            if meta.file_size > MAX_HEADER_BYTES:
                raise CheckpointError(
                    f"{path}: its metadata has {meta.file_size} bytes, more than the "
                    f"{MAX_HEADER_BYTES} a checkpoint may have"
                )
            structure = _read_npy(zf, meta, path).tobytes().decode("utf-8")
            root = _parse_structure(structure, NPZ_VERSION, path).get("root")

            def read(name) -> np.ndarray:
                info = members.get(f"{name}.npy") if isinstance(name, str) else None
                if info is None or info is meta:
                    raise CheckpointError(f"{path}: metadata refers to a missing array {name!r}")
                return _read_npy(zf, info, path)

            return _decode(root, read, path)
    except CheckpointError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({error})") from None


def _check_member(info: zipfile.ZipInfo, size: int, path: str) -> None:
    """Refuse a zip member that is compressed, encrypted or larger than the file holding it."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise CheckpointError(
            f"{path}: member {info.filename!r} is compressed; minigrad never wrote compressed "
            "checkpoints, and compressed members are refused rather than expanded"
        )
    if info.flag_bits & 0x1:
        raise CheckpointError(f"{path}: member {info.filename!r} is encrypted")
    if info.file_size != info.compress_size or info.header_offset + info.file_size > size:
        raise CheckpointError(
            f"{path}: corrupt or truncated checkpoint (member {info.filename!r} declares "
            f"{info.file_size} bytes; the file has {size})"
        )


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> np.ndarray:
    """One ``.npy`` member, after checking that its header's shape and dtype match its size."""
    fmt = np.lib.format
    with zf.open(info) as f:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise CheckpointError(f"{path}: member {info.filename!r} has .npy version {version}")
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(f)
        if dtype.hasobject:
            raise CheckpointError(
                f"{path}: member {info.filename!r} contains pickled (object) data, which is "
                "refused: loading it could run code"
            )
        declared = math.prod(shape) * dtype.itemsize
        if min(shape, default=0) < 0 or f.tell() + declared != info.file_size:
            raise CheckpointError(
                f"{path}: corrupt checkpoint (member {info.filename!r} declares shape "
                f"{shape} of {dtype}, {declared} bytes, but holds {info.file_size - f.tell()})"
            )
    with zf.open(info) as f:
        return fmt.read_array(f, allow_pickle=False)


def _parse_structure(text: str, version: int, path: str) -> dict:
    """The structure JSON ``text`` as a dict, after checking its size, format and version."""
    if len(text) > MAX_HEADER_BYTES:
        raise CheckpointError(f"{path}: its metadata is larger than {MAX_HEADER_BYTES} bytes")
    try:
        meta = json.loads(text)
    except RecursionError:  # json stops cleanly at the recursion limit, long before the stack
        raise CheckpointError(_too_deep(path)) from None
    except ValueError as error:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown metadata format, not a minigrad checkpoint")
    if meta.get("version") != version:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('version')!r} is not supported here "
            f"(this minigrad reads version {VERSION} safetensors files and version "
            f"{NPZ_VERSION} .npz files)"
        )
    return meta


def _too_deep(path: str) -> str:
    return f"{path}: its metadata nests more than {MAX_DEPTH} containers deep"


def _decode(node, read, path: str, depth: int = 0):
    """Rebuild the object described by a JSON node inside ``depth`` containers; ``read(name)``
    gives a stored array."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((tag, value),) = node.items()
        if tag in ("list", "tuple", "dict") and depth >= MAX_DEPTH:
            raise CheckpointError(_too_deep(path))
        if tag in ("list", "tuple") and isinstance(value, list):
            items = [_decode(v, read, path, depth + 1) for v in value]
            return tuple(items) if tag == "tuple" else items
        pairs = tag == "dict" and isinstance(value, list)
        if pairs and all(isinstance(item, list) and len(item) == 2 for item in value):
            return {_key(k, path): _decode(v, read, path, depth + 1) for k, v in value}
        if tag == "array":
            return read(value)
        if tag == "scalar":
            array = read(value)
            if array.ndim == 0:
                return array[()]
    elif isinstance(node, dict) and node.keys() == {"tensor", "requires_grad"}:
        array, requires_grad = read(node["tensor"]), node["requires_grad"]
        if requires_grad is False or (requires_grad is True and array.dtype.kind == "f"):
            return Tensor._wrap(array).requires_grad_(requires_grad)
    raise CheckpointError(f"{path}: malformed metadata node {str(node)[:80]}")


def _key(key, path: str):
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise CheckpointError(f"{path}: malformed metadata: dict key {key!r}")
    return key
