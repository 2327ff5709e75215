"""Positional schemes: the formulas, what they do to the encoder's symmetry, and RoPE's
relative-offset property."""

import numpy as np
import pytest
from helpers import assert_within, float32_order_tolerance, gamma

import minigrad
from transformer import ALiBi, RotaryEmbedding, Transformer
from transformer.model.positional import alibi_slopes, check_scheme, sinusoid_table


def test_sinusoid_table_follows_the_paper():
    table = sinusoid_table(50, 16)
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert table[pos, 2 * i] == pytest.approx(np.sin(angle))
    assert table[pos, 2 * i + 1] == pytest.approx(np.cos(angle))
    # PE(pos + k) is a fixed linear map of PE(pos), the same for every pos: per pair of
    # frequency w, the rotation by k w (sin(a + b) = sin a cos b + cos a sin b, and cos).
    k = 5
    w = table[1, 0::2]  # sin(w) for pos = 1 ...
    w = np.arctan2(w, table[1, 1::2])  # ... and cos(w): the table's own frequencies
    rotation = np.zeros((16, 16))
    for i, c, s_ in zip(range(0, 16, 2), np.cos(k * w), np.sin(k * w), strict=True):
        rotation[i : i + 2, i : i + 2] = [[c, -s_], [s_, c]]
    # Entries are sin/cos of angles up to 50 rad: off by u |angle| (the rounded angle) plus a
    # few ulps each; the rotation's too, and each result sums 2 products: within
    # gamma_{4 (45 + k + 8)} in float64, about 3e-14.
    bound = gamma(4 * (45 + k + 8), np.float64)
    assert_within(table[:45] @ rotation, table[k : 45 + k], bound, "PE(pos + k) = R_k PE(pos)")


def test_rope_scores_depend_only_on_relative_offsets():
    rope = RotaryEmbedding(head_dim=8)
    rng = np.random.default_rng(0)
    q = minigrad.tensor(rng.standard_normal((1, 1, 1, 8)))
    k = minigrad.tensor(rng.standard_normal((1, 1, 1, 8)))

    def score(m, n):
        return float((rope.rotate(q, m).data * rope.rotate(k, n).data).sum())

    # Angles up to 107 rad, off by u |angle| once rounded, sin and cos a few ulps more: each
    # rotated entry within gamma_{107 + 8} of its pair's length, a score within twice that of
    # sum |q_i| |k_i| (both rotations), plus the 8-term sum's own gamma_8.
    magnitude = float(np.abs(q.data).ravel() @ np.abs(k.data).ravel()) * 2
    bound = 2 * (2 * gamma(107 + 8, np.float64) + gamma(8, np.float64)) * magnitude
    assert score(3, 1) == pytest.approx(score(13, 11), abs=bound)
    assert score(0, 7) == pytest.approx(score(100, 107), abs=bound)
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


def encoder_outputs(positional: str, src: np.ndarray, dtype=np.float32) -> np.ndarray:
    minigrad.manual_seed(0)
    model = Transformer(12, 12, d_model=16, num_heads=2, num_encoder_layers=2,
                        num_decoder_layers=1, d_ff=32, positional=positional)  # fmt: skip
    for p in model.parameters():
        p.data = p.data.astype(dtype)
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
    # Permuting the tokens permutes the order of the sums over keys: without positions the two
    # differ by float32 rounding only, measured against the float64 encoder
    # (helpers.float32_order_tolerance); with positions, by far more.
    tolerance = 2 * float32_order_tolerance(out, encoder_outputs(positional, src, np.float64))
    equivariant = np.allclose(out[:, perm], out_of_permuted, rtol=0, atol=tolerance)
    assert equivariant == (positional == "none")
