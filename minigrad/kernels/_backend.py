"""Which implementation the public kernels call: "numba" (default) or "numpy" (the reference).

The choice is one module-level variable, `impl`, so dispatching costs one attribute lookup.
The initial value comes from the environment variable MINIGRAD_BACKEND=numpy|numba.
"""

import importlib
import os
from contextlib import contextmanager

_MODULES = {"numba": "minigrad.kernels.numba_backend", "numpy": "minigrad.kernels.reference"}
BACKENDS = tuple(_MODULES)

name = None
impl = None


def get_backend():
    """The current backend's name: "numba" or "numpy"."""
    return name


def set_backend(backend):
    """Make every kernel call use `backend` ("numba" or "numpy") from now on."""
    global name, impl
    if backend not in _MODULES:
        raise ValueError(f"unknown kernel backend {backend!r}; expected one of {BACKENDS}")
    impl = importlib.import_module(_MODULES[backend])
    name = backend


@contextmanager
def use_backend(backend):
    """Context manager: use `backend` inside the block, then restore the previous one."""
    previous = name
    set_backend(backend)
    try:
        yield
    finally:
        set_backend(previous)


def set_from_environment(environ=os.environ):
    """Select the backend named by MINIGRAD_BACKEND (default "numba")."""
    backend = environ.get("MINIGRAD_BACKEND", "numba").strip().lower() or "numba"
    if backend not in _MODULES:
        raise ValueError(
            f"MINIGRAD_BACKEND={environ['MINIGRAD_BACKEND']!r} is not a kernel backend; "
            f"expected one of {BACKENDS}"
        )
    set_backend(backend)
