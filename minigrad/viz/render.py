"""`draw`: render a `Trace` (or the graph behind a tensor) as a ``graphviz.Digraph``.

Op nodes show the op and output shape; parameter leaves their dotted name; collapsed modules a
3-D box with what they hide. Nodes are clustered by module. Edges follow the data (input ->
consumer) and are coloured and thickened by the gradient flowing back along them (see
`minigrad.viz.style`); skip edges of residual blocks are dashed and labelled ``skip``.
"""

from __future__ import annotations

import html
from pathlib import Path

import graphviz

from minigrad.tensor import Tensor
from minigrad.viz import paths
from minigrad.viz.collapse import view
from minigrad.viz.graph import CONSTANT, INPUT, MODULE, OP, PARAM, Edge, Node, Trace
from minigrad.viz.stats import GradStats
from minigrad.viz.style import NONFINITE, VANISHING, Scale
from minigrad.viz.tracing import trace as trace_graph

INSTALL_HINT = (
    "the graphviz 'dot' program is not installed, so only the DOT source was written to {dot}. "
    "Install graphviz to render pictures: apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS), or conda install graphviz; or paste the DOT file into an "
    "online viewer."
)

_GRAPH = {"fontname": "Helvetica", "nodesep": "0.25", "ranksep": "0.35", "labelloc": "t"}
_NODES = {"fontname": "Helvetica", "fontsize": "10", "height": "0.3"}
_EDGES = {"fontname": "Helvetica", "fontsize": "8", "arrowsize": "0.6"}
_FILL = {OP: "#f7f7f7", PARAM: "#d9f0d3", INPUT: "#fff2cc", CONSTANT: "#ffffff", MODULE: "#e5e5f7"}


class GraphvizNotFoundError(RuntimeError):
    """Raised when rendering needs the ``dot`` program and it is missing (DOT file kept)."""


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose ``render`` explains how to install graphviz when needed."""

    def render(self, *args, **kwargs):
        """As ``graphviz.Digraph.render``; without ``dot``, raises `GraphvizNotFoundError`."""
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(INSTALL_HINT.format(dot=self.filepath)) from error

    def write(self, path, keep_source: bool = True) -> Path:
        """Write the picture to ``path`` (format from its suffix: .svg, .png, .pdf, or
        .gv/.dot for the source alone) with the DOT source beside it as ``.gv`` (removed
        after rendering unless ``keep_source``; always kept when ``dot`` is missing)."""
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in {"svg", "png", "pdf", "gv", "dot"}:
            raise ValueError(f"write(): unsupported picture format {path.suffix!r} in {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        source = path.with_suffix(".gv") if fmt not in {"gv", "dot"} else path
        self.save(source)
        if fmt in {"gv", "dot"}:
            return path
        try:
            graphviz.render(self.engine, fmt, source, outfile=path)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(INSTALL_HINT.format(dot=source)) from error
        if not keep_source:
            source.unlink()
        return path


def _fmt_shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")" if len(shape) != 1 else f"({shape[0]},)"


def _grad_text(g: GradStats, norm_format: str = ".2e") -> str:
    """How a gradient is written: NaN/inf, the signed value of a scalar, or the norm."""
    if g.nonfinite:
        return "NaN/inf"
    return f"{g.value:.4g}" if g.value is not None else format(g.norm, norm_format)


def _grad_line(node: Node, vanishing: float) -> str:
    g = node.grad
    if g is None:
        return ""
    if g.nonfinite or g.value is not None:
        return f"\\ngrad {_grad_text(g)}"
    tail = " vanishing" if g.vanishing(vanishing) else ""
    return f"\\n|g| {_grad_text(g)}{tail}"


def _label(node: Node, trace: Trace, cluster: str | None) -> str:
    dtype = "" if node.dtype in ("float32", "") else f" {node.dtype}"
    if node.kind == MODULE:
        kind = trace.module_types.get(node.name)
        size = f"{node.params:,} params" if node.params else "no params"
        name = node.name[len(cluster) + 1 :] if cluster else node.name  # the cluster says the rest
        return name + (f"\\n{kind}" if kind else "") + f"\\n{node.ops} ops, {size}"
    if node.kind == PARAM:
        head = node.name or "parameter"
    elif node.kind == OP:
        head = f"{node.name} = {node.op}" if node.name else node.op
    else:
        head = node.name or node.op
    if node.value is not None:
        return f"{head}\\nvalue {node.value:.4g}{dtype}"
    return f"{head}\\n{_fmt_shape(node.shape)}{dtype}"


def _node_attrs(node: Node, trace: Trace, vanishing: float, cluster: str | None):
    """Graphviz attributes of a node drawn inside ``cluster`` (a module path, None at the top)."""
    label = _label(node, trace, cluster) + _grad_line(node, vanishing)
    attrs = {
        "label": label,
        "shape": "box3d" if node.kind == MODULE else "box",
        "style": "filled" if node.kind == PARAM else "rounded,filled",
        "fillcolor": _FILL[node.kind],
        "tooltip": f"{node.name or node.module or '(top level)'}: {node.grad or 'no gradient'}",
    }
    if node.id == trace.root:
        attrs["peripheries"] = "2"
    if node.grad is not None and node.grad.nonfinite:
        attrs.update(color=NONFINITE, fontcolor=NONFINITE, penwidth="2.5")
    elif node.grad is not None and node.grad.vanishing(vanishing):
        attrs.update(color=VANISHING, fontcolor="#777777", style=attrs["style"] + ",dashed")
    if node.kind == CONSTANT:
        attrs.update(fontcolor="#777777", style="rounded,dashed")
    return attrs


def _edge_attrs(edge: Edge, scale: Scale, edge_labels: bool) -> dict[str, str]:
    attrs = scale.edge_attrs(edge.grad)
    text = ["skip"] if edge.residual else []
    if edge.count > 1:
        text.append(f"{edge.count} tensors")
    if edge.grad is not None and edge_labels:
        text.append(_grad_text(edge.grad, ".1e"))
    if edge.residual:
        attrs["style"] = "dashed"
    if text:
        attrs["label"] = " " + " ".join(text)
    if edge.grad is not None:
        attrs["tooltip"] = html.escape(str(edge.grad))
    return attrs


def _cluster_parents(scopes: list[str]) -> dict[str, str | None]:
    """Each cluster's enclosing cluster: its longest proper prefix that is itself a cluster
    (in the order given, so clusters are declared in the order the graph meets them)."""
    known = set(scopes)
    return {
        s: next((p for p in reversed(list(paths.prefixes(s))[:-1]) if p in known), None)
        for s in scopes
    }


def _fill(graph, scope, members, children, parents, trace, vanishing):
    for node in members.get(scope, ()):
        graph.node(f"n{node.id}", **_node_attrs(node, trace, vanishing, scope))
    for child in children.get(scope, ()):
        above = parents[child]
        rel = child[len(above) + 1 :] if above else child
        kind = trace.module_types.get(child)
        sub = graphviz.Digraph(name=f"cluster_{child}")
        sub.attr(label=f"{rel}: {kind}" if kind else rel, style="rounded", color="#bbbbbb",
                 fontcolor="#555555", fontsize="10", labeljust="l")  # fmt: skip
        _fill(sub, child, members, children, parents, trace, vanishing)
        graph.subgraph(sub)


def draw(graph, collapse=(), depth: int | None = None, expand=(), max_nodes: int | None = 40,
         show_constants: bool = False, vanishing: float = 1e-8, edge_labels: bool = True,
         rankdir: str = "TB", title: str | None = None, model=None,
         names=None) -> Digraph:  # fmt: skip
    """Draw a `Trace` (from `trace`/`trace_backward`) or the graph behind a Tensor.

    ``collapse``/``depth``/``expand``/``max_nodes``/``show_constants`` choose the view (see
    `minigrad.viz.view`); ``vanishing`` is the gradient norm below which an edge counts as
    vanishing; ``edge_labels`` writes each edge's gradient norm on it; ``model`` and ``names``
    are passed to `trace` when ``graph`` is a tensor. Returns a `Digraph` (a ``graphviz.Digraph``):
    ``.source``, ``.render(path, format="svg")``, ``.write("pic.svg")``, Jupyter display.
    """
    if isinstance(graph, Tensor):
        graph = trace_graph(graph, model, names)
    if not isinstance(graph, Trace):
        raise TypeError(f"draw(): expected a Trace or a Tensor, got {type(graph).__name__}")
    shown = view(graph, collapse, depth, expand, max_nodes, show_constants)
    scale = Scale([e.grad.norm for e in shown.edges if e.grad is not None], vanishing)

    dot = Digraph(name="minigrad", graph_attr={**_GRAPH, "rankdir": rankdir},
                  node_attr=_NODES, edge_attr=_EDGES)  # fmt: skip
    heading = "\\n".join(x for x in (title, shown.note) if x).replace("\n", "\\n")
    if heading:
        dot.attr(label=heading)
    members: dict[str | None, list[Node]] = {}
    for node in shown.nodes.values():
        scope = node.scope if paths.components(node.scope) else None
        members.setdefault(scope, []).append(node)
    parents = _cluster_parents([s for s in members if s is not None])
    children: dict[str | None, list[str]] = {}
    for child, above in parents.items():
        children.setdefault(above, []).append(child)
    _fill(dot, None, members, children, parents, shown, vanishing)

    for e in shown.edges:
        dot.edge(f"n{e.src}", f"n{e.dst}", **_edge_attrs(e, scale, edge_labels))
    if shown.has_gradients:
        grads = [g for g in [e.grad for e in shown.edges] + [n.grad for n in shown.nodes.values()]
                 if g is not None]  # fmt: skip
        legend = scale.legend(
            skip=any(e.residual for e in shown.edges),
            vanishing=any(not g.nonfinite and g.vanishing(vanishing) for g in grads),
            nonfinite=any(g.nonfinite for g in grads),
        )
        dot.node("legend", label=legend, shape="plaintext")
    return dot
