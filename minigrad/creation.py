"""Ways to make tensors: from data, filled with constants, random, or ranges (PyTorch names)."""

import numpy as np

from minigrad.random import generator
from minigrad.tensor import Tensor


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def _made(array, dtype, requires_grad) -> Tensor:
    t = Tensor._wrap(array.astype(np.dtype(dtype or np.float32), copy=False))
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A tensor from a number, (nested) list or array; floats default to float32."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (no copy, as ``torch.from_numpy``): writes to one
    show in the other. For views of preallocated buffers, such as a key/value cache, where
    `tensor` would copy the data each time. The dtype must be one tensors use as is."""
    if type(array) is not np.ndarray:
        raise TypeError(f"from_numpy() expects a numpy.ndarray, got {type(array).__name__}")
    if array.dtype not in _SHARED_DTYPES:
        raise TypeError(
            f"from_numpy(): arrays of dtype {array.dtype} cannot be shared; expected one of "
            f"{', '.join(str(np.dtype(d)) for d in _SHARED_DTYPES)} (minigrad.tensor converts)"
        )
    return Tensor._wrap(array)


_SHARED_DTYPES = (np.float32, np.float64, np.int64, np.bool_)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _made(np.zeros(_shape(shape)), dtype, requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _made(np.ones(_shape(shape)), dtype, requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``."""
    return _made(np.full(_shape((shape,)), fill_value), dtype, requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, by default, dtype) of ``t``."""
    return _made(np.zeros(t.shape), dtype or t.dtype, requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, by default, dtype) of ``t``."""
    return _made(np.ones(t.shape), dtype or t.dtype, requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution (seeded by `manual_seed`)."""
    return _made(generator().standard_normal(_shape(shape)), dtype, requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1) (seeded by `manual_seed`)."""
    return _made(generator().random(_shape(shape)), dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None) -> Tensor:
    """Evenly spaced values in [start, end); int64 when all arguments are ints, as PyTorch."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = np.int64 if values.dtype.kind in "iu" else np.float32
    return Tensor._wrap(values.astype(dtype))


def empty(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are not set (here zeros: numpy's uninitialised memory would make
    runs irreproducible for no measurable gain)."""
    return zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    return _made(np.eye(n, m), dtype, requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    return _made(np.linspace(start, end, steps), dtype, requires_grad)


def randint(low, high=None, size=(), dtype=None) -> Tensor:
    """Random integers in [low, high) (``randint(high, size)`` starts at 0), int64 by default
    (seeded by `manual_seed`)."""
    if high is None or isinstance(high, tuple | list):
        low, high, size = 0, low, size if high is None else high
    return Tensor._wrap(generator().integers(low, high, size=tuple(size)).astype(dtype or np.int64))
