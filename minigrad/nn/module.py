"""`Module`: the base class of every layer and model, shaped like ``torch.nn.Module``.

Assigning a `Parameter` or a Module as an attribute registers it, so ``parameters()``,
``state_dict()`` and ``train()``/``eval()`` reach the whole tree. Calling a module runs its
``forward`` inside a *module scope*: every op recorded there remembers the module's dotted path
(``encoder.layers.0.self_attn``) on its graph node (``fn.scope``, set through
`minigrad.autograd.set_scope`), which `minigrad.viz` uses to group the graph by module and
``detect_anomaly`` names in its errors.

Paths are given by the outermost module call: calling a module that is not inside another
module's forward (and has not been named by an enclosing model yet) names its whole tree, its
parameters included (``Parameter.name``). The outermost module's own ops are recorded under its
class name.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from minigrad.autograd import bump_version, current_scope, set_scope
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_structure = [0]  # bumped whenever any module gains or loses a parameter or sub-module


def _structure_changed() -> None:
    _structure[0] += 1


class Module:
    """Base class for layers and models: override ``forward``; call the module to run it."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_path", "")
        object.__setattr__(self, "_named_at", -1)

    # ---- registration -----------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign '{name}' before {type(self).__name__}.__init__() calls "
                "super().__init__()"
            )
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value  # re-assigning a buffer keeps it a buffer, as PyTorch
            object.__setattr__(self, name, value)
        elif name in self._parameters and value is None:
            self._parameters[name] = None  # a None placeholder stays registered, as PyTorch
            object.__setattr__(self, name, value)
        else:
            for registry in (self._parameters, self._modules, self._buffers):
                registry.pop(name, None)
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        _structure_changed()
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Tensor | None, persistent: bool = True) -> None:
        """Register a non-trainable tensor (e.g. a fixed table) that belongs to the module.

        A persistent buffer is part of ``state_dict()``; ``persistent=False`` keeps it out (for
        tables rebuilt by ``__init__``, such as sinusoidal positional encodings).
        """
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"register_buffer('{name}'): expected a Tensor or None, got {value!r}")
        for registry in (self._parameters, self._modules):
            registry.pop(name, None)
        self._buffers[name] = value
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, value)

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        """Register a parameter under ``name`` (None leaves a placeholder, as PyTorch)."""
        if value is not None and not isinstance(value, Parameter):
            raise TypeError(f"register_parameter('{name}'): expected a Parameter, got {value!r}")
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._parameters[name] = value
        _structure_changed()
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): expected a Module, got {type(module).__name__}")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        _structure_changed()
        object.__setattr__(self, name, module)

    # ---- running ----------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        """The computation; every subclass overrides it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args, **kwargs):
        if self._named_at != _structure[0] and current_scope() is None:
            self._name_tree()
        previous = set_scope(self._path or type(self).__name__)  # plain calls: cheaper than `with`
        try:
            return self.forward(*args, **kwargs)
        finally:
            set_scope(previous)

    def _name_tree(self) -> None:
        """Give every sub-module and parameter its dotted path. Done by an outermost call, and
        again only after the module structure changed (so a call costs O(1) otherwise)."""
        for path, module in self.named_modules():
            object.__setattr__(module, "_path", path)
            object.__setattr__(module, "_named_at", _structure[0])
            for name, p in module._parameters.items():
                if p is not None:
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

    def parameters(self) -> list[Parameter]:
        """Every parameter of the tree, each once, in registration order (a list)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        """Yield (dotted name, buffer) for every registered buffer."""
        for path, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{path}.{name}" if path else name), b

    def buffers(self) -> list[Tensor]:
        """Every registered buffer (a list)."""
        return [b for _, b in self.named_buffers()]

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalars in the parameters (shared ones counted once)."""
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module (depth first) and then on this one, as
        PyTorch; used for custom initialisation: ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch the whole tree to training mode (dropout on); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Switch the whole tree to evaluation mode (dropout off); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (to None, or to zeros)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = np.zeros_like(p.data)

    # ---- state ------------------------------------------------------------------------------
    def _state_tensors(self) -> OrderedDict:
        """Dotted name -> tensor of every parameter and persistent buffer, in PyTorch's order."""
        own = OrderedDict()
        for path, module in self.named_modules():
            buffers = [
                (n, b) for n, b in module._buffers.items() if n not in module._non_persistent
            ]
            for name, t in list(module._parameters.items()) + buffers:
                if t is not None:
                    own[f"{path}.{name}" if path else name] = t
        return own

    def state_dict(self) -> OrderedDict:
        """Dotted name -> numpy array (a copy) of every parameter and persistent buffer.

        Unlike PyTorch (tensors sharing storage) the values are independent copies, so a state
        dict taken now is not changed by later training steps.
        """
        return OrderedDict((k, t.data.copy()) for k, t in self._state_tensors().items())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or tensors) into the parameters and buffers, cast to their dtypes.

        Shapes must always match; with ``strict`` (the default) the keys must match exactly too.
        All problems are reported together in one RuntimeError, as PyTorch does. Returns
        ``(missing_keys, unexpected_keys)``.
        """
        own = self._state_tensors()
        values = {k: _as_array(k, v) for k, v in state_dict.items()}
        missing = [k for k in own if k not in values]
        unexpected = [k for k in values if k not in own]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(unexpected))
        for key, t in own.items():
            if key in values and values[key].shape != t.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {values[key].shape} "
                    f"from checkpoint, the shape in current model is {t.shape}"
                )
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        for key, t in own.items():
            if key in values:
                t.data = values[key].astype(t.dtype, copy=True)
                bump_version(t)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One-line description of this module's own settings (override in layers)."""
        return ""

    def _child_lines(self) -> list[str]:
        """``(name): repr`` for each child; containers may compress repeats."""
        return [f"({name}): " + _indent(repr(child)) for name, child in self.named_children()]

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        lines = extra_lines + self._child_lines()
        body = ""
        if len(extra_lines) == 1 and len(lines) == 1:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _as_array(key: str, value) -> np.ndarray:
    """A state-dict value as an array, or a clear error naming the key."""
    if isinstance(value, Tensor):
        return value.data
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: value for '{key}' is not numeric ({array.dtype})")
    return array
