"""examples/05_train_tsv.py: scores at each time mark, a complete --help, and Ctrl-C or a
diverged run before a time mark stops cleanly (the model so far in last.ckpt, nothing scored)
instead of crashing on best.ckpt."""

import json
import signal
from pathlib import Path

import pytest
from helpers import load_script

from transformer.training import Trainer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "05_train_tsv.py"


@pytest.fixture(scope="module")
def example():
    """The example as a module (its file name starts with a digit)."""
    return load_script(EXAMPLE, "train_tsv")


def test_help_describes_the_example_and_every_option(example, capsys):
    with pytest.raises(SystemExit, match="0"):
        example.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "and measure test BLEU after several training times." in help_text
    assert "--minutes MINUTES [MINUTES ...] time marks" in help_text
    assert "--out OUT output directory (default: runs/tsv)" in help_text


def test_ctrl_c_before_the_first_validation_stops_cleanly(example, tmp_path, monkeypatch, capsys):
    lines = [f"the number {i} .\tdie Zahl {i} ." for i in range(1600)]
    data = tmp_path / "pairs.tsv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    train_step = Trainer.train_step

    def ctrl_c_during_the_first_step(self, batch):
        signal.raise_signal(signal.SIGINT)  # Trainer: stop after this step, save last.ckpt
        return train_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", ctrl_c_during_the_first_step)
    out = tmp_path / "run"
    assert example.main([str(data), "--minutes", "1", "--out", str(out)]) == 130
    printed = capsys.readouterr().out
    assert "interrupted before the 1-minute mark (step 1): not scored" in printed
    assert (out / "last.ckpt").is_file() and not (out / "best.ckpt").exists()
    assert not (out / "bleu_by_minute.json").exists()


def test_time_marks_must_be_positive(example, capsys):
    with pytest.raises(SystemExit, match="2"):
        example.main(["pairs.tsv", "--minutes", "2", "0"])
    assert "argument --minutes: must be > 0, got 0.0" in capsys.readouterr().err


def test_scores_each_time_mark(example, tmp_path, capsys):
    module = example
    data = tsv_pairs(tmp_path)
    out = tmp_path / "run"
    assert module.main([str(data), "--minutes", "0.002", "0.004", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "after 0.002 min" in printed and "after 0.004 min" in printed
    points = json.loads((out / "bleu_by_minute.json").read_text())
    assert [p["minutes"] for p in points] == [0.002, 0.004]
    assert points[1]["steps"] > points[0]["steps"] >= 1
    assert all("bleu" in p and "bleu" in p["last"] and p["best_step"] >= 1 for p in points)
    assert (out / "bleu_by_minute.png").is_file()


def test_stops_and_scores_nothing_when_training_diverges(example, tmp_path, capsys, monkeypatch):
    module = example
    monkeypatch.setattr(module.Trainer, "train", lambda self: {"stopped": "diverged", "steps": 3})
    out = tmp_path / "run"
    assert module.main([str(tsv_pairs(tmp_path)), "--minutes", "1", "2", "--out", str(out)]) == 1
    assert "diverged before the 1-minute mark (step 3): not scored" in capsys.readouterr().out
    assert not (out / "bleu_by_minute.json").exists()


def tsv_pairs(tmp_path: Path) -> Path:
    """A small English-German TSV file of made-up pairs."""
    words = ["red", "green", "blue", "cat", "dog", "big", "small"]
    german = ["rot", "grün", "blau", "Katze", "Hund", "groß", "klein"]
    lines = [
        f"The {words[a]} {words[b]} {i}.\tDer {german[a]} {german[b]} {i}."
        for i in range(1600)
        for a, b in [(i % 7, i // 7 % 7)]
    ]
    data = tmp_path / "pairs.tsv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data
