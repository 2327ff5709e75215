"""The one random number generator behind randn/rand/dropout/initialisation, seeded by
`manual_seed` so that a run is reproducible."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed every random draw minigrad makes (factories, dropout, parameter init)."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The current generator (re-created by `manual_seed`)."""
    return _generator


def get_state() -> dict:
    """The generator's state as plain data (for checkpoints; no pickle needed)."""
    return _generator.bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state returned by `get_state`."""
    _generator.bit_generator.state = state
