"""Check analytic gradients against central finite differences, in float64.

For f: inputs -> output, pick a random direction v of the output's shape and compare, for every
input element x_i, the backward pass's d(sum(v * f))/dx_i with
(sum(v * f(x + eps e_i)) - sum(v * f(x - eps e_i))) / (2 eps).

`gradgradcheck` checks second derivatives the same way: the first derivative, computed with
``create_graph=True``, is itself a function of the inputs, whose gradient `gradcheck` compares
with finite differences of it.
"""

import numpy as np

from minigrad import autograd
from minigrad.autograd import enable_grad, no_grad
from minigrad.tensor import Tensor
from minigrad.toplevel import cat


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Return True if ``fn``'s gradients match finite differences, else raise GradcheckError.

    ``inputs`` are tensors; those with ``requires_grad`` are checked and must be float64.
    """
    inputs = list(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck(): no input requires grad")
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck(): inputs must be float64, got {t.dtype}")
        t.grad = None
    out = fn(*inputs)
    direction = np.random.default_rng(0).standard_normal(out.shape)
    if out.requires_grad:  # else no input reaches it through the graph: the gradient is zero
        (out * Tensor(direction)).sum().backward()
    for number, t in enumerate(checked):
        analytic = np.zeros_like(t.data) if t.grad is None else t.grad.data
        numeric = np.zeros_like(t.data)
        flat = t.data.reshape(-1) if t.data.flags.c_contiguous else None
        if flat is None:
            raise ValueError("gradcheck(): inputs must be contiguous (pass .copy() views)")
        with no_grad():
            for i in range(flat.size):
                original = flat[i]
                flat[i] = original + eps
                plus = float((fn(*inputs).data * direction).sum())
                flat[i] = original - eps
                minus = float((fn(*inputs).data * direction).sum())
                flat[i] = original
                numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), t.shape)
            raise GradcheckError(
                f"gradcheck: input {number} (shape {t.shape}) gradient mismatch at {worst}: "
                f"analytic {analytic[worst]:.6g} vs numeric {numeric[worst]:.6g}"
            )
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Return True if ``fn``'s second derivatives match finite differences of its first
    derivatives (float64 inputs), else raise GradcheckError.

    The first derivative g(x) = d(sum(v * fn(x)))/dx (v a fixed random direction) is computed
    with ``autograd.grad(..., create_graph=True)``; `gradcheck` then compares g's backward pass,
    which runs every node's ``backward_graph``, with finite differences of g.
    """
    inputs = list(inputs)
    wanted = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    with enable_grad():
        shape = fn(*inputs).shape
    direction = Tensor(np.random.default_rng(1).standard_normal(shape))

    def first_derivative(*xs):
        with enable_grad():
            out = (fn(*xs) * direction).sum()
            grads = autograd.grad(
                out, [xs[i] for i in wanted], create_graph=True, allow_unused=True
            )
        flat = [
            (g if g is not None else Tensor(np.zeros(xs[i].shape))).reshape(-1)
            for i, g in zip(wanted, grads, strict=True)
        ]
        return flat[0] if len(flat) == 1 else cat(flat)

    return gradcheck(first_derivative, inputs, eps, atol, rtol)
