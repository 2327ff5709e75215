"""Reverse-mode automatic differentiation: the whole idea on one screen.

Every differentiable operation is a `Function`. Calling ``SomeOp.apply(*tensors)`` runs
``forward`` on plain numpy arrays and, when any input requires a gradient, returns a tensor that
remembers the Function instance that made it (``tensor._ctx``). The instance doubles as the
*context*: ``forward`` stores on ``self`` whatever ``backward`` will need.

``backward(root)`` then

1. sorts the recorded graph topologically (iteratively, so a graph 10,000 ops deep is fine),
2. walks it from the root back to the leaves, calling each Function's ``backward`` with the
   gradient of its output and receiving one gradient per input (the chain rule),
3. sums gradients that reach the same tensor along several paths, and stores the sums of leaf
   tensors in ``.grad`` (accumulating across backward calls, as PyTorch does).

Broadcasting in the forward pass is undone in the backward pass by `unbroadcast`, in one place.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np


class _State(threading.local):
    """Per-thread switches (class attributes are the defaults every thread starts with)."""

    grad_enabled = True
    anomaly = False
    module = None


_state = _State()
Tensor = None  # set by minigrad.tensor (which imports this module) to avoid an import cycle


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for backward."""
    return _state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording on or off."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        self.previous = is_grad_enabled()
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc):
        _state.grad_enabled = self.previous


def no_grad() -> _GradMode:
    """Disable graph recording (for evaluation and parameter updates): ``with no_grad(): ...``."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Re-enable graph recording inside a ``no_grad`` block."""
    return _GradMode(True)


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Raise as soon as any op produces a NaN/inf, naming the op, forward or backward."""

    def __enter__(self):
        self.previous = _state.anomaly
        _state.anomaly = True

    def __exit__(self, *exc):
        _state.anomaly = self.previous


def _check_finite(fn: Function, arrays, where: str) -> None:
    for a in arrays:
        if a is not None and a.dtype.kind == "f" and not np.isfinite(a).all():
            where_module = f" in module '{fn.module}'" if fn.module else ""
            raise RuntimeError(
                f"detect_anomaly: {type(fn).__name__} produced NaN/inf in its {where} "
                f"pass{where_module}"
            )


def current_module() -> str | None:
    """Dotted path of the nn.Module whose forward is running (recorded on each graph node)."""
    return _state.module


@contextlib.contextmanager
def module_scope(path: str):
    """Record ``path`` as the module that produced the ops recorded inside the block."""
    previous = _state.module
    _state.module = path
    try:
        yield
    finally:
        _state.module = previous


class Function:
    """One differentiable operation; an instance is one node of the recorded graph.

    Subclasses implement ``forward(self, *arrays, **options) -> ndarray`` and
    ``backward(self, grad) -> tuple`` returning one gradient (ndarray or None) per tensor input.
    ``self.needs_input_grad[i]`` tells backward which gradients are wanted.
    """

    __slots__ = ("parents", "needs_input_grad", "module", "__dict__")

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays and record the node when a gradient is needed."""
        fn = cls()
        out = Tensor._wrap(fn.forward(*[t.data for t in inputs], **options))
        if _state.grad_enabled:
            needs = tuple(t.requires_grad for t in inputs)
            if True in needs:
                fn.parents = inputs
                fn.needs_input_grad = needs
                fn.module = _state.module
                out.requires_grad = True
                out._ctx = fn
        if _state.anomaly:
            fn.module = _state.module
            _check_finite(fn, (out.data,), "forward")
        return out

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backward>"


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting expanded, so it gets back ``shape``.

    Broadcasting copies an input along new leading axes and along axes of size 1; the gradient of
    a copy is the sum of the gradients of all copies.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _topological_order(root) -> list:
    """Tensors of the graph behind ``root``, each after every tensor it depends on.

    Depth-first with an explicit stack (no recursion limit): a tensor is appended once all its
    parents are. Tensors hash by identity, so they can key sets and dicts.
    """
    order, visited = [], {root}
    stack = [(root, False)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:
            order.append(tensor)
            continue
        stack.append((tensor, True))
        fn = tensor._ctx
        if fn is not None and fn.parents is not None:
            for parent in fn.parents:
                if parent.requires_grad and parent not in visited:
                    visited.add(parent)
                    stack.append((parent, False))
    return order


def backward(root, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root``: fill ``.grad`` of every leaf that requires a gradient."""
    if not root.requires_grad:
        raise RuntimeError("backward(): the tensor does not require grad and has no graph")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward(): grad can be implicitly created only for scalar outputs, "
                f"got shape {root.shape}; pass a gradient of that shape"
            )
        grad = np.ones_like(root.data)
    else:
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.dtype)
        if grad.shape != root.shape:
            raise RuntimeError(f"backward(): gradient shape {grad.shape} != tensor {root.shape}")

    anomaly = _state.anomaly
    grads = {root: grad}  # tensor -> gradient summed over the paths seen so far
    for tensor in reversed(_topological_order(root)):
        g = grads.pop(tensor, None)
        if g is None:
            continue
        for hook in tensor._hooks:
            result = hook(Tensor._wrap(g))
            if result is not None:
                g = result.data
        fn = tensor._ctx
        if fn is None or tensor._retains_grad:
            _accumulate_into_grad(tensor, g)
            if fn is None:
                continue
        if fn.parents is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({type(fn).__name__} was "
                "already freed); use backward(retain_graph=True) for the first call"
            )
        input_grads = fn.backward(g)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if anomaly:
            _check_finite(fn, input_grads, "backward")
        for parent, needs, pg in zip(fn.parents, fn.needs_input_grad, input_grads, strict=False):
            if needs and pg is not None:
                if pg.dtype != parent.data.dtype:  # mixed-precision op: cast back
                    pg = pg.astype(parent.data.dtype)
                previous = grads.get(parent)
                grads[parent] = pg if previous is None else previous + pg
        if not retain_graph:
            fn.__dict__.clear()  # drop the saved arrays; the node stays, marked as freed
            fn.parents = None


def _accumulate_into_grad(tensor, g) -> None:
    """Add ``g`` to ``tensor.grad`` (a fresh copy the first time: gradients may be shared)."""
    if tensor.grad is None:
        tensor.grad = Tensor._wrap(np.array(g, copy=True))
    else:
        tensor.grad.data = tensor.grad.data + g
