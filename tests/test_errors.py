"""Bad input gets a clear error naming the op and the shapes."""

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"Add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        minigrad.zeros(2, 3) + minigrad.zeros(4)


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        minigrad.zeros(2, 3) @ minigrad.zeros(4, 5)
    with pytest.raises(ValueError, match="not aligned"):
        minigrad.zeros(2, 2, 3) @ minigrad.zeros(3, 3, 4)


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
