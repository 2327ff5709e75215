"""Row-wise argmax: the Numba kernel for transposed storage against numpy's argmax."""

import numpy as np
import pytest

from minigrad import kernels as K
from minigrad.kernels.testing import compare_backends as compare


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 8000), (5, 3), (1, 7), (40, 1)])
def test_argmax_rows_matches_numpy_in_both_layouts(dtype, shape):
    rng = np.random.default_rng(shape[0])
    stored = rng.standard_normal(shape[::-1]).astype(dtype)
    for x in (
        stored.T,
        np.ascontiguousarray(stored.T),
        stored.T[:, ::2] if shape[1] > 2 else stored.T,
    ):
        np.testing.assert_array_equal(compare(K.argmax_rows, x), np.argmax(x, axis=1))


def test_argmax_rows_keeps_numpys_rules_for_ties_and_nan():
    stored = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0], [3.0, 1.0, np.nan]], np.float32)
    x = stored.T  # transposed storage: the Numba kernel's case
    assert x.T.flags.c_contiguous and not x.flags.c_contiguous
    for backend in K.BACKENDS:  # not `compare`: it rejects NaN in its inputs
        with K.use_backend(backend):
            np.testing.assert_array_equal(K.argmax_rows(x), [1, 0, 0])  # first max; NaN wins


def test_argmax_rows_errors_are_clear():
    with pytest.raises(ValueError, match=r"x must be \(N, C\) with C >= 1, got \(3,\)"):
        K.argmax_rows(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"got \(2, 0\)"):
        K.argmax_rows(np.zeros((2, 0), np.float32))
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        K.argmax_rows(np.zeros((2, 2), np.int64))
