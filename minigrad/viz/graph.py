"""The plain data model of a recorded graph: nodes, edges, residual blocks, module clusters.

`minigrad.viz.trace` fills it from tensors; `minigrad.viz.view` derives collapsed versions of it;
`minigrad.viz.draw` renders any of them. Nothing here refers to live tensors, so a `Trace` stays
valid after ``backward()`` frees the graph, and tests can inspect it without graphviz.

Edges point the way data flows (input -> consumer); gradients flow against them. The gradient
on an edge ``u -> v`` is the part of dL/du that arrives through ``v`` (v's vector-Jacobian
product for that input), so a node's gradient is the sum of the gradients on its outgoing edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from minigrad.viz import paths
from minigrad.viz.stats import GradStats

OP, PARAM, INPUT, CONSTANT, MODULE = "op", "param", "input", "constant", "module"


@dataclass
class Node:
    """One box of the picture.

    ``kind`` is ``op`` (a recorded Function; ``op`` holds its name, e.g. ``MatMul``), ``param``
    (a Parameter leaf; ``name`` is its dotted name), ``input`` (another leaf that requires grad),
    ``constant`` (a leaf without grad) or ``module`` (a collapsed module; ``name`` is its path and
    ``ops``/``params`` count what it hides). ``module`` is the module path the node belongs to.
    ``grad`` summarises the gradient of the node's output (None before backward). Tensors named
    in ``trace(..., names=)`` carry that ``name``; one-element tensors carry their ``value``.
    """

    id: int
    kind: str
    op: str
    shape: tuple = ()
    dtype: str = ""
    module: str | None = None
    name: str | None = None
    grad: GradStats | None = None
    ops: int = 1
    params: int = 0
    value: float | None = None

    @property
    def scope(self) -> str | None:
        """The module path used for clustering and collapsing (a parameter's owner module)."""
        return paths.owner(self.name) if self.kind == PARAM else self.module


@dataclass
class Edge:
    """Data flows ``src -> dst`` (into input ``slot`` of dst); ``grad`` flows back along it.

    ``residual`` marks the skip edge of a residual block. A collapsed view merges parallel
    edges into one; ``count`` is then the number of distinct tensors the bundle carries.
    """

    src: int
    dst: int
    slot: int = 0
    grad: GradStats | None = None
    residual: bool = False
    count: int = 1


@dataclass
class ResidualBlock:
    """``out = skip + sublayer(skip)``: an Add whose other input is computed from ``skip``.

    ``sublayer`` holds the node ids between the skip input and the Add (exclusive);
    ``sublayer_module`` is the child module doing most of that work (``self_attn``). After a
    backward pass ``skip_grad`` is the gradient reaching the block input straight through the
    Add, and ``sublayer_grad`` the (vector) sum of what reaches it through the sublayer.
    """

    add: int
    skip: int
    sublayer: frozenset
    module: str | None
    sublayer_module: str | None
    skip_grad: GradStats | None = None
    sublayer_grad: GradStats | None = None

    @property
    def name(self) -> str:
        """``encoder.layers.0 / self_attn`` style label."""
        where = self.module or "(top)"
        return f"{where} / {self.sublayer_module}" if self.sublayer_module else where

    @property
    def ratio(self) -> float:
        """|sublayer gradient| / |skip gradient| at the block input (nan without gradients)."""
        if self.skip_grad is None or self.sublayer_grad is None:
            return math.nan
        if self.skip_grad.norm == 0:
            return math.inf if self.sublayer_grad.norm else math.nan
        return self.sublayer_grad.norm / self.skip_grad.norm


@dataclass
class Trace:
    """A recorded graph as data: ``nodes`` by id (inputs first, ``root`` last), ``edges``.

    ``module_types`` maps module paths to class names when a model was given; ``note`` says
    what a collapsed view did; ``traced_ops`` is the op count of the full graph.
    """

    nodes: dict[int, Node]
    edges: list[Edge]
    root: int
    residuals: list[ResidualBlock] = field(default_factory=list)
    module_types: dict[str, str] = field(default_factory=dict)
    note: str = ""
    traced_ops: int = 0

    @property
    def has_gradients(self) -> bool:
        """Whether a backward pass filled in edge gradients."""
        return any(e.grad is not None for e in self.edges)

    def count(self, kind: str | None = None) -> int:
        """Number of nodes (of one ``kind`` when given)."""
        return sum(1 for n in self.nodes.values() if kind is None or n.kind == kind)

    def find(self, op: str | None = None, module: str | None = None, name: str | None = None):
        """Nodes whose op name, module path and/or parameter name equal the given values."""
        return [
            n
            for n in self.nodes.values()
            if (op is None or n.op == op)
            and (module is None or n.module == module)
            and (name is None or n.name == name)
        ]

    def clusters(self) -> dict[str, list[int]]:
        """Module path -> ids of the nodes that sit directly in it (root-scope nodes excluded)."""
        out: dict[str, list[int]] = {}
        for node in self.nodes.values():
            scope = node.scope
            if paths.components(scope):
                out.setdefault(scope, []).append(node.id)
        return out

    def edge(self, src: int, dst: int) -> Edge:
        """The (first) edge from ``src`` to ``dst``."""
        for e in self.edges:
            if e.src == src and e.dst == dst:
                return e
        raise KeyError(f"no edge {src} -> {dst} in this trace")

    def _repr_svg_(self) -> str:
        """In Jupyter, a Trace left at the end of a cell is drawn (`minigrad.viz.draw`)."""
        from minigrad.viz.render import draw

        return draw(self).pipe(format="svg", encoding="utf-8")

    def __repr__(self) -> str:
        grads = ", with gradients" if self.has_gradients else ""
        return (
            f"Trace({self.count()} nodes: {self.count(OP)} ops, {self.count(PARAM)} params, "
            f"{self.count(MODULE)} collapsed modules; {len(self.edges)} edges; "
            f"{len(self.residuals)} residual blocks{grads})"
        )
