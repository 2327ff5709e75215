"""`GradStats`: the few numbers that say whether a gradient is healthy.

A picture of a graph cannot show whole gradient arrays, so every node and edge carries a summary:
the L2 norm ``sqrt(sum g^2)`` (how much signal flows), the largest magnitude ``max |g|`` (spikes),
the fraction of exact zeros (dead ReLUs, masked positions) and whether any entry is NaN or inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GradStats:
    """Summary of one gradient array: L2 norm, max-abs, fraction of zeros, NaN/inf flag."""

    norm: float
    max_abs: float
    zero_fraction: float
    nonfinite: bool
    size: int
    value: float | None = None  # the signed gradient itself when it has one element

    @classmethod
    def of(cls, grad) -> GradStats:
        """Summarise an array (or anything numpy can turn into one)."""
        g = np.asarray(grad)
        if g.size == 0:
            return cls(0.0, 0.0, 1.0, False, 0)
        finite = np.isfinite(g)
        nonfinite = not bool(finite.all())
        values = g.astype(np.float64, copy=False)
        if nonfinite:
            norm = max_abs = math.nan
        else:
            norm = float(np.sqrt(np.vdot(values, values).real))
            max_abs = float(np.abs(values).max())
        zeros = float(np.count_nonzero(g == 0)) / g.size
        value = float(values.reshape(-1)[0]) if g.size == 1 else None
        return cls(norm, max_abs, zeros, nonfinite, int(g.size), value)

    @classmethod
    def combine(cls, parts) -> GradStats | None:
        """Stats of several gradients taken together (their concatenation): the norm is
        ``sqrt(sum norm_i^2)``; used when collapsing merges parallel edges."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        size = sum(p.size for p in parts)
        nonfinite = any(p.nonfinite for p in parts)
        norm = math.nan if nonfinite else math.sqrt(sum(p.norm**2 for p in parts))
        max_abs = math.nan if nonfinite else max(p.max_abs for p in parts)
        zeros = sum(p.zero_fraction * p.size for p in parts) / size if size else 1.0
        return cls(norm, max_abs, zeros, nonfinite, size)

    def vanishing(self, threshold: float) -> bool:
        """True when the gradient is finite and its norm is below ``threshold``."""
        return not self.nonfinite and self.norm < threshold

    def __str__(self) -> str:
        if self.nonfinite:
            return "NaN/inf"
        return f"|g|={self.norm:.3g} max={self.max_abs:.3g} zeros={self.zero_fraction:.0%}"
