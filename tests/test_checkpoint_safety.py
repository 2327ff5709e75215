"""Hand-edited or foreign translation checkpoints: every problem is a CheckpointError naming the
file (the command line prints it as one `error:` line and exits with status 2)."""

import copy

import numpy as np
import pytest

import minigrad
from minigrad.serialization import CheckpointError
from transformer.checkpoint import load_checkpoint, read_checkpoint, restoring, save_checkpoint
from transformer.cli import main
from transformer.data import build_tokenizer
from transformer.model import Transformer
from transformer.train_config import TrainConfig

WEIGHT = "src_embed.token.weight"


@pytest.fixture(scope="module")
def content() -> dict:
    """What a trainer saves (an untrained tiny model; optimizer and progress as plain dicts)."""
    config = TrainConfig(
        d_model=16, num_heads=2, d_ff=32, num_encoder_layers=1, num_decoder_layers=1, max_len=16
    )
    src = build_tokenizer("char", ["one two", "three"])
    tgt = build_tokenizer("word", ["eins zwei", "drei"])
    model = Transformer(**config.model_kwargs(src.vocab_size, tgt.vocab_size))
    return {
        "config": config.to_dict(),
        "model": model.state_dict(),
        "src_tokenizer": src.to_dict(),
        "tgt_tokenizer": tgt.to_dict(),
        "optimizer": {"state": {0: {"step": 1, "exp_avg": np.zeros(2)}}, "param_groups": []},
        "progress": {"step": 1, "best_score": None},
        "data": {"path": "/data/pairs.tsv", "fingerprint": {"sha256": "ab" * 32, "bytes": 10}},
    }


def _edited(content: dict, edit) -> dict:
    edited = copy.deepcopy(content)
    edit(edited)
    return edited


def test_an_unedited_checkpoint_loads_with_its_nested_entries(tmp_path, content):
    path = save_checkpoint(tmp_path / "ok.ckpt", **content)
    stored = read_checkpoint(path)
    assert stored["data"] == content["data"]
    assert stored["optimizer"]["state"][0]["step"] == 1
    model, src, _, config = load_checkpoint(path)
    assert config.d_model == 16 and src.to_dict() == content["src_tokenizer"]
    np.testing.assert_array_equal(model.state_dict()[WEIGHT], content["model"][WEIGHT])
    save_checkpoint(tmp_path / "no-data.ckpt", **{**content, "data": None})
    assert read_checkpoint(tmp_path / "no-data.ckpt")["data"] is None


EDITS = {
    "config is a string": (lambda c: c.update(config="d_model=16"), "'config' is a str, not"),
    "config is None": (lambda c: c.update(config=None), "'config' is None, not a dict"),
    "config int key": (lambda c: c["config"].update({3: 1}), "'config' has a key that is not"),
    "config wrong type": (lambda c: c["config"].update(d_model="16"), "'config' is unreadable"),
    "config unknown key": (lambda c: c["config"].update(colour=1), "unknown training config"),
    "missing config": (lambda c: c.pop("config"), "checkpoint lacks config"),
    "tokenizer is a string": (lambda c: c.update(src_tokenizer="char"), "'src_tokenizer' is a"),
    "tokenizer tokens": (lambda c: c["tgt_tokenizer"].update(tokens=5), "'tgt_tokenizer' is unr"),
    "tokenizer kind": (lambda c: c["src_tokenizer"].update(kind=[1]), "'src_tokenizer' is unre"),
    "tokenizer option": (lambda c: c["tgt_tokenizer"].update(colour=1), "bad options"),
    "model is a list": (lambda c: c.update(model=[1, 2]), "'model' is a list, not a dict"),
    "model int key": (lambda c: c["model"].update({5: np.ones(2)}), "'model' has a key that"),
    "weight is a string": (lambda c: c["model"].update({WEIGHT: "x"}), "weights do not fit"),
    "weight is a dict": (lambda c: c["model"].update({WEIGHT: {"a": 1}}), "weights do not fit"),
    "weight shape": (lambda c: c["model"].update({WEIGHT: np.ones(3)}), "size mismatch"),
    "weight complex": (
        lambda c: c["model"].update({WEIGHT: c["model"][WEIGHT].astype(np.complex64)}),
        "weights do not fit",
    ),
    "missing weight": (lambda c: c["model"].pop(WEIGHT), "Missing key"),
    "optimizer is a string": (lambda c: c.update(optimizer="adam"), "'optimizer' is a str"),
    "progress is a list": (lambda c: c.update(progress=[1]), "'progress' is a list"),
    "rng is a number": (lambda c: c.update(rng=3), "'rng' is a int, not a dict"),
    "data is a string": (lambda c: c.update(data="pairs.tsv"), "'data' is a str, not a dict"),
    "version is a string": (lambda c: c.update(version="1"), "version '1' is not supported"),
}


@pytest.mark.parametrize("name", EDITS)
def test_hand_edited_checkpoints_give_a_checkpoint_error_naming_the_file(tmp_path, content, name):
    edit, message = EDITS[name]
    path = tmp_path / "edited.ckpt"
    minigrad.save({"kind": "transformer-translation", "version": 1, **_edited(content, edit)}, path)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path)
    assert str(info.value).startswith(f"{path}")


def test_restoring_names_the_file_and_entry_and_keeps_checkpoint_errors():
    unreadable = r"^c\.ckpt: the checkpoint's 'progress' is unreadable: 'epoch'"
    with pytest.raises(CheckpointError, match=unreadable), restoring("c.ckpt", "progress"):
        {"step": 1}["epoch"]  # a KeyError, as from a hand-edited entry
    with pytest.raises(CheckpointError, match="^inner$"), restoring("c.ckpt", "model"):
        raise CheckpointError("inner")
    with pytest.raises(ZeroDivisionError), restoring("c.ckpt", "model"):  # bugs stay bugs
        _ = 1 / 0


def test_the_command_line_prints_one_error_line(tmp_path, content, capsys):
    path = tmp_path / "edited.ckpt"
    save_checkpoint(path, **_edited(content, lambda c: c.update(model="weights")))
    assert main(["translate", "--checkpoint", str(path), "one"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: the checkpoint's 'model' is a str, not a dict")
    assert err.count("\n") == 1 and "Traceback" not in err
