"""The training benchmark runs end to end at its quick size: worker process, turns, JSON; its
thread modes, competing load and warm-up work as their options say."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parent.parent
BENCH_TRAIN = ROOT / "benchmarks" / "bench_train.py"
TINIEST = ("--configs", "tiny", "--steps", "1", "--set", "d_model=8", "d_ff=8", "vocab=16",
           "layers=1", "heads=2", "length=4")  # fmt: skip


@pytest.fixture(scope="module")
def bench_train():
    return load_script(BENCH_TRAIN)


def run_bench_train(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(BENCH_TRAIN), *args],
        capture_output=True, text=True, check=check, env=env, timeout=300,
    )  # fmt: skip


def test_bench_train_quick_prints_throughput_json():
    report = json.loads(run_bench_train("--quick", "--set", "vocab=500", "--warmup", "0").stdout)
    assert "bench_train.py --quick --set vocab=500" in report["machine"]["command"]
    (row,) = report["results"]
    assert (row["config"], row["threads"], row["vocab"], row["d_model"]) == ("tiny", 1, 500, 64)
    assert row["busy"] == 0
    figures = row["minigrad"]
    tokens_per_s = 32 * 24 / (figures["train_ms_per_step"] / 1000)
    assert abs(figures["train_tokens_per_s"] - tokens_per_s) <= 0.01 * tokens_per_s
    assert figures["greedy_tokens_per_s"] > 0 and figures["beam4_tokens_per_s"] > 0


def test_bench_train_measures_auto_threads_under_competing_load():
    report = json.loads(
        run_bench_train(*TINIEST, "--threads", "auto", "--busy", "1", "--warmup", "0.05").stdout
    )
    (row,) = report["results"]
    assert (row["threads"], row["busy"], row["d_model"]) == ("auto", 1, 8)
    assert set(row["load"]) == {"before", "after"}
    assert row["minigrad"]["train_tokens_per_s"] > 0


def test_bench_train_rejects_an_unknown_setting_by_name():
    result = run_bench_train("--quick", "--set", "width=3", check=False)
    assert result.returncode == 2
    assert "--set 'width=3': expected KEY=N" in result.stderr and "d_model" in result.stderr


@pytest.mark.parametrize("threads", ["three", "0"])
def test_bench_train_rejects_a_thread_count_that_is_neither_auto_nor_positive(threads):
    result = run_bench_train("--threads", "auto", threads, check=False)
    assert result.returncode == 2
    assert f"--threads: '{threads}' is neither 'auto' nor a positive integer" in result.stderr


def test_competing_load_stops_its_processes_even_when_the_body_raises(bench_train):
    with pytest.raises(KeyboardInterrupt), bench_train.competing_load(2, settle=0) as processes:
        assert len(processes) == 2 and all(p.poll() is None for p in processes)
        raise KeyboardInterrupt
    assert all(p.poll() is not None for p in processes)


def test_worker_env_pins_thread_counts_or_leaves_them_to_the_libraries(bench_train, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "1")
    variables = (*bench_train.POOL_VARIABLES, "MINIGRAD_NUM_THREADS")
    for library in ("minigrad", "torch"):
        assert not set(variables) & set(bench_train.worker_env(library, "auto"))
    minigrad, torch = bench_train.worker_env("minigrad", 2), bench_train.worker_env("torch", 2)
    assert all(minigrad[name] == "2" for name in variables)
    assert all(torch[name] == "2" for name in bench_train.POOL_VARIABLES)
    assert "MINIGRAD_NUM_THREADS" not in torch


def test_warm_up_calls_the_job_for_the_given_seconds_and_at_least_once(bench_train):
    calls = []
    bench_train.warm_up(lambda: calls.append(time.sleep(0.01)), 0)
    assert len(calls) == 1
    start = time.perf_counter()
    bench_train.warm_up(lambda: calls.append(time.sleep(0.01)), 0.1)
    assert time.perf_counter() - start >= 0.1 and len(calls) > 2
