"""Learning-rate schedules, shaped like ``torch.optim.lr_scheduler``.

A scheduler sets ``optimizer.param_groups[i]["lr"]`` from the group's initial lr (``base_lr``)
and a step counter ``last_epoch``. Creating it sets the lr for the first optimizer step
(``last_epoch = 0``); call ``scheduler.step()`` after each ``optimizer.step()``, as in PyTorch::

    for batch in data:
        loss = ...; loss.backward()
        optimizer.step(); optimizer.zero_grad()
        scheduler.step()

Every schedule here is a closed-form function of ``last_epoch`` (PyTorch computes some of them
recursively from the current lr; the values agree unless something else also changes the lr).
For the warmup schedules, ``k = last_epoch + 1`` is the number of the optimizer step the lr is
used for (1, 2, ...).
"""

from __future__ import annotations

import math

from minigrad.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``lr_at(base_lr, last_epoch)``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer"
            )
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in g for g in optimizer.param_groups):
            raise KeyError(
                f"{type(self).__name__}: resuming with last_epoch={last_epoch} needs "
                "'initial_lr' in every parameter group (load the optimizer's state dict first)"
            )
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The lr of a group whose initial lr is ``base_lr`` at step ``epoch``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The lrs of all groups at the current ``last_epoch``."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        """Advance one step and write the new lrs into the optimizer's groups."""
        self.last_epoch += 1
        self._last_lr = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        """The lrs set by the last ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (and functions), as plain numbers and lists."""
        return {
            k: list(v) if isinstance(v, list) else v
            for k, v in vars(self).items()
            if k not in ("optimizer", "lr_lambdas")
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by ``state_dict()`` and write the saved lrs back into the
        optimizer's groups (PyTorch leaves that to the optimizer's state dict; doing it here
        too makes the order of the two loads irrelevant)."""
        unknown = set(state_dict) - set(self.state_dict())
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: unknown keys {sorted(unknown)}"
            )
        self.__dict__.update(state_dict)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(last_epoch); one function, or a list with one per group.

    The functions are not part of ``state_dict()``: pass the same ones when resuming.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas, got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base * fn(self.last_epoch)
            for base, fn in zip(self.base_lrs, self.lr_lambdas, strict=True)
        ]


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (last_epoch // step_size): decay by gamma every step_size steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch=-1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch=-1):  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


class WarmupCosineLR(LRScheduler):
    """Linear warmup to base_lr, then cosine decay to ``min_lr`` at ``total_steps``.

    With k = last_epoch + 1 (the optimizer step the lr is for):
    k <= warmup_steps: lr = base_lr * k / warmup_steps;
    later: lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2 with
    p = min(1, (k - warmup_steps) / (total_steps - warmup_steps)); so lr = min_lr from
    ``total_steps`` on.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        min_lr: float = 0.0,
        last_epoch: int = -1,
    ):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"WarmupCosineLR: need 0 <= warmup_steps < total_steps, got {warmup_steps} "
                f"and {total_steps}"
            )
        self.warmup_steps, self.total_steps, self.min_lr = warmup_steps, total_steps, min_lr
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        k = epoch + 1
        if k <= self.warmup_steps:
            return base_lr * k / self.warmup_steps
        progress = min(1.0, (k - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2


class NoamLR(LRScheduler):
    """The Transformer paper's schedule (Vaswani et al., 2017, section 5.3), with k = last_epoch+1:

        lr = factor * d_model^-0.5 * min(k^-0.5, k * warmup^-1.5)

    a linear rise for ``warmup`` steps, then decay as 1/sqrt(k). It sets the lr itself: the
    optimizer's initial lr is not used.
    """

    def __init__(
        self, optimizer: Optimizer, d_model: int, warmup: int, factor: float = 1.0, last_epoch=-1
    ):
        if d_model < 1 or warmup < 1:
            raise ValueError(f"NoamLR: need d_model >= 1 and warmup >= 1, got {d_model}, {warmup}")
        self.d_model, self.warmup, self.factor = d_model, warmup, factor
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        k = epoch + 1
        return self.factor * self.d_model**-0.5 * min(k**-0.5, k * self.warmup**-1.5)


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a metric has stopped improving for ``patience`` calls
    of ``step(metric)`` (``torch.optim.lr_scheduler.ReduceLROnPlateau``; not a closed-form
    schedule, so not an `LRScheduler`).

    ``mode="min"``: lower is better. An improvement must beat the best by ``threshold``
    (relative: best * (1 - threshold); absolute with ``threshold_mode="abs"``). After a cut,
    ``cooldown`` calls pass before counting again; no lr goes below ``min_lr``, and a cut smaller
    than ``eps`` is skipped.
    """

    def __init__(self, optimizer: Optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):  # fmt: skip
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor should be < 1.0")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: unknown mode {mode!r} or {threshold_mode!r}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown = threshold, threshold_mode, cooldown
        groups = optimizer.param_groups
        self.min_lrs = list(min_lr) if isinstance(min_lr, list | tuple) else [min_lr] * len(groups)
        self.eps = eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [g["lr"] for g in groups]

    def _is_better(self, value: float) -> bool:
        """PyTorch's test: min/rel ``value < best * (1 - threshold)``, min/abs ``value < best -
        threshold``, and the mirror images for max."""
        t = self.threshold
        if self.mode == "min":
            return value < (self.best * (1 - t) if self.threshold_mode == "rel" else self.best - t)
        return value > (self.best * (1 + t) if self.threshold_mode == "rel" else self.best + t)

    def step(self, metrics) -> None:
        """Record one value of the metric (a number or a one-element tensor)."""
        value = float(metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs after the last ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Every attribute except the optimizer."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by ``state_dict()``."""
        self.__dict__.update(state_dict)
