"""Bad input gets a clear error naming what is wrong: the op and the shapes (minigrad), the
setting or the dataset option (transformer)."""

import re

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from transformer.data import DataError, load_dataset
from transformer.data.registry import dataset_options, parse_options
from transformer.train_config import TrainConfig


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"Add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        minigrad.zeros(2, 3) + minigrad.zeros(4)


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        minigrad.zeros(2, 3) @ minigrad.zeros(4, 5)
    with pytest.raises(ValueError, match="not aligned"):
        minigrad.zeros(2, 2, 3) @ minigrad.zeros(3, 3, 4)


X = minigrad.zeros(2, 3)
DIM_OPS = {
    "flatten": lambda d: X.flatten(0, d), "permute": lambda d: X.permute(0, d),
    "transpose": lambda d: X.transpose(0, d), "unsqueeze": lambda d: X.unsqueeze(d),
    "split": lambda d: X.split(1, d), "chunk": lambda d: X.chunk(2, d),
    "gather": lambda d: X.gather(d, minigrad.tensor([[0], [1]])),
    "cat": lambda d: minigrad.cat([X, X], d), "stack": lambda d: minigrad.stack([X, X], d),
    "squeeze": lambda d: X.squeeze(d), "unbind": lambda d: X.unbind(d),
    "roll": lambda d: X.roll(1, d), "flip": lambda d: X.flip(d), "sum": lambda d: X.sum(d),
    "cumsum": lambda d: X.cumsum(d), "softmax": lambda d: F.softmax(X, d),
}  # fmt: skip


@pytest.mark.parametrize("op", sorted(DIM_OPS))
@pytest.mark.parametrize("dim", [2, 5, -3])
def test_a_dim_out_of_range_is_an_error_never_another_dim(op, dim):
    """A 2-D tensor has dims -2..1, and a new dim (unsqueeze, stack) goes at -3..2: one step
    beyond must not wrap around into another dim."""
    if op in ("unsqueeze", "stack"):
        dim += 1 if dim > 0 else -1
    with pytest.raises(IndexError, match=f"dim {dim} is out of range"):
        DIM_OPS[op](dim)


def test_float_index_is_rejected():
    with pytest.raises(IndexError, match="integer or boolean"):
        minigrad.zeros(3)[minigrad.tensor([0.0, 1.0])]


def test_cross_entropy_target_out_of_range():
    with pytest.raises(IndexError, match="target 5 is out of range for 3 classes"):
        F.cross_entropy(minigrad.zeros(2, 3), np.array([0, 5]))
    with pytest.raises(ValueError, match="expected logits"):
        F.cross_entropy(minigrad.zeros(2, 3), np.array([0, 1, 2]))


def test_other_shape_errors():
    with pytest.raises(RuntimeError, match="invalid for input of shape"):
        minigrad.zeros(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="cat"):
        minigrad.cat([minigrad.zeros(2, 3), minigrad.zeros(3, 3)], dim=1)
    with pytest.raises(ValueError, match="stack"):
        minigrad.stack([minigrad.zeros(2), minigrad.zeros(3)])
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(minigrad.zeros(2, 3), 4)
    with pytest.raises(IndexError, match="out of range for 4 embeddings"):
        F.embedding(minigrad.tensor([1, 4]), minigrad.zeros(4, 2))
    with pytest.raises(ValueError, match="mask"):
        minigrad.zeros(2, 3).masked_fill(minigrad.tensor([[True], [False], [True]]), 0.0)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"max_steps": 0}, "max_steps must be >= 1, got 0"),
        ({"num_encoder_layers": -1}, "num_encoder_layers must be >= 0, got -1"),
        ({"lr": float("nan")}, "lr must be a finite number, got nan"),
        ({"time_budget": -1.0}, "time_budget must be > 0, got -1.0"),
        ({"d_model": 128.0}, "d_model must be an integer, got 128.0"),
        ({"dropout": "0.1"}, "dropout must be a number, got '0.1'"),
        ({"tie_embeddings": 1}, "tie_embeddings must be true or false, got 1"),
        ({"epochs": None}, "epochs must be given, got None"),
        ({"monitor": "accuracy"}, "monitor must be one of ('chrf', 'bleu', 'exact_match', 'loss')"),
    ],
)  # fmt: skip
def test_train_config_checks_every_setting_naming_the_field(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig(**settings).validate()
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig.from_dict({**TrainConfig().to_dict(), **settings})


def test_dataset_options_are_checked_against_the_loader(tmp_path):
    with pytest.raises(
        DataError, match="reverse .* has no data option 'foo'; its options are num_"
    ):
        load_dataset("reverse", foo=1)
    with pytest.raises(DataError, match="data option num_train must be an integer, got 1000.0"):
        load_dataset("reverse", num_train=1e3)
    with pytest.raises(DataError, match="missing.tsv: no such file"):
        load_dataset(tmp_path / "missing.tsv")
    assert "max_train" in dataset_options(write(tmp_path / "p.tsv", "a\tb\n" * 5))


def test_dataset_options_that_leave_no_training_pairs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="num_train must be >= 1"):
        load_dataset("reverse", num_train=0)
    with pytest.raises(ValueError, match="num_train must be >= 1"):
        load_dataset("numbers-en-fr", num_train=0)
    pairs = write(tmp_path / "p.tsv", "a\tb\n" * 10)
    for max_train in (0, -5):  # -5 kept all but the last 5 pairs
        with pytest.raises(DataError, match=f"max_train must be >= 1 .*, got {max_train}"):
            load_dataset(pairs, num_valid=1, num_test=1, max_train=max_train)


def test_dataset_options_from_text_follow_the_loaders_types(tmp_path):
    texts = {"num_train": "20", "symbols": "123", "valid_fraction": "0.1"}
    assert parse_options("reverse", texts) == {
        "num_train": 20, "symbols": "123", "valid_fraction": 0.1
    }  # fmt: skip
    pairs = write(tmp_path / "p.tsv", "a\tb\n" * 5)
    assert parse_options(pairs, {"max_train": "none", "lowercase": "False"}) == {
        "max_train": None, "lowercase": False
    }  # fmt: skip
    for text, expected in (("1e3", "an integer or none"), ("yes", "an integer or none")):
        with pytest.raises(DataError, match=f"max_train must be {expected}, got '{text}'"):
            parse_options(pairs, {"max_train": text})
    with pytest.raises(DataError, match="lowercase must be true or false, got '1'"):
        parse_options(pairs, {"lowercase": "1"})


def write(path, text):
    """Write a UTF-8 text file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: minigrad.arange(3).float().tril(), ValueError, r"tril\(\): needs .* 2 dims"),
        (lambda: minigrad.arange(3).float().triu(1), ValueError, r"triu\(\): needs .* 2 dims"),
        (lambda: X.topk(4, dim=1), ValueError, r"topk\(\): k=4 is out of range .* size 3"),
        (lambda: X.chunk(0), ValueError, r"chunk\(\): chunks must be at least 1"),
        (lambda: X.split(0, 1), ValueError, r"split\(\): split_size must be at least 1"),
        (lambda: X.norm(p=0), ValueError, r"norm\(\): p must be positive"),
        (lambda: F.one_hot(minigrad.tensor([1.5]), 3), TypeError, r"one_hot\(\): ids must be"),
        (lambda: minigrad.arange(0, 10, 0), ValueError, r"arange\(\): step must be nonzero"),
    ],
)
def test_bad_arguments_name_the_op_and_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mse_loss_warns_when_shapes_differ_as_pytorch_does():
    with pytest.warns(UserWarning, match=r"target shape \(4,\) differs from input shape \(4, 1\)"):
        loss = F.mse_loss(minigrad.zeros(4, 1), minigrad.ones(4), reduction="none")
    assert loss.shape == (4, 4)  # broadcast, as PyTorch does after its warning


def test_nll_loss_names_a_float_target():
    with pytest.raises(TypeError, match="nll_loss.*integer class indices, got float32"):
        F.nll_loss(minigrad.zeros(2, 3), minigrad.tensor([0.5, 1.0]))
