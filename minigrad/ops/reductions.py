"""Reductions over dimensions: sum, mean, max, min, var (PyTorch's ``dim``/``keepdim``).

The gradient of a reduction is spread back over the reduced elements: equally for ``sum`` (and
``mean``, divided by the count), to the selected element for ``max``/``min``.
"""

import numpy as np

from minigrad.autograd import Function
from minigrad.ops.elementwise import Where


def axis(dim: int, ndim: int, new: bool = False) -> int:
    """One ``dim`` (negatives count from the end) as an axis in [0, ndim), or [0, ndim] for a
    ``new`` dim (unsqueeze, stack); an IndexError naming it when out of range, which must not
    wrap around into another dim."""
    count = ndim + 1 if new else ndim
    if not -count <= dim < count:
        raise IndexError(f"dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % count


def normalize_dims(dim, ndim: int) -> tuple:
    """Turn ``dim`` (None, an int or a sequence, negatives allowed) into sorted positive axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
        axes.append(d % max(ndim, 1))
    return tuple(sorted(set(axes))) if ndim else ()


def _expand_back(g, shape, dims):
    """Copy a reduced gradient back over the reduced axes, giving an array of ``shape``."""
    kept = tuple(1 if i in dims else n for i, n in enumerate(shape))
    grad = np.empty(shape, dtype=g.dtype)
    grad[...] = g.reshape(kept)
    return grad


def _expand_back_graph(g, shape, dims, keepdim):
    """`_expand_back` with tensor ops (for ``backward_graph``)."""
    kept = tuple(1 if i in dims else n for i, n in enumerate(shape))
    return g.reshape(kept).expand(shape)


class Sum(Function):
    """out = sum of a over ``dims``;  da = g broadcast back to a's shape."""

    def forward(self, a, dims=(), keepdim=False):
        self.shape, self.dims, self.keepdim = a.shape, dims, keepdim
        return np.asarray(a.sum(axis=dims, keepdims=keepdim))

    def backward(self, g):
        return _expand_back(g, self.shape, self.dims)

    def backward_graph(self, g):
        return _expand_back_graph(g, self.shape, self.dims, self.keepdim)


class Norm(Function):
    """out = sqrt(sum of a^2 over ``dims``), the 2-norm;  da = g a / out, taken as 0 where
    out = 0 (PyTorch's choice: the norm has no derivative at the origin and 0 is a
    subgradient; sqrt composed with a sum would give 0 * inf = NaN there)."""

    def forward(self, a, dims=(), keepdim=False):
        self.a, self.dims = a, dims
        self.out = np.sqrt(np.sum(a * a, axis=dims, keepdims=True))
        if keepdim:
            return self.out
        return self.out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in dims))

    def backward(self, g):
        at_zero = self.out == 0  # adding 1 there makes a / out = 0 / 1
        return g.reshape(self.out.shape) * (self.a / (self.out + at_zero))

    def backward_graph(self, g):
        a = self.parents[0]
        out = Norm.apply(a, dims=self.dims, keepdim=True)
        at_zero = g._wrap((out.data == 0).astype(out.dtype))
        return g.reshape(out.shape) * (a / (out + at_zero))


class Mean(Function):
    """out = sum(a) / n over ``dims``;  da = g / n broadcast back."""

    def forward(self, a, dims=(), keepdim=False):
        self.shape, self.dims, self.keepdim = a.shape, dims, keepdim
        self.count = int(np.prod([a.shape[d] for d in dims])) if dims else 1
        return np.asarray(a.mean(axis=dims, keepdims=keepdim))

    def backward(self, g):
        g = g / np.asarray(self.count, dtype=g.dtype)
        return _expand_back(g, self.shape, self.dims)

    def backward_graph(self, g):
        return _expand_back_graph(g, self.shape, self.dims, self.keepdim) / self.count


class Var(Function):
    """out = sum((a - mean)^2) / (n - correction);  da = g * 2 (a - mean) / (n - correction)."""

    def forward(self, a, dims=(), keepdim=False, correction=1):
        self.shape, self.dims, self.keepdim = a.shape, dims, keepdim
        count = int(np.prod([a.shape[d] for d in dims])) if dims else 1
        self.denominator = max(count - correction, 0)
        self.centered = a - a.mean(axis=dims, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            total = (self.centered * self.centered).sum(axis=dims, keepdims=keepdim)
            return np.asarray(total / np.asarray(self.denominator, dtype=a.dtype))

    def backward(self, g):
        g = _expand_back(g, self.shape, self.dims)
        scale = np.asarray(2 / self.denominator, dtype=g.dtype)
        return g * self.centered * scale

    def backward_graph(self, g):
        (a,) = self.parents
        centered = a - a.mean(self.dims, keepdim=True)
        g = _expand_back_graph(g, self.shape, self.dims, self.keepdim)
        return g * centered * (2 / self.denominator)


class MaxMin(Function):
    """out = max (or min) of a.

    Over one ``dim`` the gradient goes to the selected index (the one ``argmax`` returns); over
    all elements it is split evenly between ties, as PyTorch does.
    """

    def forward(self, a, dim=None, keepdim=False, largest=True):
        self.shape, self.dim, self.keepdim = a.shape, dim, keepdim
        pick = np.argmax if largest else np.argmin
        if dim is None:
            value = a.max() if largest else a.min()
            self.selected = a == value
            self.selected = self.selected / self.selected.sum()
            return np.asarray(value)
        self.indices = pick(a, axis=dim, keepdims=True)
        out = np.take_along_axis(a, self.indices, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(self, g):
        if self.dim is None:
            return (g * self.selected).astype(g.dtype, copy=False)
        grad = np.zeros(self.shape, dtype=g.dtype)
        g = g if self.keepdim else np.expand_dims(g, self.dim)
        np.put_along_axis(grad, self.indices, g, axis=self.dim)
        return grad

    def backward_graph(self, g):
        if self.dim is None:
            return g * g._wrap(self.selected.astype(g.dtype))
        chosen = np.zeros(self.shape, dtype=g.dtype)
        np.put_along_axis(chosen, self.indices, 1, axis=self.dim)
        return _expand_back_graph(g, self.shape, (self.dim,), self.keepdim) * g._wrap(chosen)


class CumSum(Function):
    """out[i] = a[0] + ... + a[i] along ``dim``;  da[j] = g[j] + ... + g[n-1] (the reversed
    cumulative sum of g)."""

    def forward(self, a, dim=0):
        self.dim = dim
        return np.cumsum(a, axis=dim)

    def backward(self, g):
        return _reverse_cumsum(g, self.dim)

    def backward_graph(self, g):
        return g.flip(self.dim).cumsum(self.dim).flip(self.dim)


def _reverse_cumsum(g, dim):
    flipped = np.flip(g, axis=dim)
    return np.flip(np.cumsum(flipped, axis=dim), axis=dim)


class Prod(Function):
    """out = product of a over ``dim`` (all elements when None);  da_i = g * prod_{j != i} a_j,
    computed from the products left and right of each element (exact with zeros, no division)."""

    def forward(self, a, dim=None, keepdim=False):
        self.a, self.dim, self.keepdim = a, dim, keepdim
        return np.asarray(np.prod(a, axis=dim, keepdims=keepdim))

    def backward(self, g):
        a, dim = self.a, self.dim
        if dim is None:
            a, dim, g = a.reshape(-1), 0, np.broadcast_to(g, (1,))
        elif not self.keepdim:
            g = np.expand_dims(g, dim)
        ones = np.ones_like(np.take(a, [0], axis=dim))
        left = np.cumprod(np.concatenate([ones, a], axis=dim), axis=dim)
        right = np.flip(
            np.cumprod(np.concatenate([ones, np.flip(a, dim)], axis=dim), axis=dim), dim
        )
        n = a.shape[dim]
        others = np.take(left, range(n), axis=dim) * np.take(right, range(1, n + 1), axis=dim)
        return (g * others).reshape(self.a.shape)

    def backward_graph(self, g):
        """The same gradient with tensor ops: prod_{j != i} a_j is the product of a copy of
        the row whose i-th entry is 1 (an (n, n) matrix per reduced row, exact with zeros), a
        `Prod` itself, so derivatives of every order follow."""
        (a,) = self.parents
        dim = self.dim
        if dim is None:
            a, dim, g = a.reshape(-1), 0, g.reshape(1)
        elif not self.keepdim:
            g = g.unsqueeze(dim)
        last = a.transpose(dim, -1)  # the reduced axis last: (..., n)
        n = last.shape[-1]
        rows = last.unsqueeze(-2).expand(*last.shape[:-1], n, n)  # rows[..., i, j] = a_j
        diagonal = rows._wrap(np.eye(n, dtype=bool))
        one = rows._wrap(np.ones((), dtype=rows.dtype))
        others = Where.apply(diagonal, one, rows).prod(dim=-1)  # prod_{j != i} a_j
        return (g * others.transpose(dim, -1)).reshape(self.a.shape)
