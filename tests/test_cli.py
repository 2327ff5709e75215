"""`python -m transformer`: the happy path as real subprocesses, mistakes as one-line errors."""

import errno
import fcntl
import io
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import TINY_TRAIN

import minigrad
import transformer.cli
from transformer.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def run(*args, stdin=None):
    """Run `python -m transformer ARGS` and return the completed process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "transformer", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_train_translate_evaluate_as_subprocesses(tmp_path):
    out = tmp_path / "run"
    trained = run("train", *TINY_TRAIN, "--out", str(out), "--max-steps", "9")
    assert trained.returncode == 0, trained.stderr
    assert "stopped after 9 steps (max_steps)" in trained.stdout
    assert (out / "best.ckpt").is_file() and (out / "curves.png").is_file()
    assert f"report: {out / 'report.html'}" in trained.stdout  # written at the end of train
    assert "<h2>The graph of that step" in (out / "report.html").read_text()
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
    args = ["train", *TINY_TRAIN, "--out", str(out), "--epochs", "1000", "--log-every", "1"]
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
    assert "--d-model (15) must be divisible by --num-heads (4)" in error_of(
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
    from transformer.train_config import TrainConfig
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
    assert "give --pairs or --src and --ref, not both" in error_of(
        capsys, "evaluate", "--checkpoint", checkpoint, "--pairs", str(tmp_path / "p.tsv"), *args
    )


def parse_error(capsys, *argv) -> str:
    """Run the CLI in-process, expect argparse to refuse the options: one `error:` line."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--max-steps", "0"], "argument --max-steps: must be >= 1, got 0"),
        (["train", "--max-steps", "-1"], "argument --max-steps: must be >= 1, got -1"),
        (["train", "--num-encoder-layers", "-1"], "--num-encoder-layers: must be >= 0, got -1"),
        (["train", "--num-decoder-layers", "0"], "--num-decoder-layers: must be >= 1, got 0"),
        (["train", "--warmup", "-5"], "argument --warmup: must be >= 0, got -5"),
        (["train", "--time-budget", "-1"], "argument --time-budget: must be > 0"),
        (["train", "--patience", "-1"], "argument --patience: must be >= 0, got -1"),
        (["train", "--clip-norm", "-1"], "argument --clip-norm: must be >= 0"),
        (["train", "--valid-size", "-3"], "argument --valid-size: must be >= 1, got -3"),
        (["train", "--valid-size", "0"], "argument --valid-size: must be >= 1, got 0"),
        (["train", "--lr", "inf"], "argument --lr: expected a finite number, got 'inf'"),
        (["train", "--lr", "0"], "argument --lr: must be > 0"),
        (["train", "--beta2", "1"], "argument --beta2: must be in [0, 1)"),
        (["train", "--eps", "0"], "argument --eps: must be > 0"),
        (["train", "--weight-decay", "-1"], "argument --weight-decay: must be >= 0"),
        (["train", "--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
        (["train", "--max-tokens", "0"], "argument --max-tokens: must be >= 1, got 0"),
        (["train", "--min-freq", "0"], "argument --min-freq: must be >= 1, got 0"),
        (["train", "--seed", "-1"], "argument --seed: must be >= 0, got -1"),
        (["train", "--positional", "rotary"], "argument --positional: must be one of"),
        (["train", "--src-tokenizer", "chars"], "argument --src-tokenizer: must be one of"),
        (["train", "--epochs", "1e3"], "argument --epochs: expected an integer, got '1e3'"),
        (["evaluate", "--checkpoint", "c", "--beam-size", "0"], "--beam-size: must be >= 1, got 0"),
        (["evaluate", "--checkpoint", "c", "--limit", "0"], "--limit: must be >= 1, got 0"),
        (["evaluate", "--checkpoint", "c", "--samples", "-1"], "--samples: must be >= 0, got -1"),
        (["translate", "--checkpoint", "c", "--max-len", "-5"], "--max-len: must be >= 1, got -5"),
        (["translate", "--checkpoint", "c", "--batch-size", "0"], "--batch-size: must be >= 1"),
        (["translate", "--checkpoint", "c", "--length-penalty", "nan"], "expected a finite"),
        (["viz", "--checkpoint", "c", "--sentence", "1", "--depth", "0"], "--depth: must be >= 1"),
        (["viz", "--checkpoint", "c", "--sentence", "1", "--max-nodes", "0"], "--max-nodes: must"),
    ],
)  # fmt: skip
def test_options_out_of_range_are_refused_naming_the_option(argv, message, capsys):
    assert message in parse_error(capsys, *argv)


def test_data_options_are_checked_against_the_dataset_loader(tmp_path, capsys):
    out = str(tmp_path / "run")
    err = error_of(capsys, "train", "--data", "reverse", "--data-option", "foo=1", "--out", out)
    assert "no data option 'foo'; its options are num_train, num_valid" in err
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("a\tb\n" * 20, encoding="utf-8")
    err = error_of(capsys, "train", "--data", str(pairs), "--data-option", "max_train=1e3")
    assert "data option max_train must be an integer or none, got '1e3'" in err
    assert "no such file" in error_of(capsys, "train", "--data", str(tmp_path / "missing.tsv"))
    assert not (tmp_path / "run").exists()


def test_data_options_of_a_resumed_run_are_read_by_its_datasets_loader(checkpoint, capsys):
    err = error_of(capsys, "train", "--resume", checkpoint, "--data-option", "min_len=x")
    assert "data option min_len must be an integer, got 'x'" in err  # reverse's, not numbers'


def test_a_new_runs_settings_are_checked_together(tmp_path, capsys):
    err = error_of(capsys, "train", "--positional", "rope", "--d-model", "12", "--out", "x")
    assert "rope positions need an even head width, but --d-model 12 / --num-heads 4" in err
    err = error_of(capsys, "train", "--schedule", "cosine", "--lr", "0.001", "--min-lr", "0.01")
    assert "--min-lr (0.01) must not exceed --lr (0.001)" in err


@pytest.mark.parametrize(
    "failure, line, status",
    [
        (ValueError("bad value"), "error: bad value", 2),
        (PermissionError(errno.EACCES, "Permission denied", "ro"), "error: ro: Permission", 2),
        (OSError(errno.ENOSPC, "No space left on device"), "error: No space left on device", 2),
        (FileExistsError("runs/x already holds a run"), "error: runs/x already holds a run", 2),
        (MemoryError("Unable to allocate 9 TiB"), "error: out of memory (Unable to allocate", 2),
        (KeyboardInterrupt(), "interrupted", 130),
    ],
)  # fmt: skip
def test_one_mechanism_ends_every_failure_that_is_not_a_bug(
    monkeypatch, capsys, failure, line, status
):
    def fail(args):
        raise failure

    monkeypatch.setattr(transformer.cli, "cmd_translate", fail)
    try:
        assert main(["translate", "--checkpoint", "c"]) == status
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C ended in a traceback")
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1 and "Traceback" not in err
    monkeypatch.setenv("TRANSFORMER_TRACEBACK", "1")
    with pytest.raises(type(failure)):
        main(["translate", "--checkpoint", "c"])


def test_bugs_keep_their_traceback(monkeypatch):
    def bug(args):
        return args.no_such_attribute

    monkeypatch.setattr(transformer.cli, "cmd_translate", bug)
    with pytest.raises(AttributeError):
        main(["translate", "--checkpoint", "c"])


def test_output_folder_that_cannot_be_made(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("", encoding="utf-8")
    err = error_of(capsys, "train", *TINY_TRAIN, "--max-steps", "1", "--out", str(afile / "sub"))
    assert f"error: {afile / 'sub'}: Not a directory" in err


def test_ctrl_c_twice_quits_without_a_traceback(tmp_path, monkeypatch, capsys):
    from transformer.training import Trainer

    train_step, calls = Trainer.train_step, []

    def step_then_ctrl_c_twice(self, batch):
        calls.append(1)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # saves after this step...
            signal.raise_signal(signal.SIGINT)  # ... no: quit now
        return train_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", step_then_ctrl_c_twice)
    try:
        status = main(["train", *TINY_TRAIN, "--out", str(tmp_path / "run"), "--epochs", "1000"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C twice ended in a traceback")
    assert status == 130 and len(calls) == 2
    err = capsys.readouterr().err
    assert err.endswith("interrupted\n") and "Traceback" not in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_translate_refuses_an_endless_file(checkpoint):
    def two_gigabytes_of_memory():  # without the bound, the old code read until MemoryError
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    started = time.perf_counter()
    refused = subprocess.run(
        [sys.executable, "-m", "transformer", "translate", "--checkpoint", checkpoint,
         "--file", "/dev/zero"],
        capture_output=True, text=True, cwd=ROOT, preexec_fn=two_gigabytes_of_memory, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr == (
        "error: /dev/zero: more than 10,485,760 bytes, the limit for this input; split it up\n"
    )
    assert time.perf_counter() - started < 30


def test_translate_reads_a_bounded_stdin_of_text(checkpoint, tmp_path, monkeypatch, capsys):
    too_long = io.TextIOWrapper(io.BytesIO(b"1" * (10 * 2**20 + 1)))
    monkeypatch.setattr(sys, "stdin", too_long)
    assert "stdin: more than 10,485,760 bytes" in error_of(
        capsys, "translate", "--checkpoint", checkpoint
    )
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("12\n34\n".encode("utf-16-le"))
    assert "utf16.txt:1: NUL byte at column 2" in error_of(
        capsys, "translate", "--checkpoint", checkpoint, "--file", str(utf16)
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"12\r\n\r\n34\n")))
    with pytest.warns(UserWarning, match="1 input sentence"):
        assert main(["translate", "--checkpoint", checkpoint]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_hand_edited_checkpoint_settings_are_refused(checkpoint, tmp_path, capsys):
    content = minigrad.load(checkpoint)
    content["config"]["d_model"] = float(content["config"]["d_model"])
    edited = tmp_path / "edited.ckpt"
    minigrad.save(content, edited)
    err = error_of(capsys, "translate", "--checkpoint", str(edited), "12")
    assert "d_model must be an integer, got 8.0" in err


def test_train_help_is_grouped_with_one_default_per_option():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    titles = [group.title for group in train._action_groups]
    assert titles == ["positional arguments", "options", "data", "model", "optimization",
                      "stopping and validation", "output"]  # fmt: skip
    ungrouped = {a.dest for a in train._action_groups[1]._group_actions}
    assert ungrouped <= {"help", "resume", "accept_data_change"}
    for action in train._actions:
        assert (action.help or "").count("(default:") <= 1, action.help
        assert "(default: None)" not in (action.help or ""), action.help


def test_viz_refuses_module_paths_that_name_nothing(checkpoint, tmp_path, capsys):
    from transformer import visualize

    out = tmp_path / "viz"
    argv = ["--checkpoint", checkpoint, "--sentence", "12", "--out", str(out)]
    err = error_of(capsys, "viz", *argv, "--expand", "encoder.layerz.0")
    assert "expand 'encoder.layerz.0' names no module of the model" in err
    assert not out.exists()
    with pytest.raises(SystemExit, match="2"):  # the stand-alone entry point too
        visualize.main([*argv, "--max-nodes", "0"])
    assert capsys.readouterr().err.startswith("error: argument --max-nodes: must be >= 1")
    assert build_parser().parse_args(["viz", *argv[:4]]).out == "runs/viz"  # not the cwd


@pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipes")
def test_a_reader_that_stops_reading_is_no_error(checkpoint, tmp_path):
    sentences = tmp_path / "many.txt"
    sentences.write_text("".join(f"{i}\n" for i in range(3000)), encoding="utf-8")
    command = ["translate", "--checkpoint", checkpoint, "--file", str(sentences)]
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # smaller than the output
    process = subprocess.Popen(
        [sys.executable, "-m", "transformer", *command],
        stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    os.close(write_end)
    with os.fdopen(read_end) as output:
        output.readline()  # then stop reading, as `| head -1` does
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141 and stderr == ""


@pytest.mark.parametrize(
    "variable, value",
    [("MINIGRAD_NUM_THREADS", "0"), ("MINIGRAD_BACKEND", "cuda"), ("MINIGRAD_FUSED", "maybe")],
)
def test_a_bad_minigrad_variable_is_one_line_and_status_2(variable, value):
    """minigrad reads these at import, before the command line is parsed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), variable: value}
    done = subprocess.run([sys.executable, "-m", "transformer", "--help"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {variable}={value!r}")
    assert len(done.stderr.strip().splitlines()) == 1
