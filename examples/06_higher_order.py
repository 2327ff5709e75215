"""Gradients of gradients: a Hessian-vector product, a gradient penalty, Newton's method and the
third derivative of a scalar function, with `minigrad.autograd.grad(..., create_graph=True)`.

    python examples/06_higher_order.py [--steps N]

create_graph=True records the backward pass itself as a graph (docs/autograd.md, "Higher-order
gradients"), so its results can be differentiated again.
"""

import argparse

import numpy as np

import minigrad
from minigrad import autograd


def third_derivative():
    """f(x) = x^4 + e^x, differentiated three times at x = 1 (exactly 24 x + e^x = 26.718282)."""
    x = minigrad.tensor(1.0, dtype=minigrad.float64, requires_grad=True)
    f = x**4 + x.exp()
    (d1,) = autograd.grad(f, x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    print(f"third derivative of x^4 + e^x at 1: {d3.item():.6f} (exact {24 + np.e:.6f})")


def hessian_vector_product():
    """H v without forming H: the gradient of <grad f(x), v>. For f = sum(x_i^2 x_{i+1}) the
    Hessian is known, so the product is checked against it."""
    x = minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    v = minigrad.tensor([1.0, 0.0, -1.0], dtype=minigrad.float64)
    f = (x[:-1] ** 2 * x[1:]).sum()
    (g,) = autograd.grad(f, x, create_graph=True)
    (hv,) = autograd.grad((g * v).sum(), x)
    a = x.numpy()
    hessian = np.array([[2 * a[1], 2 * a[0], 0], [2 * a[0], 2 * a[2], 2 * a[1]], [0, 2 * a[1], 0]])
    print("Hessian-vector product:", hv.numpy(), "(explicit H @ v:", hessian @ v.numpy(), ")")


def newton(steps):
    """Newton's method x <- x - f'(x) / f''(x) on f(x) = x^4 - 3x^2 + x, from x = 2."""
    x = minigrad.tensor(2.0, dtype=minigrad.float64, requires_grad=True)
    for _ in range(steps):
        f = x**4 - 3 * x**2 + x
        (d1,) = autograd.grad(f, x, create_graph=True)
        (d2,) = autograd.grad(d1, x)
        with minigrad.no_grad():
            x -= d1 / d2
    print(f"Newton: x = {x.item():.10f}, f'(x) = {4 * x.item() ** 3 - 6 * x.item() + 1:.2e}")


def gradient_penalty(steps):
    """Train a small model with loss + lambda * ||d loss / d input||^2 (a gradient penalty, as in
    WGAN-GP or input-gradient regularisation): the penalty's gradient is a second derivative."""
    minigrad.manual_seed(0)
    model = minigrad.nn.Sequential(
        minigrad.nn.Linear(2, 8), minigrad.nn.Tanh(), minigrad.nn.Linear(8, 1)
    )
    optimizer = minigrad.optim.Adam(model.parameters(), lr=0.05)
    x = minigrad.randn(16, 2)
    y = (x[:, :1] * 2 - x[:, 1:]).tanh()
    for step in range(steps):
        inputs = x.clone().requires_grad_()
        loss = minigrad.nn.MSELoss()(model(inputs), y)
        (input_grad,) = autograd.grad(loss, inputs, create_graph=True)
        penalty = (input_grad * input_grad).sum()
        total = loss + 10.0 * penalty
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        if step in (0, steps - 1):
            print(f"gradient penalty: step {step}: loss {loss:.4f}, penalty {penalty:.6f}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Hessian-vector product, third derivative, Newton's method, gradient penalty."
    )
    parser.add_argument("--steps", type=int, default=100, help="gradient-penalty steps")
    args = parser.parse_args(argv)
    third_derivative()
    hessian_vector_product()
    newton(steps=8)
    gradient_penalty(args.steps)


if __name__ == "__main__":
    main()
