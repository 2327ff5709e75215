"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

PyTorch's documented rule, per parameter p with gradient g (t counts steps from 1):

    g <- g + weight_decay * p
    b <- g                                       at t = 1
    b <- momentum * b + (1 - dampening) * g      after
    g <- g + momentum * b  (nesterov)   or   g <- b
    p <- p - lr * g

The whole update is one fused kernel, ``minigrad.kernels.sgd_step``.
"""

import numpy as np

from minigrad import kernels
from minigrad.optim.optimizer import Optimizer


class SGD(Optimizer):
    """SGD, optionally with (Nesterov) momentum and L2 weight decay, as ``torch.optim.SGD``."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        super().__init__(params, defaults)

    def _check_options(self, group: dict) -> None:
        super()._check_options(group)
        if not group["momentum"] >= 0:
            raise ValueError(f"SGD: invalid momentum {group['momentum']} (need >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def _update(self, p, param, grad, group) -> None:
        state = self.state.get(p)
        first_step = state is None  # no momentum buffer yet: it starts as a copy of g
        if first_step and group["momentum"] != 0:
            state = self.state[p] = {"momentum_buffer": np.zeros_like(param)}
        kernels.sgd_step(
            param,
            grad,
            state["momentum_buffer"] if state else None,
            group["lr"],
            group["momentum"],
            group["dampening"],
            group["weight_decay"],
            group["nesterov"],
            first_step,
        )
