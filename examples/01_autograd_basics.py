"""Autograd basics: build a small expression, backpropagate, and check it by finite differences.

    python examples/01_autograd_basics.py

This is the worked example of docs/autograd.md: every number it prints is explained there.
"""

import numpy as np

import minigrad


def main() -> None:
    # A neuron: out = tanh(w . x + b)
    x = minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float64)
    w = minigrad.tensor([0.5, -1.0, 0.25], dtype=minigrad.float64, requires_grad=True)
    b = minigrad.tensor(0.5, dtype=minigrad.float64, requires_grad=True)

    z = (w * x).sum() + b  # 0.5 - 2 + 0.75 + 0.5 = -0.25
    out = z.tanh()
    print(f"z = {z.item():.6f}, out = tanh(z) = {out.item():.6f}")
    print("graph:", out.grad_fn, "<-", out.grad_fn.parents[0].grad_fn)

    out.backward()
    # d out / d z = 1 - tanh(z)^2; d z / d w = x; d z / d b = 1
    dz = 1 - out.item() ** 2
    print(f"d out/d z = 1 - out^2 = {dz:.6f}")
    print("w.grad =", w.grad.numpy(), "(= dz * x =", dz * x.numpy(), ")")
    print(f"b.grad = {b.grad.item():.6f}")

    # The same gradients by central finite differences, as minigrad.gradcheck does.
    def f(w_values):
        return np.tanh((w_values * x.numpy()).sum() + b.item())

    eps = 1e-6
    numeric = [
        (f(w.numpy() + eps * np.eye(3)[i]) - f(w.numpy() - eps * np.eye(3)[i])) / (2 * eps)
        for i in range(3)
    ]
    print("finite differences:", np.round(numeric, 6))
    w.grad = b.grad = None
    ok = minigrad.gradcheck(lambda w_, b_: ((w_ * x).sum() + b_).tanh(), [w, b])
    print("minigrad.gradcheck:", ok)


if __name__ == "__main__":
    main()
