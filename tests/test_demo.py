"""`make demo` (examples/demo.py) end to end at a tiny size: scores, samples, files, paths."""

import shutil
from pathlib import Path

import pytest
from helpers import load_script

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


@pytest.fixture(scope="module")
def demo():
    return load_script(DEMO, "demo")


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
