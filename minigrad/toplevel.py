"""The package's top-level functions, mirroring ``torch.cat``, ``torch.where`` and friends.

Each one is the same op as the Tensor method of the same name, callable as ``minigrad.exp(x)``.
(Not to be confused with `minigrad.nn.functional`, the ``F.*`` neural-network functions, or with
`minigrad.autograd.Function`, the base class of every op.)
"""

import numpy as np

from minigrad.ops import elementwise as E
from minigrad.ops import linalg as L
from minigrad.ops import movement as M
from minigrad.ops import reductions as R
from minigrad.tensor import Tensor, _check_broadcast, broadcast_shape


def _as_tensor(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return like._lift(x) if like is not None else Tensor(x)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim``."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat(): expected a non-empty sequence of tensors")
    ndim = tensors[0].ndim
    axis = R.axis(dim, ndim)
    for t in tensors[1:]:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1 :] != (
            tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            raise ValueError(f"cat(): shapes {[x.shape for x in tensors]} differ outside dim {dim}")
    return M.Cat.apply(*tensors, dim=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack equally shaped tensors along a new dimension ``dim``."""
    tensors = [_as_tensor(t) for t in tensors]
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack(): all tensors must have the same shape, got {sorted(shapes)}")
    return M.Stack.apply(*tensors, dim=R.axis(dim, tensors[0].ndim, new=True))


def split(x: Tensor, split_size, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (an int, or a list of sizes) along ``dim``."""
    return x.split(split_size, dim)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` nearly equal pieces along ``dim``."""
    return x.chunk(chunks, dim)


def where(condition, input, other) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """Elementwise ``input if condition else other`` (all broadcast together)."""
    condition = _as_tensor(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where(): condition must be a bool tensor, got {condition.dtype}")
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    a, b = _as_tensor(input, like), _as_tensor(other, like)
    _check_broadcast("where", a.shape, b.shape)
    _check_broadcast("where", broadcast_shape(a.shape, b.shape), condition.shape)
    return E.Where.apply(condition, a, b)


def maximum(a: Tensor, b) -> Tensor:
    """Elementwise maximum."""
    return a.maximum(b)


def minimum(a: Tensor, b) -> Tensor:
    """Elementwise minimum."""
    return a.minimum(b)


def exp(x: Tensor) -> Tensor:
    """e^x elementwise."""
    return x.exp()


def log(x: Tensor) -> Tensor:
    """Natural logarithm elementwise."""
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    """Square root elementwise."""
    return x.sqrt()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent elementwise."""
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid elementwise."""
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    return x.relu()


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]."""
    return x.clamp(min, max)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with numpy/PyTorch semantics."""
    return a @ b


def sum(x: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    """Sum over ``dim``."""
    return x.sum(dim, keepdim)


def mean(x: Tensor, dim=None, keepdim=False) -> Tensor:
    """Mean over ``dim``."""
    return x.mean(dim, keepdim)


def argmax(x: Tensor, dim=None, keepdim=False) -> Tensor:
    """Index of the maximum; no gradient."""
    return x.argmax(dim, keepdim)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True):
    """The ``k`` largest entries and their indices; no gradient."""
    return x.topk(k, dim, largest)


def gather(x: Tensor, dim: int, index) -> Tensor:
    """torch.gather."""
    return x.gather(dim, index)


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """A copy of ``x`` with ``value`` where ``mask`` is True."""
    return x.masked_fill(mask, value)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``; letters repeated within one
    operand (diagonals) and ellipses are not supported."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    operands = [_as_tensor(t) for t in operands]
    inputs, output = L.parse_einsum(equation, [t.shape for t in operands])
    return L.Einsum.apply(*operands, inputs=inputs, output=output)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of (B, n, m) and (B, m, p) tensors (no broadcasting, as PyTorch)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm(): expected (B, n, m) and (B, m, p), got {a.shape} and {b.shape}")
    return a @ b


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Cumulative sum along ``dim``."""
    return x.cumsum(dim)


def prod(x: Tensor, dim=None, keepdim=False) -> Tensor:
    """Product over ``dim``."""
    return x.prod(dim, keepdim)


def std(x: Tensor, dim=None, keepdim=False, correction=1) -> Tensor:
    """Standard deviation over ``dim``."""
    return x.std(dim, keepdim, correction)


def norm(x: Tensor, p=2, dim=None, keepdim=False) -> Tensor:
    """The ``p``-norm over ``dim``."""
    return x.norm(p, dim, keepdim)


def logsumexp(x: Tensor, dim, keepdim=False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, without overflow."""
    return x.logsumexp(dim, keepdim)


def all(x: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    """Whether all elements are nonzero."""
    return x.all(dim, keepdim)


def any(x: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    """Whether any element is nonzero."""
    return x.any(dim, keepdim)


def flip(x: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    return x.flip(dims)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims."""
    return x.tril(diagonal)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims."""
    return x.triu(diagonal)


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims``, wrapping around (see `Tensor.roll`)."""
    return x.roll(shifts, dims)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` as a tuple of tensors, each without that dim."""
    return x.unbind(dim)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (gradient 0)."""
    return x.sign()


def floor(x: Tensor) -> Tensor:
    """The largest integer <= x, elementwise (gradient 0)."""
    return x.floor()


def ceil(x: Tensor) -> Tensor:
    """The smallest integer >= x, elementwise (gradient 0)."""
    return x.ceil()


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """x rounded to ``decimals`` places, halves to even (gradient 0)."""
    return x.round(decimals)


def isclose(a: Tensor, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """|a - b| <= atol + rtol * |b| elementwise, as a bool tensor."""
    return _as_tensor(a).isclose(b, rtol, atol, equal_nan)


def allclose(a: Tensor, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """Whether `isclose` holds for every element: a Python bool."""
    return _as_tensor(a).allclose(b, rtol, atol, equal_nan)
