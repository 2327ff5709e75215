"""Train a small MLP on two interleaved spirals with ``nn.Module`` + ``optim.Adam``, with
checkpoints and resume.

    python examples/02_mlp.py                  # train from scratch, a few seconds on one core
    python examples/02_mlp.py --steps 800 --resume   # continue the saved run to step 800
    python examples/02_mlp.py --out /tmp/mlp --steps 200

Every ``--save-every`` steps (and at the end) the model, optimizer and step are written to
``OUT/checkpoint.npz`` with `minigrad.save` (numpy arrays + JSON, never pickle, written
atomically). Training is full-batch and deterministic, so a resumed run reaches exactly the
numbers an uninterrupted run would.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.nn import functional as F


def two_spirals(points_per_class: int, seed: int, turns: float = 2.5, noise: float = 0.03):
    """Two interleaved spiral arms (class 0, and its point reflection: class 1) in the unit
    disc, with Gaussian noise. Neighbouring arms are 1 / (2 * turns) apart."""
    rng = np.random.default_rng(seed)
    angle = np.sqrt(rng.uniform(0.05, 1.0, points_per_class)) * turns * 2 * np.pi
    radius = angle / (turns * 2 * np.pi)
    arm = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x = np.concatenate([arm, -arm]) + rng.normal(0.0, noise, (2 * points_per_class, 2))
    y = np.repeat(np.arange(2), points_per_class)
    return minigrad.tensor(x.astype(np.float32)), y


class MLP(nn.Module):
    """2 -> hidden -> hidden -> 2 with ReLU: the logits of the two classes."""

    def __init__(self, hidden: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(2, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2),
        )  # fmt: skip

    def forward(self, x):
        return self.layers(x)


def accuracy(model: nn.Module, x, y) -> float:
    """Fraction of points whose highest logit is their class."""
    with minigrad.no_grad():
        return float((model(x).argmax(dim=1).numpy() == y).mean())


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500, help="train until this step")
    parser.add_argument("--out", type=Path, default=Path("runs/02_mlp"), help="checkpoint dir")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    parser.add_argument("--hidden", type=int, default=64, help="hidden layer width")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    parser.add_argument("--points", type=int, default=400, help="training points per class")
    parser.add_argument("--save-every", type=int, default=250, help="checkpoint interval")
    parser.add_argument("--seed", type=int, default=0, help="seed of data and initialisation")
    return parser.parse_args(argv)


def main(argv=None) -> float:
    """Train (or resume), print progress and the test accuracy, and return it."""
    args = parse_args(argv)
    minigrad.manual_seed(args.seed)
    x_train, y_train = two_spirals(args.points, seed=args.seed)
    x_test, y_test = two_spirals(1000, seed=args.seed + 1)
    model = MLP(args.hidden)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    checkpoint = args.out / "checkpoint.npz"

    step = 0
    if args.resume:
        state = minigrad.load(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"resumed from {checkpoint} at step {step}")
    print(f"{model}\n{model.num_parameters()} parameters, training to step {args.steps}")

    def save():
        args.out.mkdir(parents=True, exist_ok=True)
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}
        minigrad.save(state, checkpoint)

    start = time.perf_counter()
    while step < args.steps:
        loss = F.cross_entropy(model(x_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % 100 == 0 or step == args.steps:
            train_acc = accuracy(model, x_train, y_train)
            print(f"step {step:5d}  loss {loss.item():.6f}  train acc {train_acc:.3f}")
        if step % args.save_every == 0 or step == args.steps:
            save()

    test_acc = accuracy(model, x_test, y_test)
    print(f"test accuracy {test_acc:.3f} ({time.perf_counter() - start:.1f} s); saved {checkpoint}")
    return test_acc


if __name__ == "__main__":
    main()
