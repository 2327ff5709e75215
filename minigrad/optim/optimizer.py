"""`Optimizer`: the base class of SGD, Adam and AdamW, shaped like ``torch.optim.Optimizer``.

An optimizer holds *parameter groups*: a list of dicts, each with ``"params"`` (a list of
parameters) and its own options (``lr``, ``weight_decay``, ...; missing options come from the
optimizer's defaults). Per-parameter state (momentum buffers, Adam moments) lives in
``optimizer.state[param]``. Subclasses implement ``_update`` by calling one fused kernel from
`minigrad.kernels` per parameter, which updates the arrays in place; ``step()`` then bumps each
updated parameter's version, so a graph recorded before the step refuses to backpropagate.

``state_dict()`` refers to parameters by their position (0, 1, ... across all groups, in order),
as PyTorch does, and holds only plain arrays and numbers, so `minigrad.save` can store it.
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd import bump_version, enable_grad
from minigrad.tensor import Tensor


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``state_dict``/``load_state_dict``.

    ``params`` is an iterable of parameters, or of dicts defining parameter groups, e.g.
    ``[{"params": weights}, {"params": biases, "weight_decay": 0.0}]``.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}  # parameter -> dict of its state (tensors hash by identity)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor | set):
            what = "a single Tensor (wrap it in a list)" if isinstance(params, Tensor) else "a set"
            raise TypeError(
                f"{type(self).__name__}: params must be an ordered iterable of parameters or of "
                f"dicts, not {what}"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own options (e.g. when unfreezing layers)."""
        if not isinstance(group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(group).__name__}")
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters must be an ordered collection, not a set")
        params = list(params or ())
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one produced by an op)")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear more than once in the parameter groups")
        group = {**self.defaults, **group, "params": params}
        self._check_options(group)
        self.param_groups.append(group)

    def _check_options(self, group: dict) -> None:
        """Reject invalid option values (subclasses extend this)."""
        for name in ("lr", "weight_decay"):
            if name in group and not group[name] >= 0:
                raise ValueError(f"{type(self).__name__}: invalid {name} {group[name]} (need >= 0)")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: to None (the default, as PyTorch) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data = np.zeros_like(p.data)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    param, grad = _arrays(p)
                    self._update(p, param, grad, group)
                    bump_version(p)  # a graph recorded before the step must not use it
        return loss

    def _update(self, p: Tensor, param: np.ndarray, grad: np.ndarray, group: dict) -> None:
        """Update one parameter's array in place from its gradient (the subclass's rule)."""
        raise NotImplementedError

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: array or number}}, "param_groups": [options + "params":
        [indices]]}``; arrays are copies, so later steps do not change a saved state dict."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _copy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _copy(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and per-parameter state saved by ``state_dict()``.

        The groups must have the same sizes as this optimizer's; state arrays are copied and
        cast to their parameter's dtype.
        """
        name = type(self).__name__
        try:
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'"
            ) from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        by_index = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                    f"parameters in the state dict, {len(group['params'])} in the optimizer"
                )
            by_index.update(zip(saved["params"], group["params"], strict=True))
        state = {}
        for key, values in saved_state.items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {key}")
            state[p] = {k: _restore(v, p, f"state[{key}][{k!r}]", name) for k, v in values.items()}
        self.state = state
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            options = {k: v for k, v in saved.items() if k != "params"}
            for k, default in self.defaults.items():
                if isinstance(default, tuple) and k in options:
                    options[k] = tuple(options[k])
            group.update({**self.defaults, **options, "params": group["params"]})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _arrays(p: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The parameter's array (made C-contiguous and writable so kernels can update it in place)
    and its gradient as a C-contiguous array of the same dtype."""
    if not (p.data.flags.c_contiguous and p.data.flags.writeable):
        p.data = np.array(p.data, order="C")
    grad = p.grad.data
    if grad.shape != p.data.shape:
        label = f" '{p.name}'" if p.name else ""
        raise ValueError(
            f"gradient of shape {grad.shape} does not match parameter{label} of shape "
            f"{p.data.shape}"
        )
    return p.data, np.ascontiguousarray(grad, dtype=p.data.dtype)


def _copy(value):
    """A copy of an array or a list/tuple; numbers and strings as they are."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list | tuple):
        return type(value)(value)
    return value


def _restore(value, p: Tensor, where: str, name: str):
    """A saved state entry as this optimizer uses it: arrays shaped like ``p`` become copies in
    ``p``'s dtype; 0-d arrays become numbers."""
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        return value
    if value.ndim == 0:
        return value.item()
    if value.shape != p.data.shape:
        raise ValueError(
            f"{name}.load_state_dict: {where} has shape {value.shape}, its parameter {p.data.shape}"
        )
    return np.array(value, dtype=p.data.dtype, order="C")
