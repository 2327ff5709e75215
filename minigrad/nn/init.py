"""Parameter initialisation in place, with PyTorch's names and formulas.

For a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel). Every function fills ``t.data`` in place (no graph is recorded),
draws from minigrad's seeded generator (`minigrad.manual_seed`) and returns ``t``. A tensor with
no elements is left alone, as in PyTorch.
"""

import math

import numpy as np

from minigrad.autograd import bump_version
from minigrad.random import generator
from minigrad.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table): 1 for linear and sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for leaky_relu with slope a
    (default 0.01), 3/4 for selu."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(t: Tensor) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dims, got shape {t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t: Tensor, draw) -> Tensor:
    """Write ``draw(shape)`` (a value or an array) into ``t`` unless it is empty."""
    if t.data.size:
        t.data[...] = draw(t.shape)
        bump_version(t)
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of U(a, b)."""
    return _fill(t, lambda shape: generator().uniform(a, b, shape))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    return _fill(t, lambda shape: generator().normal(mean, std, shape))


def constant_(t: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(t, lambda shape: val)


def zeros_(t: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(t, 0)


def ones_(t: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(t, 1)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(t)
    if not fan_in + fan_out:
        return t
    return uniform_(t, *_symmetric(gain * math.sqrt(6.0 / (fan_in + fan_out))))


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t)
    if not fan_in + fan_out:
        return t
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(t: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """gain / sqrt(fan), or None for an empty tensor."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else None


def kaiming_uniform_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015). PyTorch's Linear default is
    ``a=sqrt(5)``: gain = sqrt(2 / 6), so b = 1 / sqrt(fan_in)."""
    std = _kaiming_std(t, a, mode, nonlinearity)
    return t if std is None else uniform_(t, *_symmetric(math.sqrt(3.0) * std))


def kaiming_normal_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015)."""
    std = _kaiming_std(t, a, mode, nonlinearity)
    return t if std is None else normal_(t, 0.0, std)


def _symmetric(bound: float) -> tuple[float, float]:
    return -bound, bound
