"""Containers that hold sub-modules: Sequential, ModuleList, ModuleDict (as in PyTorch).

Sub-modules are registered under their position ("0", "1", ...) or key, so parameter names read
``layers.0.weight`` as in PyTorch.
"""

from collections import OrderedDict

from minigrad.nn.module import Module, _indent


class _IndexedModules(Module):
    """Shared base of Sequential and ModuleList: modules registered under "0", "1", ..."""

    def append(self, module: Module):
        """Add a module at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        """Add several modules at the end; returns self."""
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._sliced(list(self._modules.items())[index])
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range")
        return list(self._modules.values())[index]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules)[index]
        self.add_module(name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_IndexedModules):
    """Run modules one after another, each on the previous one's output.

    ``Sequential(a, b)`` names them "0", "1"; ``Sequential(OrderedDict(name=module, ...))``
    keeps the given names.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            self.extend(modules)

    def _sliced(self, items):
        """A slice keeps the modules' names, as in PyTorch."""
        return type(self)(OrderedDict(items))

    def forward(self, x):
        """x -> m_n(...m_1(m_0(x)))."""
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_IndexedModules):
    """A list of modules, registered so their parameters are found; it has no forward."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def _sliced(self, items):
        """A slice is a new list, renumbered from 0, as in PyTorch."""
        return type(self)(m for _, m in items)

    def _child_lines(self) -> list[str]:
        """Runs of identical children print once, as ``(0-5): 6 x EncoderLayer(...)``."""
        runs = []  # [first index, last index, repr]
        for i, child in enumerate(self._modules.values()):
            text = repr(child)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        return [
            _indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}")
            for a, b, text in runs
        ]


class ModuleDict(Module):
    """A dict of modules, registered so their parameters are found; it has no forward."""

    def __init__(self, modules=None):
        super().__init__()
        for name, m in dict(modules or {}).items():
            self.add_module(name, m)

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def __setitem__(self, name: str, module: Module) -> None:
        self.add_module(name, module)

    def __contains__(self, name: str) -> bool:
        return name in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        """Module names."""
        return self._modules.keys()

    def values(self):
        """Modules."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs."""
        return self._modules.items()
