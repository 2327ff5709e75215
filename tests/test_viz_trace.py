"""minigrad.viz tracing: graph structure, per-node/edge gradients, residual blocks.

Also home of the small models the other viz tests share (`ResidualMLP`, `traced_mlp`).
"""

import weakref

import numpy as np
import pytest
from helpers import gamma

import minigrad
import minigrad.nn as nn
from minigrad import autograd, viz


class Block(nn.Module):
    """norm(x + fc2(relu(fc1(x)))): a post-norm residual block."""

    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2, self.norm = nn.Linear(d, 2 * d), nn.Linear(2 * d, d), nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(x + self.fc2(self.fc1(x).relu()))


class ResidualMLP(nn.Module):
    """inp -> n residual blocks -> out."""

    def __init__(self, d=8, n=3):
        super().__init__()
        self.inp = nn.Linear(3, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(n)])
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = block(h)
        return self.out(h)


def traced_mlp(n=3, **kwargs):
    """A seeded ResidualMLP, its loss traced with gradients."""
    minigrad.manual_seed(0)
    model = ResidualMLP(n=n)
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    loss = (model(x) ** 2).mean()
    return model, viz.trace_backward(loss, model=model, **kwargs)


def micrograd_expression():
    """L = (a*b + c) * f, Karpathy's micrograd example."""
    a, b, c, f = (minigrad.tensor(v, requires_grad=True) for v in (2.0, -3.0, 10.0, -2.0))
    return (a, b, c, f), (a * b + c) * f


def test_micrograd_expression_nodes_edges_and_gradients():
    (a, b, c, f), loss = micrograd_expression()
    tr = viz.trace_backward(loss)
    assert (tr.count(), tr.count("op"), tr.count("input"), len(tr.edges)) == (7, 3, 4, 6)
    assert [n.op for n in tr.nodes.values() if n.kind == "op"] == ["Mul", "Add", "Mul"]
    assert tr.root == max(tr.nodes) and tr.nodes[tr.root].grad.norm == 1.0
    add = tr.find(op="Add")[0]
    assert add.grad.norm == pytest.approx(2.0)  # dL/d(a*b+c) = |f|
    leaf_grads = {n.id: n.grad.norm for n in tr.nodes.values() if n.kind == "input"}
    assert sorted(leaf_grads.values()) == pytest.approx(
        sorted(abs(t.grad.item()) for t in (a, b, c, f))
    )


def test_parameter_nodes_are_named_and_gradients_match_backward():
    model, tr = traced_mlp()
    for name, p in model.named_parameters():
        (node,) = tr.find(name=name)
        assert node.kind == "param" and node.shape == p.shape
        # The traced gradient is the float64 one (the input is float64) before .grad stores it
        # in the parameter's float32: each entry one float32 rounding apart, so the norms are
        # within u32; both summed in float64 (a float32 norm of 128 entries: up to 8e-6 off).
        expected = np.linalg.norm(p.grad.data.astype(np.float64))
        rel = gamma(1, np.float32) + 2 * gamma(p.data.size + 1, np.float64)
        assert node.grad.norm == pytest.approx(expected, rel=rel)
    assert "blocks.1.fc2" in tr.clusters() and tr.find(op="Linear", module="blocks.1.fc2")


def test_edge_gradients_add_up_to_node_gradient():
    x = minigrad.tensor(np.arange(1.0, 5.0), requires_grad=True)
    h = x.exp()
    h.retain_grad()
    loss = (h * h).sum() + h.sum()
    tr = viz.trace_backward(loss)
    (exp,) = tr.find(op="Exp")
    outgoing = [e for e in tr.edges if e.src == exp.id]
    assert len(outgoing) == 3  # h*h (twice) and h.sum()
    assert exp.grad.norm == pytest.approx(np.linalg.norm(h.grad.data))
    first = tr.edge(exp.id, tr.find(op="Mul")[0].id)
    assert first.grad.norm == pytest.approx(np.linalg.norm(h.data))  # d(h*h)/dh per slot = h


def test_grad_stats_flag_zeros_and_nonfinite():
    stats = viz.GradStats.of(np.array([0.0, 3.0, -4.0, 0.0]))
    assert (stats.norm, stats.max_abs, stats.zero_fraction, stats.nonfinite) == (
        5.0,
        4.0,
        0.5,
        False,
    )
    x = minigrad.tensor([-1.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        tr = viz.trace_backward(x.sqrt().sum())
    assert tr.nodes[0].grad.nonfinite and "NaN" in str(tr.nodes[0].grad)


def _structure(tr):
    nodes = [(n.kind, n.op, n.shape, n.dtype, n.module, n.name) for n in tr.nodes.values()]
    return nodes, [(e.src, e.dst, e.slot, e.residual) for e in tr.edges]


def test_trace_and_draw_after_a_plain_backward_as_torchviz_users_do():
    minigrad.manual_seed(0)
    model = ResidualMLP(n=2)
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    loss = (model(x) ** 2).mean()
    before = viz.trace(loss, model=model)
    loss.backward()
    after = viz.trace(loss, model=model)
    assert _structure(after) == _structure(before)  # ops, shapes, module paths, edges
    assert len(after.residuals) == 2
    params = [n for n in after.nodes.values() if n.kind == "param"]
    assert params and all(n.grad is not None for n in params)  # the gradients that were kept
    source = viz.draw(loss, model=model, max_nodes=None, show_constants=True).source
    assert "inp.weight" in source and "Relu" in source and "|g|" in source
    with pytest.raises(RuntimeError, match="trace_backward"):  # edge gradients need a graph
        viz.trace_backward(loss)
    with pytest.raises(TypeError, match="Tensor"):
        viz.trace(np.ones(3))


def test_a_freed_graph_keeps_names_and_values_of_named_tensors():
    (a, b, c, f), _ = micrograd_expression()
    e = a * b
    d = e + c
    loss = d * f
    loss.backward()
    tr = viz.trace(loss, names={"a": a, "e": e, "d": d, "L": loss})
    assert {n.name: n.value for n in tr.nodes.values() if n.name} == {
        "a": 2.0, "e": -6.0, "d": 4.0, "L": -8.0
    }  # fmt: skip
    assert tr.find(name="a")[0].grad.value == 6.0


def test_a_freed_graph_holds_no_activations():
    x = minigrad.tensor(np.ones((50, 50)), requires_grad=True)
    hidden = (x * 2).exp()
    probe = weakref.ref(hidden)
    loss = (hidden * minigrad.tensor(np.ones((50, 50)))).sum()
    loss.backward()
    del hidden
    assert probe() is None  # the loss keeps the outline of the graph, not its arrays
    shapes = [n.shape for n in viz.trace(loss).nodes.values()]
    assert shapes.count((50, 50)) == 5  # x, x * 2, exp, the constant, the product


def test_trace_backward_leaves_no_instrumentation_and_frees_like_backward():
    _, loss = micrograd_expression()
    viz.trace_backward(loss, retain_graph=True)
    assert "backward" not in vars(loss._ctx) and not loss._ctx.freed
    viz.trace_backward(loss)
    assert loss._ctx.freed and vars(loss._ctx) == {"freed": True}


def test_trace_backward_observes_the_pass_and_patches_no_backward():
    _, loss = micrograd_expression()
    ops = {type(t._ctx) for t in autograd.topological_order(loss) if t._ctx is not None}
    originals = {op: op.backward for op in ops}
    seen = []

    def spy(fn, grad, input_grads):  # runs next to viz's own observer, during the pass
        assert "backward" not in vars(fn) and type(fn).backward is originals[type(fn)]
        seen.append(type(fn).__name__)

    with autograd.observe(spy):
        viz.trace_backward(loss)
    assert seen == ["Mul", "Add", "Mul"]


def test_constants_are_traced_but_hidden_by_default():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    tr = viz.trace(x * 3.0)
    assert tr.count("constant") == 1 and viz.view(tr).count("constant") == 0
    assert viz.view(tr, show_constants=True).count("constant") == 1


def test_residual_blocks_found_with_skip_and_sublayer_gradients():
    model, tr = traced_mlp()
    assert [b.name for b in tr.residuals] == [f"blocks.{i} / fc1" for i in range(3)]
    skips = [e for e in tr.edges if e.residual]
    assert len(skips) == 3 and all(tr.nodes[e.dst].op == "Add" for e in skips)
    # Check block 1 against gradients computed directly: skip = grad of the Add's output,
    # sublayer = (grad at the block input) - skip.
    minigrad.manual_seed(0)
    model = ResidualMLP()
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    seen = {}
    block = model.blocks[1]
    original = block.forward

    def forward(h):
        h.retain_grad()
        s = h + block.fc2(block.fc1(h).relu())
        s.retain_grad()
        seen.update(h=h, s=s)
        return block.norm(s)

    object.__setattr__(block, "forward", forward)
    (model(x) ** 2).mean().backward()
    object.__setattr__(block, "forward", original)
    skip, sub = seen["s"].grad.data, seen["h"].grad.data - seen["s"].grad.data
    b = tr.residuals[1]
    assert b.skip_grad.norm == pytest.approx(np.linalg.norm(skip), rel=1e-5)
    assert b.sublayer_grad.norm == pytest.approx(np.linalg.norm(sub), rel=1e-4)
    assert b.ratio == pytest.approx(np.linalg.norm(sub) / np.linalg.norm(skip), rel=1e-4)
    assert "blocks.1 / fc1" in viz.residual_report(tr)


def test_plain_reuse_is_not_a_residual_block():
    (a, b, *_), _ = micrograd_expression()
    assert viz.trace(a * b + a).residuals == []


@pytest.mark.parametrize("norm_first", [False, True])
def test_residuals_detected_in_transformer_encoder_layer(norm_first):
    layers = pytest.importorskip("transformer.model.layers")

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            config = layers.TransformerConfig(
                d_model=16, num_heads=2, d_ff=32, dropout=0.0, norm_first=norm_first
            )
            self.layer = layers.EncoderLayer(config)

        def forward(self, x):
            return self.layer(x)

    model = Wrapper()
    rng = np.random.default_rng(1)
    x = minigrad.tensor(rng.standard_normal((1, 4, 16)), requires_grad=True)
    # not model(x).sum(): a sum of layer-norm outputs is constant, so its gradient is ~0
    probe = minigrad.tensor(rng.standard_normal((1, 4, 16)))
    tr = viz.trace_backward((model(x) * probe).sum(), model=model)
    assert [b.name for b in tr.residuals] == ["layer / self_attn", "layer / feed_forward"]
    assert all(b.skip_grad.norm > 0 and b.sublayer_grad.norm > 0 for b in tr.residuals)
