"""Shared test helpers: random float64 leaves."""

import numpy as np

import minigrad

RNG = np.random.default_rng(1234)


def leaf(*shape, positive=False, requires_grad=True):
    """A float64 tensor of standard-normal values (``positive``: |x| + 0.5)."""
    data = RNG.standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    return minigrad.tensor(data, dtype=np.float64, requires_grad=requires_grad)
