"""Dropout's random numbers: a counter-based stream, identical in both backends.

Element i of a dropout call gets the 32 high bits of SplitMix64(key + (offset + i + 1) * gamma),
where (key, offset) is claimed from a global state that `seed` resets. Because each number depends
only on its counter, the numpy reference (whole arrays) and the Numba kernel (a loop, possibly
split across threads) draw exactly the same masks, and a run is reproducible from its seed.
"""

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1
_state = {"key": 0, "offset": 0}


def mix(z):
    """SplitMix64's finaliser: a bijective scramble of uint64 values (arrays; scalars in Numba)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def random_bits(key, offset, n):
    """n uniform 32-bit integers (as uint64) for the counters offset, ..., offset + n - 1."""
    counters = np.arange(offset + 1, offset + n + 1, dtype=np.uint64)
    return mix(np.uint64(key) + counters * _GAMMA) >> np.uint64(32)


def threshold(p):
    """The integer t with P(bits >= t) = 1 - p (to 2**-32): an element is kept when bits >= t."""
    return np.uint64(round(p * 2**32))


def seed(s):
    """Restart the stream from integer seed `s`: the same seed gives the same dropout masks."""
    _state["key"] = int(mix(np.array([int(s) & _MASK64], dtype=np.uint64))[0])
    _state["offset"] = 0


def claim(n):
    """Reserve n numbers of the stream; returns the (key, offset) the kernel draws them from."""
    key, offset = _state["key"], _state["offset"]
    _state["offset"] = offset + n
    return key, offset


def get_state():
    """The stream position as plain data (for checkpoints)."""
    return dict(_state)


def set_state(state):
    """Restore a position returned by `get_state`."""
    _state["key"], _state["offset"] = int(state["key"]), int(state["offset"])


seed(np.random.SeedSequence().entropy)
