"""Check analytic gradients against central finite differences, in float64.

For f: inputs -> output, pick a random direction v of the output's shape and compare, for every
input element x_i, the backward pass's d(sum(v * f))/dx_i with
(sum(v * f(x + eps e_i)) - sum(v * f(x - eps e_i))) / (2 eps).
"""

import numpy as np

from minigrad.autograd import no_grad
from minigrad.tensor import Tensor


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
