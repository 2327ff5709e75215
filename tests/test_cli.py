"""`python -m transformer`: the happy path as real subprocesses, mistakes as one-line errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from transformer.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--data", "reverse", "--data-option", "num_train=200", "--data-option", "num_valid=16",
    "--data-option", "num_test=16", "--data-option", "max_len=6", "--d-model", "16",
    "--num-heads", "2", "--num-encoder-layers", "1", "--num-decoder-layers", "1", "--d-ff", "32",
    "--batch-size", "32", "--warmup", "5", "--no-progress",
]  # fmt: skip


def run(*args, stdin=None):
    """Run `python -m transformer ARGS` and return the completed process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "transformer", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_train_translate_evaluate_as_subprocesses(tmp_path):
    out = tmp_path / "run"
    trained = run("train", *TINY, "--out", str(out), "--max-steps", "9")
    assert trained.returncode == 0, trained.stderr
    assert "stopped after 9 steps (max_steps)" in trained.stdout
    assert (out / "best.ckpt").is_file() and (out / "curves.png").is_file()
    ckpt = str(out / "last.ckpt")

    translated = run("translate", "--checkpoint", ckpt, "123", "4567", "--beam-size", "2")
    assert translated.returncode == 0, translated.stderr
    assert len(translated.stdout.splitlines()) == 2

    piped = run("translate", "--checkpoint", ckpt, stdin="12\n\n345\n")
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.split("\n")) == 4 and piped.stdout.split("\n")[1] == ""
    assert "warning: 1 input sentence(s) empty" in piped.stderr

    evaluated = run("evaluate", "--checkpoint", ckpt, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    scores = json.loads(evaluated.stdout)
    assert scores["pairs"] == 16 and 0 <= scores["exact_match"] <= 1 and "chrf" in scores

    resumed = run("train", "--resume", ckpt, "--max-steps", "11", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert "stopped after 11 steps" in resumed.stdout


def test_ctrl_c_saves_a_checkpoint(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["train", *TINY, "--out", str(out), "--epochs", "1000", "--log-every", "1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "transformer", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    log = out / "log.jsonl"
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text().count('"train"') >= 3):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "resume with --resume" in stdout and "(interrupted)" in stdout
    assert (out / "last.ckpt").is_file()


def error_of(capsys, *argv) -> str:
    """Run the CLI in-process, expect exit status 2, return the error line."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def test_bad_data_files_name_the_file_and_line(tmp_path, capsys):
    bad = tmp_path / "pairs.tsv"
    bad.write_text("hello\thallo\nno tab here\n", encoding="utf-8")
    assert "pairs.tsv:2: expected at least 2 tab-separated columns" in error_of(
        capsys, "train", "--data", str(bad), "--out", str(tmp_path / "a")
    )
    bad.write_bytes(b"ok\tgut\nsch\xf6n\tbeautiful\n")
    assert "pairs.tsv:2: not valid UTF-8" in error_of(
        capsys, "train", "--data", str(bad), "--out", str(tmp_path / "b")
    )
    (tmp_path / "c.en").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "c.de").write_text("eins\n", encoding="utf-8")
    assert "has 2 lines but" in error_of(
        capsys, "train", "--data", str(tmp_path / "c"), "--out", str(tmp_path / "c")
    )
    (tmp_path / "empty.tsv").write_text("", encoding="utf-8")
    assert "file is empty" in error_of(
        capsys, "train", "--data", str(tmp_path / "empty.tsv"), "--out", str(tmp_path / "d")
    )
    assert not (tmp_path / "d").exists()


def test_bad_options_and_checkpoints(tmp_path, capsys):
    assert "d_model (15) must be divisible" in error_of(
        capsys, "train", "--d-model", "15", "--out", str(tmp_path)
    )
    assert "KEY=VALUE" in error_of(capsys, "train", "--data-option", "oops", "--out", str(tmp_path))
    assert "no such checkpoint" in error_of(
        capsys, "translate", "--checkpoint", str(tmp_path / "missing.ckpt"), "x"
    )
    (tmp_path / "junk.ckpt").write_bytes(b"\x00\x01")
    assert "not a minigrad checkpoint" in error_of(
        capsys, "evaluate", "--checkpoint", str(tmp_path / "junk.ckpt")
    )


@pytest.mark.parametrize("command", ["train", "translate", "evaluate", "viz"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: python -m transformer " + command in capsys.readouterr().out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A checkpoint of a tiny model trained for two steps (in-process: fast)."""
    from transformer.config import TrainConfig
    from transformer.training import Trainer

    out = tmp_path_factory.mktemp("ckpt")
    options = {"num_train": 64, "num_valid": 4, "num_test": 4, "max_len": 5}
    config = TrainConfig(
        data="reverse", data_options=options, d_model=8, num_heads=2, num_encoder_layers=1,
        num_decoder_layers=1, d_ff=16, max_steps=2,
    )  # fmt: skip
    Trainer(config, out, progress_bar=False, echo=lambda *a: None).train()
    return str(out / "last.ckpt")


def test_translate_and_evaluate_files(checkpoint, tmp_path, capsys):
    sentences = tmp_path / "in.txt"
    sentences.write_text("123\n45\n", encoding="utf-8")
    assert main(["translate", "--checkpoint", checkpoint, "--file", str(sentences)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    sentences.write_bytes(b"12\n\xff3\n")
    assert "in.txt:2: not valid UTF-8" in error_of(
        capsys, "translate", "--checkpoint", checkpoint, "--file", str(sentences)
    )
    (tmp_path / "src.txt").write_text("1\n2\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("1\n", encoding="utf-8")
    assert "src.txt has 2 lines but" in error_of(
        capsys, "evaluate", "--checkpoint", checkpoint, "--src", str(tmp_path / "src.txt"),
        "--ref", str(tmp_path / "ref.txt"),
    )  # fmt: skip
    (tmp_path / "ref.txt").write_text("1\n2\n", encoding="utf-8")
    args = ["--src", str(tmp_path / "src.txt"), "--ref", str(tmp_path / "ref.txt"), "--json"]
    assert main(["evaluate", "--checkpoint", checkpoint, *args]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == 2
