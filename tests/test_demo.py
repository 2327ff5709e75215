"""`make demo` (examples/demo.py) end to end at a tiny size: scores, samples, files, paths."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_demo_trains_scores_and_says_where_everything_is(demo, tmp_path, capsys):
    assert demo.main(["--quick", "--time-budget", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "TEST: exact match" in out and "chrF" in out
    samples = out.split("never seen in training):")[1].split("\n\n")[0].strip().splitlines()
    assert len(samples) == 10 and all(" -> " in line for line in samples)
    for name in ("best.ckpt", "last.ckpt", "log.jsonl", "curves.png"):
        assert (tmp_path / name).is_file() and name in out
    assert f"written to {tmp_path}/" in out
    if shutil.which("dot"):
        assert (tmp_path / "viz" / "graph.svg").is_file()
        assert (tmp_path / "viz" / "gradient_flow.png").is_file()
    assert '"kind": "test"' in (tmp_path / "log.jsonl").read_text()
    assert out.rstrip().endswith(f"in a browser): {tmp_path / 'report.html'}")  # the last line
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_samples_are_spread_over_the_lengths(demo):
    assert demo.spread(list(range(100)), 10) == [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]
    assert demo.spread([1, 2], 10) == [1, 2]


def test_tsv_example_scores_each_time_mark(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("train_tsv", DEMO.parent / "05_train_tsv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    words = ["red", "green", "blue", "cat", "dog", "big", "small"]
    german = ["rot", "grün", "blau", "Katze", "Hund", "groß", "klein"]
    lines = [
        f"The {words[a]} {words[b]} {i}.\tDer {german[a]} {german[b]} {i}."
        for i in range(1600)
        for a, b in [(i % 7, i // 7 % 7)]
    ]
    data = tmp_path / "pairs.tsv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert module.main([str(data), "--minutes", "0.002", "0.004", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "after 0.002 min" in printed and "after 0.004 min" in printed
    points = json.loads((out / "bleu_by_minute.json").read_text())
    assert [p["minutes"] for p in points] == [0.002, 0.004]
    assert points[1]["steps"] > points[0]["steps"] >= 1
    assert all("bleu" in p and "bleu" in p["last"] and p["best_step"] >= 1 for p in points)
    assert (out / "bleu_by_minute.png").is_file()
