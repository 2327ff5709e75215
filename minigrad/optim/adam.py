"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019), PyTorch's documented rule.

Per parameter p with gradient g, step t counting from 1:

    g <- g + weight_decay * p              (Adam: L2 penalty folded into the gradient)
    p <- p * (1 - lr * weight_decay)       (AdamW: decoupled weight decay, instead)
    m <- beta1 * m + (1 - beta1) * g
    v <- beta2 * v + (1 - beta2) * g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

The whole update is one fused kernel, ``minigrad.kernels.adam_step``; the state per parameter
is ``step`` (an int), ``exp_avg`` (m) and ``exp_avg_sq`` (v).
"""

import numpy as np

from minigrad import kernels
from minigrad.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam with optional L2 weight decay (added to the gradient), as ``torch.optim.Adam``."""

    decoupled = False

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, group: dict) -> None:
        super()._check_options(group)
        group["betas"] = tuple(group["betas"])
        if len(group["betas"]) != 2 or not all(0 <= b < 1 for b in group["betas"]):
            raise ValueError(f"{type(self).__name__}: invalid betas {group['betas']}")
        if not group["eps"] >= 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {group['eps']} (need >= 0)")

    def _update(self, p, param, grad, group) -> None:
        state = self.state.get(p)
        if not state:
            state = self.state[p] = {
                "step": 0,
                "exp_avg": np.zeros_like(param),
                "exp_avg_sq": np.zeros_like(param),
            }
        state["step"] += 1
        beta1, beta2 = group["betas"]
        kernels.adam_step(
            param,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state["step"],
            group["lr"],
            beta1,
            beta2,
            group["eps"],
            group["weight_decay"],
            self.decoupled,
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01), as ``torch.optim.AdamW``."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
