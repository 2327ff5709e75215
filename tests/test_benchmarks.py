"""The training benchmark runs end to end at its quick size: worker process, turns, JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_train_quick_prints_throughput_json():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_train.py"), "--quick"],
        capture_output=True, text=True, check=True, env=env, timeout=300,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert "bench_train.py --quick" in report["machine"]["command"]
    (row,) = report["results"]
    assert (row["config"], row["threads"]) == ("tiny", 1)
    figures = row["minigrad"]
    tokens_per_s = 32 * 24 / (figures["train_ms_per_step"] / 1000)
    assert abs(figures["train_tokens_per_s"] - tokens_per_s) <= 0.01 * tokens_per_s
    assert figures["greedy_tokens_per_s"] > 0 and figures["beam4_tokens_per_s"] > 0
