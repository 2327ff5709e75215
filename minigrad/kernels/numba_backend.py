"""The Numba backend: the same function names as `reference`, backed by the JIT kernels.

matmul is numpy's (BLAS) in both backends, called by `minigrad.kernels.matmul` itself: Numba
loops lost on every shape we measured, including the many tiny batched products of attention
(docs/performance.md has the numbers).
"""

from .numba_argmax import argmax_rows
from .numba_bias import add_row_bias
from .numba_cross_entropy import (
    cross_entropy_backward,
    cross_entropy_forward,
    cross_entropy_fused,
)
from .numba_elementwise import dropout_backward, dropout_forward, gelu_backward, gelu_forward
from .numba_embedding import embedding_backward
from .numba_layer_norm import layer_norm_backward, layer_norm_forward
from .numba_optim import adam_step, sgd_step
from .numba_softmax import (
    log_softmax_backward,
    log_softmax_forward,
    masked_softmax_forward,
    softmax_backward,
)

__all__ = [
    "adam_step", "add_row_bias", "argmax_rows", "cross_entropy_backward", "cross_entropy_forward",
    "cross_entropy_fused", "dropout_backward", "dropout_forward", "embedding_backward",
    "gelu_backward", "gelu_forward",
    "layer_norm_backward", "layer_norm_forward", "log_softmax_backward", "log_softmax_forward",
    "masked_softmax_forward", "sgd_step", "softmax_backward",
]  # fmt: skip
