"""nn.utils.clip_grad_norm_: total norm and in-place scaling, as PyTorch."""

import math

import numpy as np
import pytest
from helpers import float32_sum_tolerance

import minigrad
from minigrad import nn
from minigrad.nn.utils import clip_grad_norm_


def _params_with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g), np.float32))
        p.grad = minigrad.tensor(np.asarray(g, np.float32))
        params.append(p)
    return params


def test_clips_to_max_norm_with_pytorch_coefficient():
    params = _params_with_grads([3.0, 0.0], [[4.0]])
    norm = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(norm, float) and norm == pytest.approx(5.0) and norm.item() == norm
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [3 * coef, 0], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [[4 * coef]], rtol=1e-6)
    assert params[0].grad.dtype == np.float32


def test_leaves_small_gradients_alone_and_skips_missing_ones():
    params = _params_with_grads([0.3, 0.4])
    params.append(nn.Parameter(np.zeros(2, np.float32)))  # no gradient
    assert clip_grad_norm_(params, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), np.float32([0.3, 0.4]))
    assert clip_grad_norm_([], 1.0) == 0.0


@pytest.mark.parametrize("norm_type", [1.0, 3.0, math.inf])
def test_other_norm_types(norm_type):
    grads = [np.array([1.0, -2.0]), np.array([[-3.0]])]
    params = _params_with_grads(*grads)
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.abs(flat).max() if math.isinf(norm_type) else np.linalg.norm(flat, norm_type)
    assert clip_grad_norm_(params, 0.5, norm_type=norm_type) == pytest.approx(expected)
    clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
    np.testing.assert_allclose(clipped, flat * 0.5 / (expected + 1e-6), rtol=1e-6)


def test_accepts_a_single_parameter_and_reports_nonfinite_norms():
    (p,) = _params_with_grads([np.inf, 1.0])
    assert math.isinf(clip_grad_norm_(p, 1.0))
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_scales_the_gradient_arrays_in_place_as_pytorch_mul_():
    (p,) = _params_with_grads([3.0, 4.0])
    array = p.grad.data
    clip_grad_norm_(p, 1.0)
    assert p.grad.data is array
    np.testing.assert_allclose(array, [0.6, 0.8], rtol=1e-5)


def test_read_only_gradients_are_replaced_not_written():
    (p,) = _params_with_grads([3.0, 4.0])
    array = p.grad.data
    array.flags.writeable = False
    clip_grad_norm_(p, 1.0)
    np.testing.assert_array_equal(array, np.float32([3.0, 4.0]))
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_float32_overflow_of_the_squares_falls_back_to_float64():
    (p,) = _params_with_grads([3e20, 4e20])  # squares overflow float32; the norm does not
    assert clip_grad_norm_(p, 1.0) == pytest.approx(5e20, rel=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_norm_of_many_float32_entries_is_exact_when_float32_sums_are():
    """Small integers: every partial sum of the squares is an integer below 2**24, exact in
    float32 in any order, so the BLAS dot has no rounding at all and the norm must equal the
    float64 one exactly, whatever the kernel, vector width or thread count. The last entries are
    nonzero: a kernel's remainder loop (1_000_003 is odd) counts."""
    grad = np.random.default_rng(0).integers(-2, 3, 1_000_003).astype(np.float32)
    grad[-3:] = 2.0
    squares = int((grad.astype(np.int64) ** 2).sum())
    assert squares < 2**24
    (p,) = _params_with_grads(grad)
    assert clip_grad_norm_(p, 1e9) == float(squares) ** 0.5


def test_norm_of_many_float32_entries_matches_float64():
    """The sum of 1_000_003 float32 squares by a BLAS dot, against float64. Its rounding error
    depends on the kernel's order (AVX2, AVX-512, an older OPENBLAS_CORETYPE, one or two threads):
    1.2e-6 relative on an AMD EPYC, 2.8e-6 with Nehalem's kernel, 4.4e-4 for a plain sequential
    float32 loop, whose running sum swallows every square below half its ulp (a one-sided error,
    so the sqrt(n) u estimates for random rounding do not bound it). The bound that holds for
    every order is gamma_n on a sum of terms of one sign (helpers.float32_sum_tolerance): 6.3 %
    on the sum of squares, 3.2 % on the norm (a square root halves a relative error). The test
    above checks the same path exactly; this one, that real data goes through it."""
    grad = np.random.default_rng(0).standard_normal(1_000_003).astype(np.float32)
    (p,) = _params_with_grads(grad)
    expected = np.linalg.norm(grad.astype(np.float64))
    squares_rel = float32_sum_tolerance(grad.size)  # all squares >= 0: relative to the sum
    norm_rel = 1 - math.sqrt(1 - squares_rel)
    assert clip_grad_norm_(p, 1e9) == pytest.approx(expected, rel=norm_rel)
