"""Shape, movement and indexing ops: they rearrange elements without computing new values.

Their gradients rearrange the incoming gradient back: a reshape is undone by the inverse
reshape, a transpose by the inverse permutation, a gather/index by scattering (adding) into
zeros, so repeated indices accumulate.
"""

import numpy as np

from minigrad.autograd import Function, unbroadcast, unbroadcast_graph


class Reshape(Function):
    """out = a viewed with a new shape;  da = g reshaped back."""

    def forward(self, a, shape=()):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape)

    def backward_graph(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    """out = a with its axes reordered by ``dims``;  da = g with the inverse order."""

    def forward(self, a, dims=()):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, g):
        return g.transpose(np.argsort(self.dims))

    def backward_graph(self, g):
        return Permute.apply(g, dims=tuple(np.argsort(self.dims)))


class Expand(Function):
    """out = a broadcast to ``shape`` (no copy);  da = g summed over the broadcast axes."""

    def forward(self, a, shape=()):
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g):
        return unbroadcast(g, self.shape)

    def backward_graph(self, g):
        return unbroadcast_graph(g, self.shape)


class GetItem(Function):
    """out = a[index] (ints, slices, None, Ellipsis, integer arrays, boolean masks);
    da = zeros with g put at the indexed places (``np.add.at`` when integer arrays may repeat
    a place, so that repeats accumulate)."""

    def forward(self, a, index=()):
        self.shape, self.index = a.shape, index
        return a[index]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        if _selects_each_once(self.index):
            grad[self.index] = g
        else:
            np.add.at(grad, self.index, g)
        return grad

    def backward_graph(self, g):
        return IndexAdd.apply(g, shape=self.shape, index=self.index)


class IndexAdd(Function):
    """out = zeros of ``shape`` with g added at ``index`` (repeats accumulate): the backward of
    `GetItem` and `Gather` as an op, so that it can be differentiated again;  dg = gout[index]."""

    def forward(self, g, shape=(), index=()):
        self.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if _selects_each_once(index):
            out[index] = g
        else:
            np.add.at(out, index, g)
        return out

    def backward(self, gout):
        return gout[self.index]

    def backward_graph(self, gout):
        return GetItem.apply(gout, index=self.index)


def _selects_each_once(index) -> bool:
    """True when ``index`` selects each element at most once: no integer arrays or lists
    (slices, ints and boolean masks never repeat a place)."""
    items = index if isinstance(index, tuple) else (index,)
    return not any(
        isinstance(i, list) or (isinstance(i, np.ndarray) and i.dtype != np.bool_) for i in items
    )


class SetItem(Function):
    """out = a with out[index] = b (b broadcast to the indexed region, cast to a's dtype);
    da = g with zeros at the written places,  db = g[index] summed back to b's shape.
    An index that repeats a place keeps one of the writes (which one is unspecified, as in
    PyTorch)."""

    def forward(self, a, b, index=()):
        self.index, self.b_shape = index, b.shape
        out = a.copy()
        out[index] = b
        return out

    def backward(self, g):
        da = db = None
        if self.needs_input_grad[0]:
            da = g.copy()
            da[self.index] = 0
        if self.needs_input_grad[1]:
            db = _sum_to(g[self.index], self.b_shape)
        return da, db

    def backward_graph(self, g):
        a, b = self.parents
        kept = np.ones(a.shape, dtype=g.dtype)
        kept[self.index] = 0
        region = GetItem.apply(g, index=self.index)
        extra = len(self.b_shape) - region.ndim
        if extra > 0:
            region = region.reshape((1,) * extra + region.shape)
        return g * g._wrap(kept), unbroadcast_graph(region, self.b_shape)


def _sum_to(g, shape):
    """`unbroadcast` that also accepts a ``shape`` with more leading 1s than ``g`` has dims."""
    extra = len(shape) - np.ndim(g)
    if extra > 0:
        return unbroadcast(g, shape[extra:]).reshape(shape)
    return unbroadcast(g, shape)


class Clone(Function):
    """out = a copy of a;  da = g."""

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g

    def backward_graph(self, g):
        return g


class Cat(Function):
    """out = the inputs joined along ``dim``;  each input gets its slice of g."""

    def forward(self, *arrays, dim=0):
        self.dim = dim
        self.bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=dim)

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.dim))

    def backward_graph(self, g):
        edges = [0, *self.bounds, g.shape[self.dim]]
        prefix = (slice(None),) * self.dim
        return tuple(g[prefix + (slice(lo, hi),)] for lo, hi in zip(edges, edges[1:], strict=False))


class Stack(Function):
    """out = the inputs stacked along a new axis ``dim``;  each input gets g[..., i, ...]."""

    def forward(self, *arrays, dim=0):
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, g):
        return tuple(np.moveaxis(g, self.dim, 0))

    def backward_graph(self, g):
        prefix = (slice(None),) * self.dim
        return tuple(g[prefix + (i,)] for i in range(g.shape[self.dim]))


class MaskedFill(Function):
    """out = a with ``value`` where mask is True;  da = g where mask is False, else 0."""

    def forward(self, a, mask, value=0.0):
        self.mask = mask
        return np.where(mask, np.asarray(value, dtype=a.dtype), a)

    def backward(self, g):
        return np.where(self.mask, np.zeros((), g.dtype), g), None

    def backward_graph(self, g):
        return g * g._wrap(~np.broadcast_to(self.mask, g.shape)), None


class Gather(Function):
    """out[i][j] = a[i][index[i][j]] along ``dim`` (torch.gather);  da scatters g back, adding."""

    def forward(self, a, index, dim=0):
        self.shape, self.index, self.dim = a.shape, index, dim
        return np.take_along_axis(a, index, axis=dim)

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        positions = list(np.indices(self.index.shape, sparse=True))
        positions[self.dim] = self.index
        np.add.at(grad, tuple(positions), g)
        return grad, None

    def backward_graph(self, g):
        positions = list(np.indices(self.index.shape, sparse=True))
        positions[self.dim] = self.index
        return IndexAdd.apply(g, shape=self.shape, index=tuple(positions)), None
