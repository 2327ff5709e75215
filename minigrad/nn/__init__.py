"""Neural-network building blocks shaped like ``torch.nn``: Module, Parameter, layers,
containers, ``init``, ``functional`` and ``utils`` (gradient clipping)."""

from minigrad.nn import functional, init, utils
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers import (
    GELU,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    MSELoss,
    ReLU,
    Sigmoid,
    Tanh,
)
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = [
    "CrossEntropyLoss", "Dropout", "Embedding", "functional", "GELU", "init", "LayerNorm", "Linear",
    "Module", "ModuleDict", "ModuleList", "MSELoss", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Tanh", "utils",
]  # fmt: skip
