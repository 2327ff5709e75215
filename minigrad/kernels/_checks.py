"""Input validation shared by both backends: bad input fails here, with the kernel's name and
the offending shape or dtype, instead of deep inside numpy or Numba."""

import numpy as np

FLOAT_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def floats(kernel, **arrays):
    """The named arrays as ndarrays, all float32 or all float64 (no silent promotion)."""
    out = [a if type(a) is np.ndarray else np.asarray(a) for a in arrays.values()]
    dtype = out[0].dtype
    if dtype in FLOAT_DTYPES and all(a.dtype is dtype for a in out):  # the common case, fast
        return out
    for name, a in zip(arrays, out, strict=True):
        if a.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{kernel}(): {name} must be float32 or float64, got {a.dtype}")
    dtypes = {a.dtype for a in out}
    if len(dtypes) > 1:
        found = ", ".join(f"{n}={a.dtype}" for n, a in zip(arrays, out, strict=True))
        raise TypeError(f"{kernel}(): arrays must share one dtype, got {found}")
    return out


def same_float(a, b):
    """True when ndarrays a and b share a float32 or float64 dtype (the cheap test of `floats`)."""
    return a.dtype is b.dtype and a.dtype in FLOAT_DTYPES


def same_shape(kernel, expected, **arrays):
    """Check every named array has shape `expected`."""
    for name, a in arrays.items():
        if a.shape != tuple(expected):
            raise ValueError(f"{kernel}(): {name} has shape {a.shape}, expected {tuple(expected)}")


def writable(kernel, **arrays):
    """Check arrays that a kernel updates in place can be written to."""
    for name, a in arrays.items():
        if not a.flags.writeable:
            raise ValueError(f"{kernel}(): {name} is read-only, but it is updated in place")


def at_least_1d(kernel, name, a):
    """Check `a` has a last axis to work along."""
    if a.ndim == 0:
        raise ValueError(f"{kernel}(): {name} must have at least 1 dimension, got a scalar")


def mask(kernel, mask, shape):
    """A bool mask that broadcasts to `shape` (True = may attend), or None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{kernel}(): mask must be bool (True = keep), got {mask.dtype}")
    fits = mask.ndim <= len(shape) and all(
        m in (1, s) for m, s in zip(mask.shape[::-1], shape[::-1], strict=False)
    )
    if not fits:
        raise ValueError(f"{kernel}(): mask of shape {mask.shape} does not broadcast to {shape}")
    return mask


def targets(kernel, target, n_rows, n_classes, ignore_index):
    """Class indices (N,) as int64, each in [0, C) or equal to ignore_index."""
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{kernel}(): target must hold integer class indices, got {target.dtype}")
    if target.shape != (n_rows,):
        raise ValueError(f"{kernel}(): target has shape {target.shape}, expected ({n_rows},)")
    bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if bad.any():
        raise IndexError(
            f"{kernel}(): target {target[bad][0]} is out of range for {n_classes} classes "
            f"(valid: 0..{n_classes - 1}, or ignore_index={ignore_index})"
        )
    return np.ascontiguousarray(target, dtype=np.int64)


def probability(kernel, name, p):
    """A float in [0, 1]."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{kernel}(): {name} must be in [0, 1], got {p}")
    return float(p)
