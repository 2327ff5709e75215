"""Neural-network building blocks shaped like ``torch.nn``: Module, Parameter, layers,
containers, ``init``, ``functional`` and ``utils`` (gradient clipping)."""

from minigrad.nn import functional, init, utils
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers import GELU, Dropout, Embedding, LayerNorm, Linear, ReLU
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = [
    "GELU", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "ModuleDict", "ModuleList",
    "Parameter", "ReLU", "Sequential", "functional", "init", "utils",
]  # fmt: skip
