"""minigrad.save / minigrad.load: round trips, atomic writes, clear errors, no pickle."""

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.serialization import CheckpointError

ALL_DTYPES = [
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128,
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
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def test_round_trip_of_nested_structures_with_every_dtype(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {np.dtype(dt).name: (rng.standard_normal((3, 2)) * 50).astype(dt) for dt in ALL_DTYPES}
    obj = {
        "arrays": arrays,
        "odd arrays": [
            np.arange(6.0).reshape(2, 3).T,  # not contiguous
            np.asfortranarray(np.ones((2, 3), np.float32)),
            np.array(3.5),  # 0-d
            np.zeros((0, 4), np.int64),
            np.array(["ab", "ünï"]),
            np.array([b"x", b"yz"]),
        ],
        "scalars": [np.float32(1.25), np.int64(-3), np.bool_(True), np.float16(0.5)],
        "numbers": [0, -(2**70), 1.5, float("inf"), float("nan"), -0.0, True, False, None],
        "strings": ["", "héllo", '{"array": "a0"}'],
        "tuple": (1, (2, "three")),
        "int keys": {0: "zero", 7: [1]},
        "tensor": minigrad.tensor([1.0, 2.0], requires_grad=True),
        "int tensor": minigrad.tensor([1, 2]),
        "empty": {"list": [], "dict": {}, "tuple": ()},
    }
    path = tmp_path / "everything.ckpt"
    minigrad.save(obj, path)
    _assert_same(obj, minigrad.load(path))
    assert minigrad.load(str(path))["tensor"].grad is None


def test_model_state_dict_round_trip(tmp_path):
    model = minigrad.nn.Sequential(minigrad.nn.Linear(3, 4), minigrad.nn.LayerNorm(4))
    minigrad.save(model.state_dict(), tmp_path / "m.npz")
    other = minigrad.nn.Sequential(minigrad.nn.Linear(3, 4), minigrad.nn.LayerNorm(4))
    other.load_state_dict(minigrad.load(tmp_path / "m.npz"))
    for p, q in zip(model.parameters(), other.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"f": len}, r"builtin_function_or_method at obj\['f'\]"),
        ([np.array([object()])], r"obj\[0\] is an object array"),
        ({(1, 2): 3}, "dict keys must be str or int"),
        ({1.5: 3}, "dict keys must be str or int"),
    ],
)
def test_unsupported_objects_are_refused_and_leave_no_file(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        minigrad.save(obj, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


# ---- atomic writes ----------------------------------------------------------------------------
def test_a_failing_save_keeps_the_previous_checkpoint_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    minigrad.save({"step": 1}, path)

    def broken_savez(*args, **kwargs):
        args[0].write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        minigrad.save({"step": 2}, path)
    assert minigrad.load(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


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
    path = tmp_path / "ckpt.npz"
    minigrad.save({"version": 0, "w": np.zeros(10)}, path)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for a half-written temporary file
            partial = [p for p in tmp_path.glob(".ckpt.npz.*.tmp") if p.stat().st_size > 0]
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
    leftovers = list(tmp_path.glob(".ckpt.npz.*.tmp"))
    assert leftovers, "the kill should have interrupted a save"
    state = minigrad.load(path)  # the last complete version, whole
    version = state["version"]
    expected = np.zeros(10) if version == 0 else np.full(4_000_000, 1.0 + version % 2)
    np.testing.assert_array_equal(state["w"], expected)


# ---- clear errors -----------------------------------------------------------------------------
@pytest.fixture
def good_file(tmp_path) -> Path:
    path = tmp_path / "good.npz"
    minigrad.save({"w": np.arange(1000.0), "name": "model"}, path)
    return path


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_file_gives_a_checkpoint_error_naming_it(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=f"{good_file}.*corrupt or truncated"):
        minigrad.load(good_file)


def test_flipped_bytes_are_detected(good_file):
    data = bytearray(good_file.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the array data: the zip CRC catches it
    good_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="good.npz"):
        minigrad.load(good_file)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "not a zip"),
        (b"PK\x03\x04" + bytes(100), "corrupt or truncated"),
    ],
)
def test_foreign_bytes_give_a_checkpoint_error(tmp_path, content, message):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        minigrad.load(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)


def test_npz_and_npy_files_not_written_by_minigrad_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    with pytest.raises(CheckpointError, match="not written by minigrad.save"):
        minigrad.load(tmp_path / "plain.npz")
    np.save(tmp_path / "plain.npy", np.ones(3))
    with pytest.raises(CheckpointError, match="not a zip"):
        minigrad.load(tmp_path / "plain.npy")
    with pytest.raises(FileNotFoundError):
        minigrad.load(tmp_path / "missing.npz")


def _meta(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def test_malformed_metadata_is_refused(tmp_path):
    cases = {
        "json": "{not json",
        "format": '{"format": "other", "version": 1, "root": null}',
        "version": '{"format": "minigrad-checkpoint", "version": 99, "root": null}',
        "node": '{"format": "minigrad-checkpoint", "version": 1, "root": {"set": [1]}}',
        "member": '{"format": "minigrad-checkpoint", "version": 1, "root": {"array": "a9"}}',
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, __minigrad__=_meta(text))
        with pytest.raises(CheckpointError, match=f"{name}.npz"):
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
