"""Linear algebra: the matrix product, the op that does nearly all of a model's arithmetic."""

import re

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, unbroadcast, unbroadcast_graph


class MatMul(Function):
    """out = a @ b with numpy/PyTorch semantics (1-D, 2-D, batched N-D, broadcast batch dims).

    For matrices, da = g @ b^T and db = a^T @ g; batch dimensions that were broadcast are summed.
    A 1-D operand is treated as a row (left) or column (right) vector and squeezed back.
    """

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a = a[None, :] if a.ndim == 1 else a
        self.b = b[:, None] if b.ndim == 1 else b
        return kernels.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        if len(self.b_shape) == 1:
            g = np.expand_dims(g, -1)
        if len(self.a_shape) == 1:
            g = np.expand_dims(g, -2)
        da = db = None
        if self.needs_input_grad[0]:
            da = kernels.matmul(g, np.swapaxes(b, -1, -2))
            da = unbroadcast(da, a.shape).reshape(self.a_shape)
        if self.needs_input_grad[1]:
            db = kernels.matmul(np.swapaxes(a, -1, -2), g)
            db = unbroadcast(db, b.shape).reshape(self.b_shape)
        return da, db

    def backward_graph(self, g):
        a, b = self.parents
        if b.ndim == 1:
            g, b = g.unsqueeze(-1), b.reshape(-1, 1)
        if a.ndim == 1:
            g, a = g.unsqueeze(-2), a.reshape(1, -1)
        da = unbroadcast_graph(g @ b.transpose(-1, -2), a.shape).reshape(self.a_shape)
        db = unbroadcast_graph(a.transpose(-1, -2) @ g, b.shape).reshape(self.b_shape)
        return da, db


class Einsum(Function):
    """out = np.einsum(equation, *operands), e.g. "bij,bjk->bik";  the gradient of operand i
    is the einsum of g with the other operands, onto operand i's subscripts (letters only that
    operand has are summed in the forward, so its gradient is broadcast back over them)."""

    def forward(self, *operands, inputs=(), output=""):
        self.operands, self.inputs, self.output = operands, inputs, output
        return np.asarray(np.einsum(f"{','.join(inputs)}->{output}", *operands))

    def backward(self, g):
        grads = []
        for i, subscripts in enumerate(self.inputs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(self.inputs) if j != i]
            known = set(self.output).union(*others)
            kept = "".join(c for c in subscripts if c in known)
            arrays = [a for j, a in enumerate(self.operands) if j != i]
            grad = np.einsum(f"{','.join([self.output, *others])}->{kept}", g, *arrays)
            shape = tuple(
                n if c in known else 1
                for c, n in zip(subscripts, self.operands[i].shape, strict=True)
            )
            grads.append(np.broadcast_to(grad.reshape(shape), self.operands[i].shape).copy())
        return tuple(grads)

    def backward_graph(self, g):
        grads = []
        for i, subscripts in enumerate(self.inputs):
            others = [s for j, s in enumerate(self.inputs) if j != i]
            known = set(self.output).union(*others)
            kept = "".join(c for c in subscripts if c in known)
            tensors = [t for j, t in enumerate(self.parents) if j != i]
            grad = Einsum.apply(g, *tensors, inputs=(self.output, *others), output=kept)
            shape = self.operands[i].shape
            kept_shape = tuple(
                n if c in known else 1 for c, n in zip(subscripts, shape, strict=True)
            )
            grads.append(grad.reshape(kept_shape).expand(shape))
        return tuple(grads)


def parse_einsum(equation: str, shapes) -> tuple[tuple[str, ...], str]:
    """Split ``"ij,jk->ik"`` into (("ij", "jk"), "ik"); without "->" the output is the letters
    used once, sorted (numpy's and PyTorch's rule). Ellipses and a letter repeated within one
    operand (a diagonal) are not supported."""
    equation = equation.replace(" ", "")
    if "." in equation:
        raise NotImplementedError("einsum(): ellipsis ('...') is not supported; name the dims")
    lhs, arrow, output = equation.partition("->")
    inputs = tuple(lhs.split(","))
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum(): {equation!r} names {len(inputs)} operands, got {len(shapes)}")
    for subscripts, shape in zip(inputs, shapes, strict=True):
        if not re.fullmatch("[a-zA-Z]*", subscripts) or len(subscripts) != len(shape):
            raise ValueError(
                f"einsum(): subscripts {subscripts!r} do not fit an operand of shape {shape}"
            )
        if len(set(subscripts)) != len(subscripts):
            raise NotImplementedError(
                f"einsum(): a letter repeated within one operand ({subscripts!r}, a diagonal) is "
                "not supported"
            )
    if not arrow:
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, output
