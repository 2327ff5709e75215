"""Neural-network building blocks shaped like ``torch.nn``: Module, Parameter, layers,
containers, ``init``, ``functional`` and ``utils`` (gradient clipping)."""

from minigrad.nn import functional, init, utils
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers import (
    GELU,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "functional",
    "GELU", "Identity", "init", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "Module",
    "ModuleDict", "ModuleList", "MSELoss", "NLLLoss", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "SiLU", "Softmax", "Tanh", "utils",
]  # fmt: skip
