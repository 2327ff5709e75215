"""minigrad.save / minigrad.load: round trips, safetensors files, version 1 .npz files, atomic
writes, and hostile files refused quickly with a CheckpointError naming them."""

import json
import math
import os
import signal
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import minigrad
from minigrad import serialization
from minigrad.serialization import MAX_DEPTH, MAX_HEADER_BYTES, CheckpointError

SAVABLE_DTYPES = [
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64,
]  # fmt: skip


def _assert_same(a, b, where="obj"):
    """Deep equality that also checks types and dtypes (NaN equals NaN)."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, minigrad.Tensor):
        assert a.requires_grad == b.requires_grad, where
        _assert_same(a.numpy(), b.numpy(), where)
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype.newbyteorder("=") == b.dtype and np.shape(a) == np.shape(b), where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def _nested(depth: int, leaf):
    """``leaf`` inside ``depth`` nested dicts."""
    for _ in range(depth):
        leaf = {"x": leaf}
    return leaf


# ---- round trips ------------------------------------------------------------------------------
def test_round_trip_of_nested_structures_with_every_dtype(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        np.dtype(dt).name: (rng.standard_normal((3, 2)) * 50).astype(dt) for dt in SAVABLE_DTYPES
    }
    obj = {
        "arrays": arrays,
        "odd arrays": [
            np.arange(6.0).reshape(2, 3).T,  # not contiguous
            np.asfortranarray(np.ones((2, 3), np.float32)),
            np.arange(10)[::-3],  # negative strides
            np.arange(4, dtype=">i4"),  # big-endian: comes back little-endian, same values
            np.array(3.5),  # 0-d
            np.zeros((0, 4), np.int64),
        ],
        "scalars": [np.float32(1.25), np.int64(-3), np.bool_(True), np.float16(0.5)],
        "numbers": [0, -(2**70), 1.5, float("inf"), float("nan"), -0.0, True, False, None],
        "strings": ["", "héllo", '{"array": "a0"}', "[[[{{{"],
        "tuple": (1, (2, "three")),
        "int keys": {0: "zero", 7: [1]},
        "tensor": minigrad.tensor([1.0, 2.0], requires_grad=True),
        "int tensor": minigrad.tensor([1, 2]),
        "empty": {"list": [], "dict": {}, "tuple": ()},
        "data": {"path": "data/x.tsv", "fingerprint": {"sha256": "ab12", "lines": 3}},
    }
    path = tmp_path / "everything.ckpt"
    minigrad.save(obj, path)
    _assert_same(obj, minigrad.load(path))
    assert minigrad.load(str(path))["tensor"].grad is None


def test_model_state_dict_round_trip(tmp_path):
    model = minigrad.nn.Sequential(minigrad.nn.Linear(3, 4), minigrad.nn.LayerNorm(4))
    minigrad.save(model.state_dict(), tmp_path / "m.ckpt")
    other = minigrad.nn.Sequential(minigrad.nn.Linear(3, 4), minigrad.nn.LayerNorm(4))
    other.load_state_dict(minigrad.load(tmp_path / "m.ckpt"))
    for p, q in zip(model.parameters(), other.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_loaded_arrays_are_writable_copies(tmp_path):
    minigrad.save({"m": np.zeros(3)}, tmp_path / "c.ckpt")
    first = minigrad.load(tmp_path / "c.ckpt")["m"]
    first += 1  # optimizer state may be updated in place
    np.testing.assert_array_equal(minigrad.load(tmp_path / "c.ckpt")["m"], np.zeros(3))


def test_the_file_is_plain_safetensors_named_by_place(tmp_path):
    path = tmp_path / "m.ckpt"
    state = {
        "model": {"layer.weight": np.ones((2, 3), np.float32), "layer.bias": np.zeros(2)},
        "step": 7,
        "model.layer.bias": np.arange(2),  # the same name as a place above: gets a suffix
        "__metadata__": np.ones(1),  # the one name safetensors reserves
    }
    minigrad.save(state, path)
    tensors = safetensors.numpy.load_file(path)
    assert sorted(tensors) == [
        "__metadata__~1", "model.layer.bias", "model.layer.bias~1", "model.layer.weight",
    ]  # fmt: skip
    np.testing.assert_array_equal(tensors["model.layer.weight"], np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(tensors["model.layer.bias~1"], np.arange(2))
    with safetensors.safe_open(path, framework="np") as f:
        meta = json.loads(f.metadata()["minigrad"])
    assert meta["format"] == "minigrad-checkpoint" and meta["version"] == 2
    _assert_same(state, minigrad.load(path))


def test_nesting_up_to_the_limit_round_trips_and_deeper_is_refused(tmp_path):
    deepest = _nested(MAX_DEPTH - 1, [minigrad.tensor([1.0], requires_grad=True)])
    minigrad.save(deepest, tmp_path / "deep.ckpt")
    _assert_same(deepest, minigrad.load(tmp_path / "deep.ckpt"))
    with pytest.raises(ValueError, match=f"more than {MAX_DEPTH} deep"):
        minigrad.save(_nested(MAX_DEPTH, []), tmp_path / "deeper.ckpt")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        minigrad.save(loop, tmp_path / "loop.ckpt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.ckpt"]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"f": len}, r"builtin_function_or_method at obj\['f'\]"),
        ([np.array([object()])], r"obj\[0\] is an object array"),
        ({"s": np.array(["ab", "cd"])}, r"obj\['s'\] has dtype <U2, which a checkpoint cannot"),
        ({"c": np.ones(2, np.complex128)}, "dtype complex128"),
        ({"b": [np.array([b"x"])]}, r"obj\['b'\]\[0\] has dtype \|S1"),
        ({(1, 2): 3}, "dict keys must be str or int"),
        ({1.5: 3}, "dict keys must be str or int"),
    ],
)
def test_unsupported_objects_are_refused_and_leave_no_file(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        minigrad.save(obj, tmp_path / "x.ckpt")
    assert list(tmp_path.iterdir()) == []


def test_a_header_larger_than_load_accepts_is_refused_at_save(tmp_path):
    path = tmp_path / "ckpt.ckpt"
    minigrad.save({"step": 1}, path)
    with pytest.raises(ValueError, match="store long lists of numbers as numpy arrays"):
        minigrad.save({"history": ["x" * 1000] * (MAX_HEADER_BYTES // 1000)}, path)
    assert minigrad.load(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.ckpt"]


# ---- atomic writes ----------------------------------------------------------------------------
def test_a_failing_save_keeps_the_previous_checkpoint_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.ckpt"
    minigrad.save({"step": 1}, path)

    def disk_full(fd):  # the new file is written, but cannot be flushed to disk
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="disk full"):
        minigrad.save({"step": 2}, path)
    assert minigrad.load(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.ckpt"]


_CHILD = """
import sys
import numpy as np
import minigrad
arrays = [np.full(4_000_000, value, np.float64) for value in (1.0, 2.0)]  # 32 MB each
version = 1
while True:  # save new versions back to back until killed: almost always mid-save
    minigrad.save({"version": version, "w": arrays[version % 2]}, sys.argv[1])
    version += 1
"""


def test_sigkill_during_a_large_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    path = tmp_path / "ckpt.ckpt"
    minigrad.save({"version": 0, "w": np.zeros(10)}, path)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for a half-written temporary file
            partial = [p for p in tmp_path.glob(".ckpt.ckpt.*.tmp") if p.stat().st_size > 0]
            if partial:
                break
            assert child.poll() is None, "the saving process died by itself"
            time.sleep(0.001)
        else:
            pytest.fail("the child never started writing")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    leftovers = list(tmp_path.glob(".ckpt.ckpt.*.tmp"))
    assert leftovers, "the kill should have interrupted a save"
    state = minigrad.load(path)  # the last complete version, whole
    version = state["version"]
    expected = np.zeros(10) if version == 0 else np.full(4_000_000, 1.0 + version % 2)
    np.testing.assert_array_equal(state["w"], expected)


# ---- version 1 (.npz) checkpoints -------------------------------------------------------------
def _meta(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _save_v1(path, root, **arrays) -> None:
    """Write a checkpoint as the version 1 writer did: np.savez, structure JSON as a member."""
    meta = json.dumps({"format": "minigrad-checkpoint", "version": 1, "root": root})
    np.savez(path, allow_pickle=False, __minigrad__=_meta(meta), **arrays)


def test_version_1_npz_checkpoints_still_load(tmp_path):
    path = tmp_path / "old.npz"
    root = {
        "dict": [
            ["w", {"tensor": "a0", "requires_grad": True}],
            [0, {"list": [{"array": "a1"}, {"scalar": "a2"}, None, 1.5, "x"]}],
            ["t", {"tuple": [{"array": "a3"}, {"array": "a4"}]}],
        ]
    }
    _save_v1(
        path, root, a0=np.ones((2, 2), np.float32), a1=np.arange(3), a2=np.array(np.float16(2)),
        a3=np.array(["ab", "ünï"]), a4=np.ones(2, np.complex128),
    )  # fmt: skip
    loaded = minigrad.load(path)
    assert loaded["w"].requires_grad and loaded["w"].dtype == np.float32
    _assert_same(loaded[0], [np.arange(3), np.float16(2), None, 1.5, "x"])
    _assert_same(loaded["t"], (np.array(["ab", "ünï"]), np.ones(2, np.complex128)))
    loaded["w"].data += 1  # writable
    minigrad.save({"w": loaded["w"], 0: loaded[0]}, tmp_path / "new.ckpt")  # converting
    _assert_same({"w": loaded["w"], 0: loaded[0]}, minigrad.load(tmp_path / "new.ckpt"))


def test_flipped_bytes_in_an_npz_are_detected(tmp_path):
    path = tmp_path / "good.npz"
    _save_v1(path, {"array": "a0"}, a0=np.arange(1000.0))
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the array data: the zip CRC catches it
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="good.npz"):
        minigrad.load(path)


class _Payload:
    """Unpickling this object creates a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickled_object_array_cannot_run_code(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.npz"
    meta = '{"format": "minigrad-checkpoint", "version": 1, "root": {"array": "a0"}}'
    evil = np.array([_Payload(marker)], dtype=object)
    np.savez(path, allow_pickle=True, a0=evil, __minigrad__=_meta(meta))
    with pytest.raises(CheckpointError, match="pickled"):
        minigrad.load(path)
    assert not marker.exists()
    with np.load(path, allow_pickle=True) as npz:  # the payload is real: pickle would run it
        npz["a0"]
    assert marker.exists()
    os.remove(marker)


# ---- hostile and broken files -----------------------------------------------------------------
def _refused_quickly(path, match: str) -> CheckpointError:
    """Load ``path``: a CheckpointError naming it and matching ``match``, within 1 s and
    without allocating more than 20 MB."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CheckpointError, match=match) as info:
            minigrad.load(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)
    assert seconds < 1.0, f"took {seconds:.2f} s"
    assert peak < 20e6, f"allocated {peak / 1e6:.0f} MB"
    return info.value


def _safetensors_file(path, header: dict, data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def _structure(root, crc32=None, version=2) -> str:
    meta = {"format": "minigrad-checkpoint", "version": version, "crc32": crc32 or {}}
    return json.dumps({**meta, "root": root})


@pytest.fixture
def good_file(tmp_path) -> Path:
    path = tmp_path / "good.ckpt"
    minigrad.save({"w": np.arange(1000.0), "name": "model"}, path)
    return path


@pytest.mark.parametrize("keep", [0.0001, 0.01, 0.5, 0.99, -1])
def test_truncated_file_gives_a_checkpoint_error_naming_it(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[: int(len(data) * keep)] if keep > 0 else data[:-1])
    _refused_quickly(good_file, "corrupt or truncated|not a minigrad checkpoint")


def test_flipped_bytes_fail_the_checksum(good_file):
    data = bytearray(good_file.read_bytes())
    data[-100] ^= 0xFF  # inside the array data: safetensors has no checksum, ours catches it
    good_file.write_bytes(bytes(data))
    _refused_quickly(good_file, "tensor 'w' is corrupt")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "neither"),
        (b"PK\x03\x04" + bytes(100), "corrupt or truncated"),
        (struct.pack("<Q", 2**40) + b"{}", "header declares 1099511627776 bytes, more than"),
        (struct.pack("<Q", 1000) + b"{}", "header declares 1000 bytes, the file has 10"),
        (struct.pack("<Q", 2) + b"{]", "corrupt or truncated"),
    ],
)
def test_foreign_bytes_give_a_checkpoint_error(tmp_path, content, message):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    _refused_quickly(path, message)


def test_files_not_written_by_minigrad_are_refused(tmp_path):
    safetensors.numpy.save_file({"w": np.ones(3)}, tmp_path / "hf.safetensors", {"format": "pt"})
    _refused_quickly(tmp_path / "hf.safetensors", "not written by minigrad.save")
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    _refused_quickly(tmp_path / "plain.npz", "not written by minigrad.save")
    np.save(tmp_path / "plain.npy", np.ones(3))
    _refused_quickly(tmp_path / "plain.npy", "not a minigrad checkpoint")
    with pytest.raises(FileNotFoundError):
        minigrad.load(tmp_path / "missing.ckpt")


def test_a_compressed_npz_bomb_is_refused_without_expanding_it(tmp_path):
    # 1 GiB of zeros deflated to about 1 MB, in a zip written by hand (compressing for real would
    # take seconds): a valid archive that numpy.load would expand in full.
    header = _npy_header("<f8", 2**27)
    zeros = bytes(2**20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)  # the same for every MiB
    stream = first + block * 1024 + packer.flush()
    crc = zlib.crc32(header)
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    path = tmp_path / "bomb.npz"
    _write_zip(path, b"a0.npy", stream, crc, len(header) + 2**30, compressed=True)
    with zipfile.ZipFile(path) as zf:  # a valid zip: only the sizes and the compression matter
        assert zf.getinfo("a0.npy").file_size == 2**30 + 128
    assert path.stat().st_size < 1.5e6
    _refused_quickly(path, "member 'a0.npy' is compressed")


def _npy_header(descr: str, length: int) -> bytes:
    """The 128-byte header of a version 1.0 .npy file holding a 1-d array."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({length},), }}"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + text.encode().ljust(117) + b"\n"


def _write_zip(path, name: bytes, data: bytes, crc: int, size: int, compressed: bool) -> None:
    """A zip archive holding one member whose bytes are ``data`` (already deflated when
    ``compressed``), declaring ``size`` bytes and CRC ``crc`` once expanded."""
    method = 8 if compressed else 0
    fields = (20, 0, method, 0, 0, crc, len(data), size, len(name))
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, 0) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0, 0) + name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0
    )
    path.write_bytes(local + data + central + end)


def test_an_npz_member_declaring_a_trillion_elements_is_refused(tmp_path):
    path = tmp_path / "huge.npz"
    npy = _npy_header("<f4", 10**12) + bytes(16)
    meta = '{"format": "minigrad-checkpoint", "version": 1, "root": {"array": "a0"}}'
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a0.npy", npy)
        with zf.open("__minigrad__.npy", "w") as f:
            np.lib.format.write_array(f, _meta(meta))
    _refused_quickly(path, r"declares shape \(1000000000000,\) of float32, 4000000000000 bytes")


def test_an_npz_member_larger_than_the_file_is_refused(tmp_path):
    path = tmp_path / "lying.npz"
    _write_zip(path, b"__minigrad__.npy", bytes(10), 0, 10, compressed=False)
    data = bytearray(path.read_bytes())
    central = 30 + len(b"__minigrad__.npy") + 10
    for offset in (18, 22, central + 20, central + 24):  # both sizes, in both records
        data[offset : offset + 4] = struct.pack("<L", 2**31)
    path.write_bytes(bytes(data))
    _refused_quickly(path, "declares 2147483648 bytes")


@pytest.mark.parametrize("container", ["safetensors", "npz"])
@pytest.mark.parametrize("depth", [50_000, MAX_DEPTH + 1])  # stopped by the parser, the decoder
def test_metadata_nested_too_deep_is_refused(tmp_path, container, depth):
    root = '{"list": [' * depth + "]}" * depth
    text = '{"format": "minigrad-checkpoint", "version": 2, "crc32": {}, "root": ' + root + "}"
    path = tmp_path / f"deep.{container}"
    if container == "npz":
        np.savez(path, __minigrad__=_meta(text.replace('"version": 2', '"version": 1')))
    else:
        _safetensors_file(path, {"__metadata__": {"minigrad": text}})
    _refused_quickly(path, f"metadata nests more than {MAX_DEPTH} containers deep")


def test_a_safetensors_header_nested_50000_deep_is_refused(tmp_path):
    path = tmp_path / "deep.ckpt"
    raw = b'{"w": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    _refused_quickly(path, "corrupt or truncated")


def test_tensor_offsets_past_the_end_of_the_file_are_refused(tmp_path):
    structure = _structure({"array": "w"})
    header = {
        "__metadata__": {"minigrad": structure},
        "w": {"dtype": "F32", "shape": [10**12], "data_offsets": [0, 4 * 10**12]},
    }
    path = _safetensors_file(tmp_path / "past.ckpt", header, bytes(16))
    _refused_quickly(path, "corrupt or truncated")


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ({"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}, "dtype BF16, which minigrad"),
        ({"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}, "dtype F8_E4M3"),
        ({"dtype": "F32", "shape": [0, 2**62], "data_offsets": [0, 0]}, "tensor 'w'"),
        ({"dtype": "F32", "shape": [3], "data_offsets": [0, 4]}, "corrupt or truncated"),
    ],
)
def test_tensors_minigrad_cannot_load_are_refused(tmp_path, tensor, message):
    end = tensor["data_offsets"][1]
    structure = _structure({"array": "w"}, {"w": zlib.crc32(bytes(end))})
    header = {"__metadata__": {"minigrad": structure}, "w": tensor}
    _refused_quickly(_safetensors_file(tmp_path / "w.ckpt", header, bytes(end)), message)


@pytest.mark.parametrize(
    ("name", "root", "message"),
    [
        ("missing", {"array": "nope"}, "missing tensor 'nope'"),
        ("node", {"set": [1]}, "malformed metadata node"),
        ("list", {"list": "abc"}, "malformed metadata node"),
        ("pairs", {"dict": [["a", 1, 2]]}, "malformed metadata node"),
        ("key", {"dict": [[[1], 1]]}, "dict key"),
        ("scalar", {"scalar": "w"}, "malformed metadata node"),
        ("grad", {"tensor": "i", "requires_grad": True}, "malformed metadata node"),
        ("flag", {"tensor": "w", "requires_grad": "yes"}, "malformed metadata node"),
        ("top", [1], "malformed metadata node"),
    ],
)
def test_malformed_structures_are_refused(tmp_path, name, root, message):
    arrays = {"w": np.ones(3), "i": np.arange(2)}
    crcs = {k: zlib.crc32(v) for k, v in arrays.items()}
    path = tmp_path / f"{name}.ckpt"
    safetensors.numpy.save_file(arrays, path, {"minigrad": _structure(root, crcs)})
    _refused_quickly(path, message)
    _save_v1(tmp_path / f"{name}.npz", root, **arrays)
    _refused_quickly(tmp_path / f"{name}.npz", message.replace("tensor", "array"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "corrupt checkpoint metadata"),
        ('{"format": "other", "version": 2}', "unknown metadata format"),
        ('{"format": "minigrad-checkpoint", "version": 99}', "version 99 is not supported"),
        ('{"format": "minigrad-checkpoint", "version": 1}', "version 1 is not supported"),
        ('{"format": "minigrad-checkpoint", "version": 2, "root": 1}', "lacks the tensors' check"),
    ],
)  # fmt: skip
def test_malformed_metadata_is_refused(tmp_path, text, message):
    path = _safetensors_file(tmp_path / "meta.ckpt", {"__metadata__": {"minigrad": text}})
    _refused_quickly(path, message)


def test_oversized_npz_metadata_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 1000)
    _save_v1(tmp_path / "big.npz", {"list": ["x" * 2000]})
    _refused_quickly(tmp_path / "big.npz", "metadata has 2[0-9]+ bytes, more than the 1000")


def test_saved_files_follow_the_umask_like_any_other_file(tmp_path):
    previous = os.umask(0o022)
    try:
        minigrad.save({"w": np.ones(3)}, tmp_path / "a.ckpt")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.ckpt").stat().st_mode) == 0o644
