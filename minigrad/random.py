"""Randomness: one numpy generator behind randn/rand/initialisation, plus the counter-based stream
that dropout draws from (`minigrad.kernels.counter_rng`). `manual_seed` seeds both, so a run is
reproducible; `get_state`/`set_state` capture both as plain data (checkpoints need no pickle)."""

import numpy as np

from minigrad import kernels

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed every random draw minigrad makes (factories, parameter init, dropout)."""
    global _generator
    _generator = np.random.default_rng(seed)
    kernels.seed(seed)


def generator() -> np.random.Generator:
    """The current generator (re-created by `manual_seed`)."""
    return _generator


def get_state() -> dict:
    """The state of all of minigrad's randomness as plain data."""
    return {"numpy": _generator.bit_generator.state, "dropout": kernels.get_rng_state()}


def set_state(state: dict) -> None:
    """Restore a state returned by `get_state`."""
    _generator.bit_generator.state = state["numpy"]
    kernels.set_rng_state(state["dropout"])
