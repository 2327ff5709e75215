"""One run per folder: the lock, checks before any write, resuming into another folder, stale
temporary files and the log after a crash, the data a run was trained on. The signal tests run
`python -m transformer train` as a user would (a few seconds each)."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from helpers import TINY_TRAIN
from test_training import QUIET, tiny

from transformer.checkpoint import read_checkpoint
from transformer.cli import main
from transformer.data import DataError
from transformer.integrity import data_fingerprint
from transformer.run_folder import RunFolderInUse, RunLock
from transformer.train_log import read_log
from transformer.training import Trainer

ROOT = Path(__file__).resolve().parents[1]
TRAIN = [*TINY_TRAIN, "--no-report"]  # what these tests check is the folder, not the report
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def start_training(*args) -> subprocess.Popen:
    """`python -m transformer train TRAIN ARGS` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "transformer", "train", *TRAIN, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT,
    )  # fmt: skip


def run_training(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "transformer", "train", *args],
        capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120,
    )  # fmt: skip


def wait_until(condition, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)


def train_records(log: Path) -> int:
    return log.read_text().count('"kind": "train"') if log.exists() else 0


def exit_status(*argv) -> int:
    """The CLI's exit status, in-process (argparse exits for options it rejects itself)."""
    try:
        return main(list(argv))
    except SystemExit as exit_info:
        return exit_info.code


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_second_run_on_the_same_folder_exits_2_naming_the_folder_and_the_first(tmp_path):
    out = tmp_path / "run"
    first = start_training(
        "--out", str(out), "--epochs", "1000", "--patience", "0", "--log-every", "1"
    )
    wait_until(lambda: train_records(out / "log.jsonl") >= 2, first)
    second = run_training(*TRAIN, "--out", str(out), "--overwrite", "--epochs", "2")
    assert second.returncode == 2, second.stderr
    assert f"{out} is in use by another training run (process {first.pid})" in second.stderr
    assert first.poll() is None  # undisturbed
    first.send_signal(signal.SIGINT)  # Ctrl-C
    stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr
    assert f"interrupted: resume with --resume {out / 'last.ckpt'}" in stdout
    assert read_checkpoint(out / "last.ckpt")["progress"]["step"] >= 2
    events = [r["message"] for r in read_log(out / "log.jsonl") if r["kind"] == "event"]
    assert events == ["training"]  # one run's log: the second run wrote nothing


def test_after_sigkill_the_next_start_is_not_blocked_and_removes_stale_temporaries(
    tmp_path, capsys
):
    out = tmp_path / "run"
    args = ("--out", str(out), "--epochs", "1000", "--patience", "0", "--log-every", "1")
    killed = start_training(*args)
    wait_until(lambda: train_records(out / "log.jsonl") >= 10, killed)  # past a checkpoint
    killed.kill()  # SIGKILL: no handler runs, the lock goes with the process
    killed.communicate(timeout=60)
    stale = out / ".last.ckpt.0123456789ab.tmp"  # what a save killed half-way leaves
    stale.write_bytes(b"half a checkpoint")
    (out / ".notes.tmp").write_text("not ours")
    step = read_checkpoint(out / "last.ckpt")["progress"]["step"]
    assert main(["train", "--resume", str(out / "last.ckpt"), "--max-steps", str(step + 3)]) == 0
    assert f"removed temporary files of interrupted saves: {stale.name}" in capsys.readouterr().out
    assert not stale.exists() and (out / ".notes.tmp").exists()
    steps = [r["step"] for r in read_log(out / "log.jsonl") if r["kind"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == step + 3


def test_a_folder_in_use_is_refused_before_and_at_the_start_of_training(tmp_path):
    in_use = f"{tmp_path} is in use by another training run \\(process {os.getpid()}\\)"
    with RunLock(tmp_path), pytest.raises(RunFolderInUse, match=in_use):
        Trainer(tiny(), tmp_path, **QUIET)
    trainer = Trainer(tiny(max_steps=1), tmp_path, **QUIET)
    with RunLock(tmp_path), pytest.raises(RunFolderInUse, match=str(tmp_path)):
        trainer.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]
    assert trainer.train()["steps"] == 1  # free again


def test_nothing_is_written_before_every_setting_is_checked(tmp_path, capsys):
    out = tmp_path / "run"
    Trainer(tiny(max_steps=2), out, **QUIET).train()
    before = snapshot(out)
    assert exit_status("train", *TRAIN, "--out", str(out), "--overwrite", "--batch-size", "0") == 2
    missing = str(tmp_path / "missing.tsv")
    assert exit_status("train", *TRAIN, "--out", str(out), "--overwrite", "--data", missing) == 2
    with pytest.raises(ValueError, match="max_tokens"):  # caught only by making the batches
        Trainer(tiny(max_tokens=3), out, overwrite=True, **QUIET)
    assert snapshot(out) == before
    with pytest.raises(ValueError, match="max_tokens"):
        Trainer(tiny(max_tokens=3), tmp_path / "new", **QUIET)
    assert not (tmp_path / "new").exists()


def test_resuming_into_a_folder_holding_another_run_is_refused_unless_overwrite(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    Trainer(tiny(max_steps=3, log_every=1), a, **QUIET).train()
    Trainer(tiny(max_steps=2, seed=1), b, **QUIET).train()
    a_files, b_files = snapshot(a), snapshot(b)
    with pytest.raises(FileExistsError, match=f"{b} already holds .* mix the two runs"):
        Trainer.resume(a / "last.ckpt", b, overrides={"max_steps": 5}, **QUIET)
    assert snapshot(b) == b_files
    Trainer.resume(a / "last.ckpt", b, overrides={"max_steps": 5}, overwrite=True, **QUIET).train()
    a_lines = (a / "log.jsonl").read_text().splitlines()
    b_lines = (b / "log.jsonl").read_text().splitlines()
    assert b_lines[: len(a_lines)] == a_lines  # b continues a's history, nothing of its own run
    assert read_log(b / "log.jsonl")[len(a_lines)]["message"] == f"resumed from {a / 'last.ckpt'}"
    assert read_checkpoint(b / "best.ckpt")["progress"]["step"] in (3, 5)  # a's, then its own
    assert read_checkpoint(b / "last.ckpt")["progress"]["step"] == 5
    Trainer.resume(a / "last.ckpt", c, overrides={"max_steps": 4}, **QUIET).train()  # a new folder
    assert snapshot(a) == a_files


def test_a_resumed_run_drops_the_log_records_of_the_steps_it_trains_again(tmp_path):
    Trainer(tiny(max_steps=4, log_every=1), tmp_path, **QUIET).train()
    at_step_4 = (tmp_path / "last.ckpt").read_bytes()
    Trainer.resume(tmp_path / "last.ckpt", overrides={"max_steps": 9}, **QUIET).train()
    (tmp_path / "last.ckpt").write_bytes(at_step_4)  # as if killed before the saves after step 4
    Trainer.resume(tmp_path / "last.ckpt", overrides={"max_steps": 10}, **QUIET).train()
    records = read_log(tmp_path / "log.jsonl")
    assert [r["step"] for r in records if r["kind"] == "train"] == list(range(1, 11))
    messages = [r["message"] for r in records if r["kind"] == "event"]
    assert any("dropped" in m and "after step 4" in m for m in messages), messages


def write_pairs(path: Path, count: int) -> None:
    path.write_text("".join(f"a{i} b\tb a{i}\n" for i in range(count)), encoding="utf-8")


def file_run(data: str, **overrides):
    options = {"num_valid": 4, "num_test": 4}
    return tiny(data=data, data_options=options, src_tokenizer="char", tgt_tokenizer="char",
                **overrides)  # fmt: skip


def test_the_data_path_is_absolute_and_a_changed_file_is_refused_on_resume(
    tmp_path, monkeypatch, capsys
):
    pairs, elsewhere = tmp_path / "pairs.tsv", tmp_path / "elsewhere"
    write_pairs(pairs, 60)
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    Trainer(file_run("pairs.tsv", max_steps=2), "run", **QUIET).train()
    ckpt = tmp_path / "run" / "last.ckpt"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"] == str(pairs)
    sha256 = hashlib.sha256(pairs.read_bytes()).hexdigest()
    trained_on = {"path": str(pairs), "bytes": pairs.stat().st_size, "sha256": sha256}
    assert read_checkpoint(ckpt)["data"] == trained_on
    monkeypatch.chdir(elsewhere)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the data has not changed: no warning
        assert main(["evaluate", "--checkpoint", str(ckpt), "--json"]) == 0

    write_pairs(pairs, 70)
    with pytest.raises(DataError, match=f"trained on {pairs}, which has changed since"):
        Trainer.resume(ckpt, overrides={"max_steps": 3}, **QUIET)
    assert main(["train", "--resume", str(ckpt), "--max-steps", "3", "--no-progress"]) == 2
    assert "--accept-data-change" in capsys.readouterr().err
    argv = ["train", "--resume", str(ckpt), "--max-steps", "3", "--no-progress"]
    assert main([*argv, "--accept-data-change"]) == 0
    assert read_checkpoint(ckpt)["data"]["bytes"] == pairs.stat().st_size
    events = [r["message"] for r in read_log(ckpt.parent / "log.jsonl") if r["kind"] == "event"]
    assert any("the data changed since" in m for m in events), events

    first_ckpt = tmp_path / "first.ckpt"
    Trainer(file_run(str(pairs), max_steps=1), tmp_path / "again", **QUIET).train()
    shutil.copy(tmp_path / "again" / "last.ckpt", first_ckpt)
    before = pairs.stat().st_size
    write_pairs(pairs, 80)
    size = f"{before:,} -> {pairs.stat().st_size:,} bytes"
    changed = f"{first_ckpt} was trained on {pairs}, which has changed since \\({size}"
    with pytest.warns(UserWarning, match=changed):
        assert main(["evaluate", "--checkpoint", str(first_ckpt), "--json"]) == 0


def test_the_fingerprint_covers_the_files_the_loader_reads(tmp_path):
    assert data_fingerprint("copy", {}) is None
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("train.en", "train.de", "test.en", "test.de"):
        (corpus / name).write_text("a\n")
    first = data_fingerprint(str(corpus), {})
    assert first["path"] == str(corpus) and first["bytes"] == 8
    (corpus / "README").write_text("not data")
    assert data_fingerprint(str(corpus), {}) == first
    (corpus / "test.de").write_text("b\n")
    assert data_fingerprint(str(corpus), {})["sha256"] != first["sha256"]
    (tmp_path / "p.en").write_text("a\n")
    (tmp_path / "p.fr").write_text("b\n")
    prefix = data_fingerprint(str(tmp_path / "p"), {"tgt_lang": "fr"})
    assert prefix["bytes"] == 4
