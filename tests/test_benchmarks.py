"""The training benchmark runs end to end at its quick size: worker process, turns, JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench_train(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_train.py"), *args],
        capture_output=True, text=True, check=check, env=env, timeout=300,
    )  # fmt: skip


def test_bench_train_quick_prints_throughput_json():
    report = json.loads(run_bench_train("--quick", "--set", "vocab=500").stdout)
    assert "bench_train.py --quick --set vocab=500" in report["machine"]["command"]
    (row,) = report["results"]
    assert (row["config"], row["threads"], row["vocab"], row["d_model"]) == ("tiny", 1, 500, 64)
    figures = row["minigrad"]
    tokens_per_s = 32 * 24 / (figures["train_ms_per_step"] / 1000)
    assert abs(figures["train_tokens_per_s"] - tokens_per_s) <= 0.01 * tokens_per_s
    assert figures["greedy_tokens_per_s"] > 0 and figures["beam4_tokens_per_s"] > 0


def test_bench_train_rejects_an_unknown_setting_by_name():
    result = run_bench_train("--quick", "--set", "width=3", check=False)
    assert result.returncode == 2
    assert "--set 'width=3': expected KEY=N" in result.stderr and "d_model" in result.stderr
