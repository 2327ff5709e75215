"""`Tensor`: a numpy array that remembers how it was computed, so gradients can flow back.

A tensor holds ``.data`` (an ``np.ndarray``), ``.requires_grad``, ``.grad`` (a Tensor once a
backward pass reaches it) and ``._ctx``: the `Function` node that produced it (None for leaves).
Every operator below is a thin method that calls a Function from `minigrad.ops`; the autograd
machinery lives in `minigrad.autograd`.

dtypes follow PyTorch: Python floats become float32, Python ints int64; float64 arrays stay
float64. Python and numpy scalars never promote a float32 tensor to float64.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from minigrad import autograd
from minigrad.ops import elementwise as E
from minigrad.ops import linalg as L
from minigrad.ops import movement as M
from minigrad.ops import neural as N
from minigrad.ops import reductions as R

float32, float64, int32, int64 = np.float32, np.float64, np.int32, np.int64

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def as_array(data, dtype=None) -> np.ndarray:
    """Convert ``data`` to an ndarray with minigrad's dtype rules (see the module docstring)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    array = np.array(data)
    if array.dtype.kind == "f":
        keep = isinstance(data, np.ndarray | np.generic) and array.dtype == np.float64
        return array if keep or array.dtype == np.float32 else array.astype(np.float32)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    __slots__ = (
        "data", "grad", "requires_grad", "_ctx", "_hooks", "_retains_grad", "_version",
        "__weakref__",
    )  # fmt: skip
    __array_priority__ = 1000  # make numpy defer to our operators: np_array * tensor -> Tensor

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._hooks = ()
        self._retains_grad = False
        self._version = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """Fast constructor for op outputs: no conversion, no checks."""
        t = object.__new__(Tensor)
        t.data, t.grad, t._ctx, t._hooks = array, None, None, ()
        t.requires_grad = t._retains_grad = False
        t._version = 0
        return t

    # ---- basic properties -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="The shape, a tuple (as numpy).")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="The numpy dtype.")
    is_leaf = property(lambda self: self._ctx is None, doc="True unless produced by a recorded op.")
    grad_fn = property(lambda self: self._ctx, doc="The Function node that produced this tensor.")

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension (PyTorch's ``size``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        """Number of elements."""
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array, shared, not copied. For a tensor that requires grad it is a
        read-only view (PyTorch refuses instead): writing into it would change values a
        recorded graph depends on, behind the version counter's back."""
        if not self.requires_grad:
            return self.data
        view = np.asarray(self.data).view()
        view.flags.writeable = False
        return view

    def __array__(self, dtype=None, copy=None):
        return self.numpy() if dtype is None else self.data.astype(dtype)

    def dim(self) -> int:
        """Number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    def _scalar(self, what: str):
        if self.data.size != 1:
            raise RuntimeError(
                f"{what}: only one-element tensors can be converted to Python scalars, got "
                f"shape {self.shape}"
            )
        return self.data.item()

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        return int(self._scalar("int()"))

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self._scalar("__index__"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats a one-element tensor's value; other tensors only with an
        empty spec (their repr), as PyTorch."""
        if self.data.size == 1 and spec:
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string for a tensor of shape {self.shape}")
        return repr(self)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self._scalar("item()")

    def tolist(self):
        """The data as nested Python lists."""
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut off from the graph."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this leaf as needing a gradient (in place)."""
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require grad, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def to(self, *args, dtype=None, device=None) -> Tensor:
        """Cast to a dtype: ``t.to(minigrad.float64)``. Differentiable between float types; an
        integer or bool result leaves the graph (it cannot carry a gradient), as in PyTorch. The
        device ``"cpu"`` (the only one) is accepted and changes nothing."""
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"to(): minigrad has one device, 'cpu'; got {device!r}")
        if dtype is None or np.dtype(dtype) == self.dtype:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            return Tensor._wrap(self.data.astype(dtype))
        return E.Cast.apply(self, dtype=dtype)

    float = lambda self: self.to(np.float32)  # noqa: E731
    double = lambda self: self.to(np.float64)  # noqa: E731
    long = lambda self: self.to(np.int64)  # noqa: E731
    int = lambda self: self.to(np.int32)  # noqa: E731
    bool = lambda self: self.to(np.bool_)  # noqa: E731

    def cpu(self) -> Tensor:
        """Return self: CPU is the only device."""
        return self

    def clone(self) -> Tensor:
        """A copy with its own array, in the graph (the gradient passes through unchanged)."""
        return M.Clone.apply(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require grad")
        self._hooks = (*self._hooks, hook)
        return autograd.RemovableHandle(self, hook)

    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Compute gradients of this tensor with respect to every leaf that requires them;
        ``create_graph`` records the backward pass, for higher derivatives."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = ""
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras += f", dtype={self.dtype}"
        if self._ctx is not None:
            extras += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    __hash__ = object.__hash__  # identity: tensors key the dicts of the backward pass

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    # ---- arithmetic -------------------------------------------------------------------------
    def _lift(self, other) -> Tensor:
        """Turn a Python/numpy number into a tensor of this tensor's float dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, np.ndarray) and other.ndim:
            return Tensor(other)
        if self.data.dtype.kind == "f":
            return Tensor._wrap(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    def _binary(self, fn, other, reverse=False):
        other = self._lift(other)
        a, b = (other, self) if reverse else (self, other)
        if a.data.shape != b.data.shape:
            _check_broadcast(fn.__name__, a.data.shape, b.data.shape)
        return fn.apply(a, b)

    def __add__(self, other):
        return self._binary(E.Add, other)

    def __radd__(self, other):
        return self._binary(E.Add, other, reverse=True)

    def __sub__(self, other):
        return self._binary(E.Sub, other)

    def __rsub__(self, other):
        return self._binary(E.Sub, other, reverse=True)

    def __mul__(self, other):
        return self._binary(E.Mul, other)

    def __rmul__(self, other):
        return self._binary(E.Mul, other, reverse=True)

    def __truediv__(self, other):
        return self._binary(E.Div, other)

    def __rtruediv__(self, other):
        return self._binary(E.Div, other, reverse=True)

    def __pow__(self, exponent):
        if isinstance(exponent, int | float | np.number):
            return E.PowScalar.apply(self, exponent=exponent)
        return self._binary(E.Pow, exponent)

    def __rpow__(self, base):
        return self._binary(E.Pow, base, reverse=True)

    def __neg__(self):
        return E.Neg.apply(self)

    def neg(self):
        """-x (PyTorch's method name for unary minus)."""
        return E.Neg.apply(self)

    def __matmul__(self, other):
        other = self._lift(other)
        _check_matmul(self.shape, other.shape)
        return L.MatMul.apply(self, other)

    def matmul(self, other):
        """self @ other: matrix product with numpy's and PyTorch's broadcasting rules."""
        return self.__matmul__(other)

    def __rmatmul__(self, other):
        return self._lift(other).__matmul__(self)

    # ---- comparisons (no gradient) ----------------------------------------------------------
    def _compare(self, op, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other))

    __eq__ = lambda self, o: self._compare(np.equal, o)  # noqa: E731
    __ne__ = lambda self, o: self._compare(np.not_equal, o)  # noqa: E731
    __lt__ = lambda self, o: self._compare(np.less, o)  # noqa: E731
    __le__ = lambda self, o: self._compare(np.less_equal, o)  # noqa: E731
    __gt__ = lambda self, o: self._compare(np.greater, o)  # noqa: E731
    __ge__ = lambda self, o: self._compare(np.greater_equal, o)  # noqa: E731
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        return Tensor._wrap(~self.data)

    def __and__(self, other):
        return self._compare(np.logical_and, other)

    def __or__(self, other):
        return self._compare(np.logical_or, other)

    # ---- unary math -------------------------------------------------------------------------
    def exp(self):
        """e^x elementwise."""
        return E.Exp.apply(self)

    def log(self):
        """Natural logarithm elementwise."""
        return E.Log.apply(self)

    def sqrt(self):
        """Square root elementwise."""
        return E.Sqrt.apply(self)

    def tanh(self):
        """Hyperbolic tangent elementwise."""
        return E.Tanh.apply(self)

    def sigmoid(self):
        """Logistic sigmoid 1 / (1 + e^-x) elementwise."""
        return E.Sigmoid.apply(self)

    def relu(self):
        """max(x, 0) elementwise."""
        return E.Relu.apply(self)

    def abs(self):
        """|x| elementwise."""
        return E.Abs.apply(self)

    __abs__ = abs

    def sign(self):
        """-1, 0 or 1 by the sign of each element (gradient 0)."""
        return E.Sign.apply(self)

    def floor(self):
        """The largest integer <= x, elementwise (gradient 0)."""
        return E.Floor.apply(self)

    def ceil(self):
        """The smallest integer >= x, elementwise (gradient 0)."""
        return E.Ceil.apply(self)

    def trunc(self):
        """x rounded towards zero, elementwise (gradient 0)."""
        return E.Trunc.apply(self)

    def round(self, decimals: int = 0):
        """x rounded to ``decimals`` decimal places, halves to even as in PyTorch and numpy
        (round(0.5) = 0, round(1.5) = 2); gradient 0."""
        return E.Round.apply(self, decimals=decimals)

    def clamp(self, min=None, max=None):  # noqa: A002 (PyTorch's argument names)
        """Limit values to [min, max]; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clamp(): at least one of min and max must be given")
        return E.Clamp.apply(self, low=min, high=max)

    clip = clamp

    def maximum(self, other):
        """Elementwise maximum with another tensor."""
        return self._binary(E.Maximum, other)

    def minimum(self, other):
        """Elementwise minimum with another tensor."""
        return self._binary(E.Minimum, other)

    def masked_fill(self, mask, value):
        """A copy with ``value`` wherever the boolean ``mask`` (broadcastable to self) is True."""
        mask = mask if isinstance(mask, Tensor) else Tensor(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill(): mask must be bool, got {mask.dtype}")
        if broadcast_shape(mask.shape, self.shape) != self.shape:
            raise ValueError(
                f"masked_fill(): mask of shape {mask.shape} does not broadcast to {self.shape}"
            )
        return M.MaskedFill.apply(self, mask, value=value)

    # ---- in place (docs/autograd.md, "In-place operations and versions") --------------------
    def _modify(self, op: str, compute) -> Tensor:
        """Give this tensor the value ``compute(old)``, where ``old`` stands for it before the
        change, and bump its version. The result's graph node, if one was recorded, becomes this
        tensor's. The new value is a new array: arrays saved by recorded nodes are never written
        into, so the only risk left is a node whose input changed, which the version check in
        backward catches."""
        if self.requires_grad and self._ctx is None and autograd.is_grad_enabled():
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad cannot be modified in place (its "
                "gradient would lose the old value); update it inside `with minigrad.no_grad():` "
                "or work on a clone()"
            )
        old = Tensor._wrap(self.data)
        old._ctx, old.requires_grad = self._ctx, self.requires_grad
        new = compute(old)
        if new.shape != self.shape:
            raise RuntimeError(
                f"{op}: the result has shape {new.shape}, the tensor {self.shape} (an in-place "
                "op cannot broadcast the tensor it writes to)"
            )
        if new.dtype != self.dtype:
            if new.dtype.kind == "f" and self.dtype.kind != "f":
                raise RuntimeError(f"{op}: result type {new.dtype} can't be cast to {self.dtype}")
            new = new.to(self.dtype)
        self.data = new.data
        if new._ctx is not None:
            self._ctx, self.requires_grad = new._ctx, True
        autograd.bump_version(self)
        return self

    def add_(self, other, alpha=1) -> Tensor:
        """In place: self += alpha * other."""
        other = other if alpha == 1 else self._lift(other) * alpha
        return self._modify("add_", lambda old: old + other)

    def sub_(self, other, alpha=1) -> Tensor:
        """In place: self -= alpha * other."""
        other = other if alpha == 1 else self._lift(other) * alpha
        return self._modify("sub_", lambda old: old - other)

    def mul_(self, other) -> Tensor:
        """In place: self *= other."""
        return self._modify("mul_", lambda old: old * other)

    def div_(self, other) -> Tensor:
        """In place: self /= other."""
        return self._modify("div_", lambda old: old / other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        """In place: limit values to [min, max]."""
        return self._modify("clamp_", lambda old: old.clamp(min, max))

    def masked_fill_(self, mask, value) -> Tensor:
        """In place: ``value`` wherever ``mask`` is True."""
        return self._modify("masked_fill_", lambda old: old.masked_fill(mask, value))

    def __setitem__(self, index, value) -> None:
        """``x[index] = value``: ints, slices, boolean masks, integer arrays; ``value`` a number
        or a tensor broadcast to the indexed region and cast to x's dtype, with a gradient."""
        if not isinstance(value, Tensor):
            value = Tensor._wrap(np.asarray(value, dtype=self.dtype))
        index = _clean_index(index)
        self._modify("x[...] = value", lambda old: M.SetItem.apply(old, value, index=index))

    def copy_(self, src) -> Tensor:
        """In place: the values of ``src`` (broadcast to self's shape, cast to its dtype)."""
        self[...] = src
        return self

    def fill_(self, value) -> Tensor:
        """In place: every element becomes ``value``."""
        self[...] = value
        return self

    def zero_(self) -> Tensor:
        """In place: every element becomes 0."""
        return self.fill_(0)

    # ---- reductions -------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        """Sum over ``dim`` (all dimensions when None)."""
        return R.Sum.apply(self, dims=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """Arithmetic mean over ``dim`` (all dimensions when None)."""
        return R.Mean.apply(self, dims=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    def var(self, dim=None, keepdim=False, correction=1, unbiased=None):
        """Variance over ``dim``; ``correction=1`` (Bessel) by default, as PyTorch."""
        if unbiased is not None:
            correction = int(unbiased)
        dims = R.normalize_dims(dim, self.ndim)
        return R.Var.apply(self, dims=dims, keepdim=keepdim, correction=correction)

    def std(self, dim=None, keepdim=False, correction=1, unbiased=None):
        """Standard deviation over ``dim``: sqrt(var), with var's ``correction``."""
        return self.var(dim, keepdim, correction, unbiased).sqrt()

    def norm(self, p=2, dim=None, keepdim=False):
        """The ``p``-norm over ``dim`` (all elements when None): (sum |x|^p)^(1/p); ``p=inf``
        the largest |x|. The 2-norm is one node whose gradient at an all-zero vector is 0, as in
        PyTorch; other p are composed of elementary ops (so they have every derivative those
        have, and a NaN gradient at zero)."""
        if p == math.inf:
            return self.abs().amax(dim, keepdim)
        if not p > 0:
            raise ValueError(f"norm(): p must be positive or inf, got {p!r}")
        if p == 2:
            return R.Norm.apply(self, dims=R.normalize_dims(dim, self.ndim), keepdim=keepdim)
        return (self.abs() ** p).sum(dim, keepdim) ** (1 / p)

    def amax(self, dim=None, keepdim=False):
        """The maximum over ``dim`` (values only; ties share the gradient when dim is None)."""
        return self.max() if dim is None else self.max(dim, keepdim).values

    def cumsum(self, dim: int):
        """Cumulative sum along ``dim``."""
        (axis,) = R.normalize_dims(dim, self.ndim)
        return R.CumSum.apply(self, dim=axis)

    def prod(self, dim=None, keepdim=False):
        """Product over ``dim`` (all elements when None)."""
        axis = None if dim is None else R.normalize_dims(dim, self.ndim)[0]
        return R.Prod.apply(self, dim=axis, keepdim=keepdim)

    def all(self, dim=None, keepdim=False):
        """Whether every element (over ``dim``) is nonzero; a bool tensor, no gradient."""
        return Tensor._wrap(np.asarray(self.data.all(axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        """Whether some element (over ``dim``) is nonzero; a bool tensor, no gradient."""
        return Tensor._wrap(np.asarray(self.data.any(axis=dim, keepdims=keepdim)))

    def logsumexp(self, dim, keepdim=False):
        """log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m))) with m the
        (constant) maximum, so it never overflows; composed of elementary ops."""
        dims = R.normalize_dims(dim, self.ndim)
        m = np.max(self.data, axis=dims, keepdims=True)
        m = Tensor._wrap(np.where(np.isfinite(m), m, 0).astype(self.dtype))
        out = (self - m).exp().sum(dims, keepdim=True).log() + m
        return out if keepdim else out.squeeze(dims)

    def softmax(self, dim: int):
        """exp(x) / sum(exp(x)) along ``dim`` (as ``F.softmax``)."""
        (axis,) = R.normalize_dims(dim, self.ndim)
        return N.Softmax.apply(self, dim=axis)

    def log_softmax(self, dim: int):
        """x - logsumexp(x) along ``dim`` (as ``F.log_softmax``)."""
        (axis,) = R.normalize_dims(dim, self.ndim)
        return N.LogSoftmax.apply(self, dim=axis)

    def _max_min(self, dim, keepdim, largest):
        if dim is None:
            return R.MaxMin.apply(self, largest=largest)
        (axis,) = R.normalize_dims(dim, self.ndim)
        values = R.MaxMin.apply(self, dim=axis, keepdim=keepdim, largest=largest)
        pick = np.argmax if largest else np.argmin
        return ValuesIndices(values, Tensor._wrap(pick(self.data, axis=axis, keepdims=keepdim)))

    def max(self, dim=None, keepdim=False):
        """The maximum; with ``dim``, a (values, indices) pair as in PyTorch."""
        return self._max_min(dim, keepdim, largest=True)

    def min(self, dim=None, keepdim=False):
        """The minimum; with ``dim``, a (values, indices) pair as in PyTorch."""
        return self._max_min(dim, keepdim, largest=False)

    def argmax(self, dim=None, keepdim=False):
        """Index of the maximum (flattened when ``dim`` is None); no gradient."""
        if dim is None:
            return Tensor._wrap(np.asarray(self.data.argmax()))
        return Tensor._wrap(self.data.argmax(axis=dim, keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False):
        """Index of the minimum (flattened when ``dim`` is None); no gradient."""
        if dim is None:
            return Tensor._wrap(np.asarray(self.data.argmin()))
        return Tensor._wrap(self.data.argmin(axis=dim, keepdims=keepdim))

    def topk(self, k: int, dim: int = -1, largest: bool = True):
        """The ``k`` largest (or smallest) entries along ``dim``, sorted; no gradient."""
        size = self.shape[R.axis(dim, self.ndim)] if self.ndim else 1
        if not 0 <= k <= size:
            raise ValueError(f"topk(): k={k} is out of range for a dim of size {size}")
        data = self.data if largest else -self.data
        order = np.argsort(-data, axis=dim, kind="stable")
        indices = np.take(order, np.arange(k), axis=dim)
        values = np.take_along_axis(self.data, indices, axis=dim)
        return ValuesIndices(Tensor._wrap(values), Tensor._wrap(indices))

    # ---- shape and movement -----------------------------------------------------------------
    def reshape(self, *shape):
        """The same elements in a new shape (one entry may be -1)."""
        shape = _shape_args(shape)
        if self.data.shape == shape:
            return self
        if not _reshape_fits(shape, self.data.size):
            raise RuntimeError(
                f"reshape(): shape {shape} is invalid for input of shape {self.shape} "
                f"({self.data.size} elements)"
            )
        return M.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge dimensions ``start_dim..end_dim`` into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = R.axis(start_dim, self.ndim), R.axis(end_dim, self.ndim)
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def permute(self, *dims):
        """Reorder the dimensions."""
        dims = tuple(R.axis(d, self.ndim) for d in _shape_args(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute(): {dims} is not a permutation of {self.ndim} dims")
        return M.Permute.apply(self, dims=dims)

    def transpose(self, dim0: int, dim1: int):
        """Swap two dimensions."""
        dim0, dim1 = R.axis(dim0, self.ndim), R.axis(dim1, self.ndim)
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return M.Permute.apply(self, dims=tuple(dims))

    def t(self):
        """The transpose of a matrix; a tensor of 0 or 1 dims is returned as it is (PyTorch's
        rule). For more dims name the two to swap: ``transpose(-2, -1)``."""
        if self.ndim > 2:
            raise ValueError(
                f"t() expects a tensor with at most 2 dims, got {self.ndim}: use "
                "transpose(dim0, dim1) to swap two of them"
            )
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self):  # noqa: N802 (PyTorch's name)
        """All dimensions reversed."""
        return M.Permute.apply(self, dims=tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: int):
        """Insert a dimension of size 1 at ``dim``."""
        dim = R.axis(dim, self.ndim, new=True)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Remove dimensions of size 1: all of them, or those among ``dim`` (an int or a tuple);
        a named dimension of another size stays, as in PyTorch."""
        if self.ndim == 0:
            return self
        dims = range(self.ndim) if dim is None else R.normalize_dims(dim, self.ndim)
        drop = {d for d in dims if self.shape[d] == 1}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def expand(self, *shape):
        """Broadcast to a larger shape without copying (-1 keeps a dimension)."""
        shape = _shape_args(shape)
        lead = len(shape) - self.ndim
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        _check_broadcast("expand", self.shape, shape, result=shape)
        return M.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        """Broadcast to ``other``'s shape."""
        return self.expand(other.shape)

    def __getitem__(self, index):
        return M.GetItem.apply(self, index=_clean_index(index))

    def split(self, split_size, dim: int = 0):
        """Split into pieces of ``split_size`` (an int, or a list of sizes) along ``dim``."""
        dim = R.axis(dim, self.ndim)
        length = self.shape[dim]
        if isinstance(split_size, int):
            if split_size < 1:
                raise ValueError(f"split(): split_size must be at least 1, got {split_size}")
            sizes = [split_size] * (length // split_size)
            if length % split_size:
                sizes.append(length % split_size)
        else:
            sizes = list(split_size)
        if sum(sizes) != length:
            raise ValueError(f"split(): sizes {sizes} do not add up to {length} along dim {dim}")
        pieces, start = [], 0
        prefix = (slice(None),) * dim
        for size in sizes:
            pieces.append(self[prefix + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0):
        """Split into ``chunks`` nearly equal pieces along ``dim`` (the last may be smaller)."""
        if chunks < 1:
            raise ValueError(f"chunk(): chunks must be at least 1, got {chunks}")
        size = -(-self.shape[R.axis(dim, self.ndim)] // chunks)
        return self.split(size, dim)

    def gather(self, dim: int, index):
        """out[i][j] = self[i][index[i][j]] along ``dim`` (torch.gather)."""
        index = index if isinstance(index, Tensor) else Tensor(index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"gather(): index must be an integer tensor, got {index.dtype}")
        return M.Gather.apply(self, index, dim=R.axis(dim, self.ndim))

    def unbind(self, dim: int = 0):
        """The slices along ``dim`` as a tuple of tensors, each without that dim."""
        axis = R.normalize_dims(dim, self.ndim)[0]
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    def roll(self, shifts, dims=None):
        """Shift elements by ``shifts`` places along ``dims`` (ints or tuples of them), those
        pushed off one end coming back at the other; with ``dims`` None, along the flattened
        tensor, shape kept (torch.roll, numpy's roll)."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = shifts if isinstance(shifts, tuple | list) else (shifts,)
        dims = dims if isinstance(dims, tuple | list) else (dims,)
        if len(shifts) != len(dims):
            raise ValueError(f"roll(): {len(shifts)} shifts for {len(dims)} dims")
        out = self
        for shift, axis in zip(shifts, R.normalize_dims(tuple(dims), self.ndim), strict=True):
            order = np.roll(np.arange(self.shape[axis]), shift)  # out[i] = x[order[i]]
            out = out[(slice(None),) * axis + (order,)]
        return out

    def isclose(self, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
        """|self - other| <= atol + rtol * |other| elementwise, as a bool tensor."""
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(np.isclose(self.data, other, rtol, atol, equal_nan))

    def allclose(self, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
        """Whether `isclose` holds for every element: a Python bool."""
        return bool(self.isclose(other, rtol, atol, equal_nan).data.all())

    def flip(self, *dims):
        """Reverse the order of elements along ``dims``."""
        axes = R.normalize_dims(_shape_args(dims), self.ndim)
        return self[
            tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(self.ndim))
        ]

    def repeat(self, *sizes):
        """Tile the tensor ``sizes[i]`` times along dim i (torch.repeat, numpy's tile); extra
        leading sizes add dimensions."""
        sizes = _shape_args(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat(): {len(sizes)} sizes for a tensor with {self.ndim} dims")
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        interleaved = tuple(x for n in shape for x in (1, n))  # a size-1 axis before each dim
        tiled = tuple(x for r, n in zip(sizes, shape, strict=True) for x in (r, n))
        out = self.reshape(interleaved).expand(tiled)
        return out.reshape(tuple(r * n for r, n in zip(sizes, shape, strict=True)))

    def repeat_interleave(self, repeats, dim=None):
        """Repeat each element ``repeats`` times (an int, or one count per element) along
        ``dim`` (of the flattened tensor when None)."""
        x = self.reshape(-1) if dim is None else self
        axis = 0 if dim is None else R.normalize_dims(dim, x.ndim)[0]
        counts = repeats.data if isinstance(repeats, Tensor) else repeats
        index = np.repeat(np.arange(x.shape[axis]), counts)
        return x[(slice(None),) * axis + (index,)]

    def tril(self, diagonal: int = 0):
        """The lower triangle of the last two dims (elements above ``diagonal`` zeroed)."""
        _check_matrix("tril", self.shape)
        keep = np.tri(*self.shape[-2:], k=diagonal, dtype=bool)
        return self.masked_fill(Tensor._wrap(~keep), 0)

    def triu(self, diagonal: int = 0):
        """The upper triangle of the last two dims (elements below ``diagonal`` zeroed)."""
        _check_matrix("triu", self.shape)
        keep = ~np.tri(*self.shape[-2:], k=diagonal - 1, dtype=bool)
        return self.masked_fill(Tensor._wrap(~keep), 0)

    def contiguous(self):
        """Return self: minigrad does not expose memory layout."""
        return self


def _shape_args(shape) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def _reshape_fits(shape: tuple, size: int) -> bool:
    """Whether ``size`` elements fill ``shape`` (which may hold one -1)."""
    known = math.prod(n for n in shape if n != -1)
    unknown = shape.count(-1)
    if unknown == 0:
        return known == size
    return unknown == 1 and known > 0 and size % known == 0


def broadcast_shape(a: tuple, b: tuple) -> tuple | None:
    """The shape ``a`` and ``b`` broadcast to, or None when they do not broadcast."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def _check_broadcast(op: str, a: tuple, b: tuple, result=None) -> None:
    out = broadcast_shape(a, b)
    if out is None or (result is not None and out != tuple(result)):
        raise ValueError(f"{op}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together")


def _check_matrix(op: str, shape: tuple) -> None:
    if len(shape) < 2:
        raise ValueError(f"{op}(): needs a tensor of at least 2 dims, got shape {shape}")


def _check_matmul(a: tuple, b: tuple) -> None:
    if not a or not b:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {a} and {b}")
    inner_a, inner_b = a[-1], (b[0] if len(b) == 1 else b[-2])
    batch_ok = len(a) <= 2 or len(b) <= 2 or broadcast_shape(a[:-2], b[:-2]) is not None
    if inner_a != inner_b or not batch_ok:
        raise ValueError(f"matmul: shapes {a} and {b} are not aligned for a matrix product")


def _clean_index(index):
    """Unwrap tensor indices to arrays and reject float indices with a clear message."""
    items = index if isinstance(index, tuple) else (index,)
    cleaned = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, float) or (isinstance(item, np.ndarray) and item.dtype.kind == "f"):
            raise IndexError(
                "tensors used as indices must be integer or boolean, got a float index"
            )
        cleaned.append(item)
    return tuple(cleaned) if isinstance(index, tuple) else cleaned[0]
