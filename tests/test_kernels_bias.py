"""The weight-major bias add: the Numba kernel against numpy's broadcast add."""

import numpy as np
import pytest

from minigrad import kernels as K
from minigrad.kernels.testing import compare_backends as compare


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8000, 32), (512, 7), (1, 1), (3, 0)])
def test_add_row_bias_matches_numpy_in_place(dtype, shape):
    rng = np.random.default_rng(shape[0])
    bias = rng.standard_normal(shape[0]).astype(dtype)
    for layout in (lambda a: a, lambda a: a[:, ::2], np.asfortranarray):  # C, strided, F
        y = layout(rng.standard_normal(shape).astype(dtype))
        expected = y + bias[:, None]
        compare(K.add_row_bias, y, bias)  # the backends' updated copies of y agree
        K.add_row_bias(y, bias)
        np.testing.assert_array_equal(y, expected)


def test_add_row_bias_errors_are_clear():
    y = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"need y \(N, M\) and bias \(N,\), got y \(4, 3\) and "):
        K.add_row_bias(y, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"got y \(12,\)"):
        K.add_row_bias(y.reshape(-1), np.zeros(12, np.float32))
    with pytest.raises(TypeError, match="bias must be float32 or float64, got int64"):
        K.add_row_bias(y, np.zeros(4, np.int64))
    with pytest.raises(TypeError, match="arrays must share one dtype"):
        K.add_row_bias(y, np.zeros(4, np.float64))
    y.flags.writeable = False
    with pytest.raises(ValueError, match="y is read-only"):
        K.add_row_bias(y, np.zeros(4, np.float32))
