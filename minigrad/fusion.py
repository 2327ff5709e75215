"""The switch between fused ops and their composed versions.

Fused ops (``F.linear`` as one node, ``F.attention`` as one node) are faster: at toy sizes every
recorded op costs microseconds of Python whatever its size. Composed versions record every small
op (``x @ W^T``, ``+ b``; ``q @ k^T``, ``* scale``, ``masked_fill``, ``softmax``, ``@ v``), which
is what a learner wants to see in `minigrad.viz` and what tests use as the reference.

    with minigrad.fused(False):   # or MINIGRAD_FUSED=0 in the environment
        loss = model(x)           # every small op visible in the graph
"""

import contextlib
import os

_enabled = os.environ.get("MINIGRAD_FUSED", "1").strip() not in ("0", "false", "no")


def is_fused_enabled() -> bool:
    """Whether fused ops are used (the default)."""
    return _enabled


def set_fused(enabled: bool) -> None:
    """Use fused ops (True) or their composed versions (False) from now on."""
    global _enabled
    _enabled = bool(enabled)


class fused(contextlib.ContextDecorator):  # noqa: N801 (used like minigrad.no_grad)
    """Context manager/decorator: fused ops on or off inside the block."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self):
        self.previous = _enabled
        set_fused(self.enabled)

    def __exit__(self, *exc):
        set_fused(self.previous)
