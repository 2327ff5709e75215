"""examples/02_mlp.py: reaches its accuracy claim, and resuming from a checkpoint continues
exactly where an uninterrupted run would be."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import minigrad

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ)  # threads are the example's own (minigrad.threads), as a user runs it


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "02_mlp.py"), *args],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_default_run_reaches_95_percent_test_accuracy(tmp_path):
    out = _run("--out", str(tmp_path))
    accuracy = float(re.search(r"test accuracy ([\d.]+)", out).group(1))
    assert accuracy >= 0.95, out
    state = minigrad.load(tmp_path / "checkpoint.npz")
    assert state["step"] == 500 and "layers.0.weight" in state["model"]


def test_resume_continues_exactly(tmp_path):
    small = ("--points", "40", "--hidden", "16", "--save-every", "10")
    straight = _run("--steps", "30", "--out", str(tmp_path / "a"), *small)
    _run("--steps", "20", "--out", str(tmp_path / "b"), *small)
    resumed = _run("--steps", "30", "--resume", "--out", str(tmp_path / "b"), *small)
    assert "resumed from" in resumed and "at step 20" in resumed
    last = [line for line in straight.splitlines() if line.startswith("step")][-1]
    assert last == [line for line in resumed.splitlines() if line.startswith("step")][-1]
    a = minigrad.load(tmp_path / "a" / "checkpoint.npz")
    b = minigrad.load(tmp_path / "b" / "checkpoint.npz")
    assert a["step"] == b["step"] == 30
    for key, value in a["model"].items():
        np.testing.assert_array_equal(value, b["model"][key], err_msg=key)
