"""Elementwise ops: arithmetic, unary math, selection and dtype casts.

Each class states its forward formula and the gradient it sends back. Binary ops broadcast like
numpy (and PyTorch); their gradients are summed back to each input's shape by `unbroadcast`.
"""

import numpy as np

from minigrad.autograd import Function, unbroadcast, unbroadcast_graph


class Add(Function):
    """out = a + b;  da = g,  db = g."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)

    def backward_graph(self, g):
        a, b = self.parents
        return unbroadcast_graph(g, a.shape), unbroadcast_graph(g, b.shape)


class Sub(Function):
    """out = a - b;  da = g,  db = -g."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), (unbroadcast(-g, sb) if self.needs_input_grad[1] else None)

    def backward_graph(self, g):
        a, b = self.parents
        return unbroadcast_graph(g, a.shape), unbroadcast_graph(-g, b.shape)


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        da = unbroadcast(g * b, a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(g * a, b.shape) if self.needs_input_grad[1] else None
        return da, db

    def backward_graph(self, g):
        a, b = self.parents
        return unbroadcast_graph(g * b, a.shape), unbroadcast_graph(g * a, b.shape)


class Div(Function):
    """out = a / b;  da = g / b,  db = -g * a / b^2."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        da = unbroadcast(g / b, a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(-g * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def backward_graph(self, g):
        a, b = self.parents
        return unbroadcast_graph(g / b, a.shape), unbroadcast_graph(-g * a / (b * b), b.shape)


class PowScalar(Function):
    """out = a ** p for a constant number p;  da = g * p * a^(p-1)."""

    def forward(self, a, exponent):
        self.a, self.exponent = a, exponent
        return a**exponent

    def backward(self, g):
        p = self.exponent
        return g * (p * self.a ** (p - 1)).astype(g.dtype, copy=False)

    def backward_graph(self, g):
        (a,) = self.parents
        return g * (a ** (self.exponent - 1) * self.exponent)


class Pow(Function):
    """out = a ** b (both tensors);  da = g * b * a^(b-1),  db = g * out * log(a)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        da = unbroadcast(g * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        db = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0).astype(g.dtype)
            db = unbroadcast(g * self.out * log_a, b.shape)
        return da, db

    def backward_graph(self, g):
        a, b = self.parents
        positive = g._wrap(a.data > 0)
        log_a = Where.apply(positive, a, g._wrap(np.ones((), a.dtype))).log()
        da = unbroadcast_graph(g * b * a ** (b - 1), a.shape)
        return da, unbroadcast_graph(g * a**b * log_a, b.shape)


class Neg(Function):
    """out = -a;  da = -g."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g

    def backward_graph(self, g):
        return -g


class PiecewiseConstant(Function):
    """Base of the ops that are flat between jumps (sign, floor, ceil, trunc, round): out =
    fn(a), da = 0 (PyTorch's convention; at a jump the derivative does not exist)."""

    fn = None  # the numpy function, set by each subclass

    def forward(self, a, **options):
        return type(self).fn(a, **options)

    def backward(self, g):
        return np.zeros_like(g)

    def backward_graph(self, g):
        return g * 0


class Sign(PiecewiseConstant):
    """out = -1, 0 or 1 by the sign of a;  da = 0."""

    fn = staticmethod(np.sign)


class Rounding(PiecewiseConstant):
    """Base of floor, ceil, trunc and round: integer inputs come back unchanged, in their
    dtype (as in PyTorch)."""

    def forward(self, a, **options):
        return super().forward(a, **options) if a.dtype.kind == "f" else a.copy()


class Floor(Rounding):
    """out = the largest integer <= a;  da = 0."""

    fn = staticmethod(np.floor)


class Ceil(Rounding):
    """out = the smallest integer >= a;  da = 0."""

    fn = staticmethod(np.ceil)


class Trunc(Rounding):
    """out = a rounded towards zero;  da = 0."""

    fn = staticmethod(np.trunc)


class Round(Rounding):
    """out = a rounded to ``decimals`` places, halves to even;  da = 0."""

    fn = staticmethod(np.round)


class Exp(Function):
    """out = e^a;  da = g * out."""

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return g * self.out

    def backward_graph(self, g):
        return g * self.parents[0].exp()


class Log(Function):
    """out = ln(a);  da = g / a."""

    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, g):
        return g / self.a

    def backward_graph(self, g):
        return g / self.parents[0]


class Sqrt(Function):
    """out = sqrt(a);  da = g / (2 out)."""

    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)

    def backward_graph(self, g):
        return g / (self.parents[0].sqrt() * 2)


class Tanh(Function):
    """out = tanh(a);  da = g * (1 - out^2)."""

    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)

    def backward_graph(self, g):
        t = self.parents[0].tanh()
        return g * (1 - t * t)


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) without overflow: e^-|a| never exceeds 1."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """out = 1 / (1 + e^-a), computed without overflow;  da = g * out * (1 - out)."""

    def forward(self, a):
        self.out = sigmoid(a)
        return self.out

    def backward(self, g):
        return g * self.out * (1 - self.out)

    def backward_graph(self, g):
        s = self.parents[0].sigmoid()
        return g * s * (1 - s)


class Relu(Function):
    """out = max(a, 0);  da = g where a > 0, else 0."""

    def forward(self, a):
        self.out = np.maximum(a, 0)
        return self.out

    def backward(self, g):
        return g * (self.out > 0)

    def backward_graph(self, g):
        return g * g._wrap((self.out > 0).astype(g.dtype))


class Abs(Function):
    """out = |a|;  da = g * sign(a) (0 at a = 0, as PyTorch)."""

    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return g * np.sign(self.a)

    def backward_graph(self, g):
        return g * g._wrap(np.sign(self.a).astype(g.dtype))


class Clamp(Function):
    """out = min(max(a, low), high);  da = g where low <= a <= high, else 0 (as PyTorch)."""

    def forward(self, a, low=None, high=None):
        self.inside = np.ones(a.shape, dtype=bool)
        out = a
        if low is not None:
            self.inside &= a >= low
            out = np.maximum(out, np.asarray(low, dtype=a.dtype))
        if high is not None:
            self.inside &= a <= high
            out = np.minimum(out, np.asarray(high, dtype=a.dtype))
        return out

    def backward(self, g):
        return np.where(self.inside, g, 0).astype(g.dtype, copy=False)

    def backward_graph(self, g):
        return g * g._wrap(self.inside.astype(g.dtype))


class Maximum(Function):
    """out = max(a, b) elementwise;  g goes to the larger input, split evenly on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share_a = (a > b) + 0.5 * (a == b)
        da = unbroadcast(g * share_a, a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(g * (1 - share_a), b.shape) if self.needs_input_grad[1] else None
        return _cast(da, g), _cast(db, g)

    def backward_graph(self, g):
        a, b = self.parents
        share_a = g._wrap(((self.a > self.b) + 0.5 * (self.a == self.b)).astype(g.dtype))
        return unbroadcast_graph(g * share_a, a.shape), unbroadcast_graph(
            g * (1 - share_a), b.shape
        )


class Minimum(Function):
    """out = min(a, b) elementwise;  g goes to the smaller input, split evenly on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share_a = (a < b) + 0.5 * (a == b)
        da = unbroadcast(g * share_a, a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(g * (1 - share_a), b.shape) if self.needs_input_grad[1] else None
        return _cast(da, g), _cast(db, g)

    def backward_graph(self, g):
        a, b = self.parents
        share_a = g._wrap(((self.a < self.b) + 0.5 * (self.a == self.b)).astype(g.dtype))
        return unbroadcast_graph(g * share_a, a.shape), unbroadcast_graph(
            g * (1 - share_a), b.shape
        )


class Where(Function):
    """out = a where cond else b;  da = g where cond,  db = g where not cond."""

    def forward(self, cond, a, b):
        self.cond, self.shapes = cond, (a.shape, b.shape)
        return np.where(cond, a, b)

    def backward(self, g):
        sa, sb = self.shapes
        zero = np.zeros((), dtype=g.dtype)
        da = unbroadcast(np.where(self.cond, g, zero), sa) if self.needs_input_grad[1] else None
        db = unbroadcast(np.where(self.cond, zero, g), sb) if self.needs_input_grad[2] else None
        return None, da, db

    def backward_graph(self, g):
        _, a, b = self.parents
        chosen = g._wrap(self.cond.astype(g.dtype))
        return (
            None,
            unbroadcast_graph(g * chosen, a.shape),
            unbroadcast_graph(g * (1 - chosen), b.shape),
        )


def _cast(grad, like):
    return None if grad is None else grad.astype(like.dtype, copy=False)


class Cast(Function):
    """out = a converted to another dtype;  da = g converted back."""

    def forward(self, a, dtype=None):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtype)

    def backward_graph(self, g):
        return Cast.apply(g, dtype=self.dtype)
