"""Neural-network building blocks shaped like ``torch.nn``: Module, Parameter, layers,
containers, ``init`` and ``functional``."""

from minigrad.nn import functional, init
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers import GELU, Dropout, Embedding, LayerNorm, Linear, ReLU
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = [
    "GELU", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "ModuleDict", "ModuleList",
    "Parameter", "ReLU", "Sequential", "functional", "init",
]  # fmt: skip
