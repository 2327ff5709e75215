"""Positional schemes: the formulas, what they do to the encoder's symmetry, and RoPE's
relative-offset property."""

import numpy as np
import pytest

import minigrad
from transformer import ALiBi, RotaryEmbedding, Transformer
from transformer.model.positional import alibi_slopes, check_scheme, sinusoid_table


def test_sinusoid_table_follows_the_paper():
    table = sinusoid_table(50, 16)
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert table[pos, 2 * i] == pytest.approx(np.sin(angle))
    assert table[pos, 2 * i + 1] == pytest.approx(np.cos(angle))
    # PE(pos + k) is a fixed linear map (a rotation per pair) of PE(pos), the same for every pos
    k = 5
    a, _, _, _ = np.linalg.lstsq(table[:40], table[k : 40 + k], rcond=None)
    np.testing.assert_allclose(table[:45] @ a, table[k : 45 + k], atol=1e-9)


def test_rope_scores_depend_only_on_relative_offsets():
    rope = RotaryEmbedding(head_dim=8)
    rng = np.random.default_rng(0)
    q = minigrad.tensor(rng.standard_normal((1, 1, 1, 8)))
    k = minigrad.tensor(rng.standard_normal((1, 1, 1, 8)))

    def score(m, n):
        return float((rope.rotate(q, m).data * rope.rotate(k, n).data).sum())

    assert score(3, 1) == pytest.approx(score(13, 11), abs=1e-12)
    assert score(0, 7) == pytest.approx(score(100, 107), abs=1e-12)
    assert score(3, 1) != pytest.approx(score(3, 2), abs=1e-3)
    # a rotation keeps lengths
    assert np.linalg.norm(rope.rotate(q, 42).data) == pytest.approx(np.linalg.norm(q.data))


def test_rope_rotates_with_the_absolute_offset_of_each_row():
    rope = RotaryEmbedding(head_dim=4)
    x = minigrad.tensor(np.random.default_rng(1).standard_normal((2, 1, 6, 4)))
    whole = rope.rotate(x, 0).data
    np.testing.assert_allclose(rope.rotate(x[:, :, 4:], 4).data, whole[:, :, 4:], atol=1e-12)
    with pytest.raises(ValueError, match="even"):
        RotaryEmbedding(5)


def test_alibi_slopes_and_bias():
    np.testing.assert_allclose(alibi_slopes(8), [2.0**-k for k in range(1, 9)])
    # not a power of two: the 4-head slopes, then every other 8-head slope
    np.testing.assert_allclose(alibi_slopes(6), [2**-2, 2**-4, 2**-6, 2**-8, 2**-1, 2**-3])
    bias = ALiBi(2).bias(2, 4, np.float32).data  # queries at positions 2, 3 of 0..3
    assert bias.shape == (1, 2, 2, 4) and bias.dtype == np.float32
    np.testing.assert_allclose(bias[0, 0], -(2**-4) * np.array([[2, 1, 0, 1], [3, 2, 1, 0]]))
    far = ALiBi(2).bias(3, 100, np.float64).data  # longer than any table so far: it grows
    assert far.shape == (1, 2, 3, 100)
    assert far[0, 1, 2, 40] == -(2**-8) * (99 - 40)


def test_unknown_scheme_is_rejected():
    with pytest.raises(ValueError, match="unknown positional scheme 'relative'"):
        check_scheme("relative")
    with pytest.raises(ValueError, match="unknown positional"):
        Transformer(5, 5, d_model=8, num_heads=2, positional="relative")


def test_learned_positions_stop_at_max_len():
    model = Transformer(5, 5, d_model=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1,
                        d_ff=8, positional="learned", max_len=4)  # fmt: skip
    model.encode(np.ones((1, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="max_len=4"):
        model.encode(np.ones((1, 5), dtype=np.int64))


def encoder_outputs(positional: str, src: np.ndarray) -> np.ndarray:
    minigrad.manual_seed(0)
    model = Transformer(12, 12, d_model=16, num_heads=2, num_encoder_layers=2,
                        num_decoder_layers=1, d_ff=32, positional=positional)  # fmt: skip
    model.eval()
    return model.encode(src).data


@pytest.mark.parametrize("positional", ["none", "sinusoidal", "learned", "rope", "alibi"])
def test_only_positions_break_the_encoders_permutation_equivariance(positional):
    src = np.array([[3, 1, 4, 10, 5, 9, 2, 6]])
    perm = np.random.default_rng(0).permutation(src.shape[1])
    out, out_of_permuted = (
        encoder_outputs(positional, src),
        encoder_outputs(positional, src[:, perm]),
    )
    equivariant = np.allclose(out[:, perm], out_of_permuted, atol=1e-5)
    assert equivariant == (positional == "none")
