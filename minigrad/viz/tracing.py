"""`trace` and `trace_backward`: read a recorded graph into a `Trace` (it never changes it).

Two ways to get gradients into the picture:

* ``tr = viz.trace_backward(loss)`` in place of ``loss.backward()``: it traces the graph, runs the
  ordinary backward pass (parameters get ``.grad`` exactly as usual, so an optimizer step can
  follow) and records the gradient of every node and every edge on the way.
* ``tr = viz.trace(loss)`` before, after or without backward: the structure; leaves, and
  tensors that called ``retain_grad()``, show the ``.grad`` they hold at trace time. After a
  plain ``loss.backward()`` the graph is freed but keeps its outline (ops, shapes, module paths,
  edges; see `autograd.TensorOutline`), so it can still be drawn, as torchviz users do; only the
  per-edge gradients need `trace_backward`.
"""

from __future__ import annotations

from minigrad import autograd
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor
from minigrad.viz.graph import CONSTANT, INPUT, OP, PARAM, Edge, Node, Trace
from minigrad.viz.residual import find_residuals
from minigrad.viz.stats import GradStats

_FREED = (
    "trace_backward(): the graph behind this tensor was freed by backward(); call "
    "minigrad.viz.trace_backward(loss) instead of loss.backward() (it traces, then runs "
    "backward), or backward(retain_graph=True) first"
)
key = autograd.node_key


def _walk(root: Tensor, freed_ok: bool = True) -> list:
    """Every tensor of the graph behind ``root``, constants included, each after its inputs
    (outlines of tensors where backward freed the graph)."""
    try:
        return autograd.topological_order(root, every_input=True, freed_ok=freed_ok)
    except autograd.GraphFreedError:
        raise RuntimeError(_FREED) from None


def _value(tensor) -> float | None:
    """The value of a one-element tensor (None for larger ones and outlines)."""
    if isinstance(tensor, autograd.TensorOutline):
        return None
    return float(tensor.data.reshape(-1)[0]) if tensor.data.size == 1 else None


def _node(i: int, tensor, name: str | None) -> Node:
    fn = tensor._ctx
    grad = GradStats.of(tensor.grad.data) if tensor.grad is not None else None
    value = _value(tensor)
    common = dict(shape=tuple(tensor.shape), dtype=str(tensor.dtype), grad=grad, value=value)
    if fn is not None:
        return Node(i, OP, type(fn).__name__, module=fn.scope, name=name, **common)
    if isinstance(tensor, Parameter):
        return Node(i, PARAM, "Parameter", name=name or tensor.name, ops=0, **common)
    kind = INPUT if tensor.requires_grad else CONSTANT
    return Node(i, kind, kind.capitalize(), name=name, ops=0, **common)


def _labels(names) -> dict[int, tuple[str, Tensor]]:
    """id(node key) -> (label, tensor) from ``names`` ({"a": tensor_a, ...})."""
    if names is None:
        return {}
    if not isinstance(names, dict) or not all(isinstance(t, Tensor) for t in names.values()):
        raise TypeError("names must be a dict {label: Tensor}, e.g. names={'x': x}")
    return {id(key(t)): (label, t) for label, t in names.items()}


def _module_types(model) -> dict[str, str]:
    if model is None:
        return {}
    return {path or type(m).__name__: type(m).__name__ for path, m in model.named_modules()}


def _build(tensors: list, model, labels: dict[int, tuple[str, Tensor]]) -> Trace:
    ids = {id(key(t)): i for i, t in enumerate(tensors)}
    nodes = {}
    for i, t in enumerate(tensors):
        label, named = labels.get(id(key(t)), (None, t))
        nodes[i] = _node(i, named, label)  # a named tensor still holds what its outline lost
    edges = [
        Edge(ids[id(key(p))], i, slot)
        for i, t in enumerate(tensors)
        if t._ctx is not None
        for slot, p in enumerate(t._ctx.parents)
    ]
    trace = Trace(nodes, edges, root=len(tensors) - 1, module_types=_module_types(model))
    trace.traced_ops = trace.count(OP)
    trace.residuals = find_residuals(trace)
    skips = {(b.skip, b.add) for b in trace.residuals}
    for e in edges:
        e.residual = (e.src, e.dst) in skips
    return trace


def trace(tensor: Tensor, model=None, names=None) -> Trace:
    """The graph behind ``tensor`` as a `Trace` (structure, plus any ``.grad`` already held).

    ``model`` (optional, the root nn.Module) lets collapsed groups show their class names;
    ``names`` ({"x": x, ...}) labels tensors that are not parameters.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"trace(): expected a minigrad Tensor, got {type(tensor).__name__}")
    labels = _labels(names)
    return _build(_walk(tensor), model, labels)


class _Recorder:
    """Observes one backward pass (`autograd.observe`), summarising the gradients that go
    through each node and edge."""

    def __init__(self, trace: Trace, tensors: list[Tensor]):
        self.trace = trace
        self.ids = {id(key(t)): i for i, t in enumerate(tensors)}
        self.nodes = {t._ctx: i for i, t in enumerate(tensors) if t._ctx is not None}
        self.edges = {(e.src, e.dst, e.slot): e for e in trace.edges}
        self.leaf_sums: dict[int, object] = {}
        self.blocks_by_skip: dict[int, list[int]] = {}
        for k, block in enumerate(trace.residuals):
            self.blocks_by_skip.setdefault(block.skip, []).append(k)
        self.sublayer_sums: dict[int, object] = {}

    def __call__(self, fn, grad, input_grads) -> None:
        i = self.nodes[fn]
        self.trace.nodes[i].grad = GradStats.of(grad)
        flows = zip(fn.parents, fn.needs_input_grad, input_grads, strict=False)
        for slot, (parent, needs, g) in enumerate(flows):
            if not needs or g is None:
                continue
            src = self.ids[id(key(parent))]
            self.edges[(src, i, slot)].grad = GradStats.of(g)
            if parent._ctx is None:
                previous = self.leaf_sums.get(src)
                self.leaf_sums[src] = g if previous is None else previous + g
            for k in self.blocks_by_skip.get(src, ()):
                if i in self.trace.residuals[k].sublayer:
                    previous = self.sublayer_sums.get(k)
                    self.sublayer_sums[k] = g if previous is None else previous + g

    def finish(self) -> None:
        for src, total in self.leaf_sums.items():
            self.trace.nodes[src].grad = GradStats.of(total)
        for k, block in enumerate(self.trace.residuals):
            skip = [e.grad for e in self.trace.edges if (e.src, e.dst) == (block.skip, block.add)]
            block.skip_grad = GradStats.combine(skip)
            if k in self.sublayer_sums:
                block.sublayer_grad = GradStats.of(self.sublayer_sums[k])


def trace_backward(loss: Tensor, gradient=None, retain_graph: bool = False, model=None,
                   names=None) -> Trace:  # fmt: skip
    """Trace the graph behind ``loss``, then run ``loss.backward(gradient, retain_graph)``,
    recording the gradient of every node and edge and the skip/sublayer split of every
    residual block. Use it where you would call ``loss.backward()``. ``model`` and ``names``
    as in `trace`.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"trace_backward(): expected a minigrad Tensor, got {type(loss).__name__}")
    labels = _labels(names)
    tensors = _walk(loss, freed_ok=False)
    result = _build(tensors, model, labels)
    recorder = _Recorder(result, tensors)
    with autograd.observe(recorder):
        autograd.backward(loss, gradient, retain_graph)
    recorder.finish()
    return result
