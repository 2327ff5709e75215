"""Memory stays flat over 1,000 training steps: nothing keeps a freed graph alive.

tracemalloc counts every allocation made through Python's and numpy's allocators, so a graph (or
any array) retained per step shows up as steady growth. A control run that deliberately keeps
each step's graph proves the measurement would catch a leak.
"""

import gc
import tracemalloc
import weakref

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.nn import functional as F

RNG = np.random.default_rng(0)
X = minigrad.tensor(RNG.standard_normal((64, 8)).astype(np.float32))
Y = RNG.integers(0, 3, 64)


def _model_and_optimizer():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.LayerNorm(32), nn.Linear(32, 3))
    return model, optim.Adam(model.parameters(), lr=1e-3)


def _step(model, opt, kept=None):
    loss = F.cross_entropy(model(X), Y)
    opt.zero_grad()
    loss.backward(retain_graph=kept is not None)
    opt.step()
    if kept is not None:
        kept.append(loss)


def _growth_in_bytes(steps: int, keep_graphs: bool = False) -> int:
    """Traced memory after ``steps`` training steps minus before (after a warm-up)."""
    model, opt = _model_and_optimizer()
    kept = [] if keep_graphs else None
    for _ in range(20):  # optimizer state, kernel compilation, caches
        _step(model, opt)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            _step(model, opt, kept)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_memory_is_flat_over_1000_training_steps():
    growth = _growth_in_bytes(1000)
    # numpy's small internal caches settle at ~30 kB; keeping even one small array per step
    # (~400 bytes with its header) would add ~400 kB, and one graph per step megabytes.
    assert growth < 256_000, f"memory grew by {growth / 1e3:.0f} kB over 1000 steps"


def test_the_measurement_catches_retained_graphs():
    growth = _growth_in_bytes(50, keep_graphs=True)
    assert growth > 1_000_000, f"a leak of 50 graphs measured only {growth / 1e3:.0f} kB"


def test_a_step_frees_its_graph_without_the_cycle_collector():
    model, opt = _model_and_optimizer()
    gc.disable()
    try:
        hidden = model[1](model[0](X))
        probe = weakref.ref(hidden)
        node = weakref.ref(hidden._ctx)
        loss = F.cross_entropy(model[3](model[2](hidden)), Y)
        loss.backward()
        opt.step()
        del hidden, loss
        assert probe() is None and node() is None  # freed by reference counting alone
    finally:
        gc.enable()
