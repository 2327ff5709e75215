"""The switch between fused ops and their composed versions, per thread like grad mode.

Fused ops (``F.linear`` as one node, ``F.attention`` as one node) are faster: at toy sizes every
recorded op costs microseconds of Python whatever its size. Composed versions record every small
op (``x @ W^T``, ``+ b``; ``q @ k^T``, ``* scale``, ``masked_fill``, ``softmax``, ``@ v``), which
is what a learner wants to see in `minigrad.viz` and what tests use as the reference. Each fused
op in `minigrad.nn.functional` owns its composed version; code above `minigrad.nn` calls ``F.*``
and never asks which one runs.

    with minigrad.fused(False):   # or MINIGRAD_FUSED=0 in the environment
        loss = model(x)           # every small op visible in the graph

Like ``no_grad``, the switch is per thread: each thread starts with the environment's default.
"""

import contextlib
import os
import threading


def parse_fused_setting(value: str | None) -> bool:
    """MINIGRAD_FUSED's value as on/off (unset: on); ValueError naming the variable for a value
    that is neither, instead of silently taking it as one of them."""
    text = (value if value is not None else "1").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"MINIGRAD_FUSED={value!r}: expected 1/true/yes/on or 0/false/no/off")


class _FusedState(threading.local):
    """Per-thread switch (the class attribute is the default every thread starts with)."""

    enabled = parse_fused_setting(os.environ.get("MINIGRAD_FUSED"))


_state = _FusedState()


def is_fused_enabled() -> bool:
    """Whether fused ops are used in this thread (the default)."""
    return _state.enabled


def set_fused(enabled: bool) -> None:
    """Use fused ops (True) or their composed versions (False) from now on, in this thread."""
    _state.enabled = bool(enabled)


class fused(contextlib.ContextDecorator):  # noqa: N801 (used like minigrad.no_grad)
    """Context manager/decorator: fused ops on or off inside the block."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self):
        self.previous = _state.enabled
        set_fused(self.enabled)

    def __exit__(self, *exc):
        set_fused(self.previous)
