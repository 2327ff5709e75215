"""`Module`: the base class of every layer and model, shaped like ``torch.nn.Module``.

Assigning a `Parameter` or a Module as an attribute registers it, so ``parameters()``,
``state_dict()`` and ``train()``/``eval()`` reach the whole tree. Calling a module runs its
``forward`` inside a *module scope*: every op recorded there remembers the module's dotted path
(``encoder.layers.0.self_attn``), which `minigrad.viz` uses to group the graph by module.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from minigrad.autograd import current_module, module_scope
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class Module:
    """Base class for layers and models: override ``forward``; call the module to run it."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_path", "")

    # ---- registration -----------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("call super().__init__() before assigning attributes")
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Tensor | None) -> None:
        """Register a non-trainable tensor that is part of the state dict (e.g. a fixed table)."""
        object.__setattr__(self, name, value)
        self._buffers[name] = value

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        """Register a parameter under ``name`` (None leaves a placeholder, as PyTorch)."""
        if value is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, value)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under ``name``."""
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ---- running ----------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args, **kwargs):
        if current_module() is None:
            self._name_tree()
        with module_scope(self._path or type(self).__name__):
            return self.forward(*args, **kwargs)

    def _name_tree(self) -> None:
        """Give every sub-module and parameter its dotted path (cheap; done per root call)."""
        for path, module in self.named_modules():
            object.__setattr__(module, "_path", path)
            for name, p in module._parameters.items():
                if p is not None and p.name is None:
                    p.name = f"{path}.{name}" if path else name

    # ---- traversal --------------------------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        """Yield (dotted path, module) for this module and every descendant, once each."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = [
                (f"{path}.{name}" if path else name, child)
                for name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self):
        """Every module in the tree (this one included)."""
        return (m for _, m in self.named_modules())

    def named_children(self):
        """(name, module) of the direct sub-modules."""
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        """The direct sub-modules."""
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix: str = ""):
        """Yield (dotted name, parameter) for every parameter, shared ones once."""
        seen = set()
        for path, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{path}.{name}" if path else name), p

    def parameters(self):
        """Every parameter of the tree (each once)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        """Yield (dotted name, buffer) for every registered buffer."""
        for path, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{path}.{name}" if path else name), b

    def num_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.data.size for p in self.parameters())

    # ---- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch the whole tree to training mode (dropout on)."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Switch the whole tree to evaluation mode (dropout off)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = np.zeros_like(p.data)

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Dotted name -> numpy array (a copy) of every parameter and buffer."""
        state = OrderedDict()
        for path, module in self.named_modules():
            entries = list(module._parameters.items()) + list(module._buffers.items())
            for name, t in entries:
                if t is not None:
                    state[f"{path}.{name}" if path else name] = t.data.copy()
        return state

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into parameters/buffers; with ``strict`` every key and shape must match.

        Returns (missing_keys, unexpected_keys) like PyTorch.
        """
        own = {}
        for path, module in self.named_modules():
            entries = list(module._parameters.items()) + list(module._buffers.items())
            for name, t in entries:
                if t is not None:
                    own[f"{path}.{name}" if path else name] = t
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = [
            f"{k}: expected {own[k].shape}, got {np.shape(state_dict[k])}"
            for k in own
            if k in state_dict and tuple(np.shape(state_dict[k])) != own[k].shape
        ]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        if mismatched:
            problems.append(f"shape mismatches: {mismatched}")
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: " + "; ".join(problems)
            )
        for key, t in own.items():
            if key in state_dict:
                value = state_dict[key]
                value = value.data if isinstance(value, Tensor) else np.asarray(value)
                t.data = value.astype(t.dtype, copy=True)
        return missing, unexpected

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One-line description of this module's own settings (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + _indent(repr(child)) for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")
