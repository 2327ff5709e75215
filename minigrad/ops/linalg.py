"""Linear algebra: the matrix product, the op that does nearly all of a model's arithmetic."""

import numpy as np

from minigrad.autograd import Function, unbroadcast


class MatMul(Function):
    """out = a @ b with numpy/PyTorch semantics (1-D, 2-D, batched N-D, broadcast batch dims).

    For matrices, da = g @ b^T and db = a^T @ g; batch dimensions that were broadcast are summed.
    A 1-D operand is treated as a row (left) or column (right) vector and squeezed back.
    """

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a = a[None, :] if a.ndim == 1 else a
        self.b = b[:, None] if b.ndim == 1 else b
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        if len(self.b_shape) == 1:
            g = np.expand_dims(g, -1)
        if len(self.a_shape) == 1:
            g = np.expand_dims(g, -2)
        da = db = None
        if self.needs_input_grad[0]:
            da = unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a.shape).reshape(self.a_shape)
        if self.needs_input_grad[1]:
            db = unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b.shape).reshape(self.b_shape)
        return da, db
