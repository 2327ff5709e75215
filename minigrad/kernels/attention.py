"""The scaled dot-product attention core, written once for both backends.

out = softmax(scale * q k^T, masked) v. The two products go to BLAS (numpy matmul: on the
attention shapes we measured it was 5-8x faster than Numba loops); scale, mask and softmax are
the backend's fused `masked_softmax_forward`, so the numba backend gets the fused kernel and the
numpy backend the reference. A fully masked query row has zero weights, hence zero output and
zero gradients.
"""

import numpy as np


def forward(backend, q, k, v, mask, scale):
    """Returns (out, weights): weights = softmax(scale q k^T, masked), out = weights v."""
    weights = backend.masked_softmax_forward(np.matmul(q, k.swapaxes(-1, -2)), scale, mask)
    return np.matmul(weights, v), weights


def backward(backend, q, k, v, weights, grad_out, scale):
    """Returns (grad_q, grad_k, grad_v) with, for S the pre-softmax scores / scale:

    grad_v = W^T G, grad_W = G v^T, grad_S = scale W (grad_W - rowsum(grad_W W)),
    grad_q = grad_S k, grad_k = grad_S^T q.
    """
    grad_v = np.matmul(weights.swapaxes(-1, -2), grad_out)
    grad_weights = np.matmul(grad_out, v.swapaxes(-1, -2))
    grad_scores = backend.softmax_backward(weights, grad_weights, scale)
    grad_q = np.matmul(grad_scores, k)
    grad_k = np.matmul(grad_scores.swapaxes(-1, -2), q)
    return grad_q, grad_k, grad_v
