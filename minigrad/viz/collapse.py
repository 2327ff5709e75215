"""Collapsed views: replace whole modules by one summary node each, so big models stay readable.

``view(trace, collapse=["encoder.layers.*.self_attn"])`` folds every module matching a pattern
(``*`` stands for one path component) into one node; ``depth=3`` folds every module 3 levels
down (``encoder.layers.0``); ``expand=["decoder.layers.1"]`` keeps that module, its ancestors
and its insides open while the rest is folded. Beyond ``max_nodes`` the view folds deeper levels
automatically, one depth at a time, and says so in ``note``: large graphs never fail to draw.

Edges into and out of a folded module are kept (parallel ones merged, gradients combined); edges
inside it disappear. A folded node's gradient combines the gradients of the outputs it hides.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from minigrad.viz import paths
from minigrad.viz.graph import CONSTANT, MODULE, OP, PARAM, Edge, Node, Trace
from minigrad.viz.stats import GradStats


class _Rules:
    """Decides, for each module path, which enclosing module (if any) it is folded into."""

    def __init__(self, scopes, collapse, depth, expand):
        self.collapse, self.depth = list(collapse), depth
        self.expanded = {
            p for s in scopes for p in paths.prefixes(s) if any(paths.matches(x, p) for x in expand)
        }
        self.cache: dict[str | None, str | None] = {}

    def _open(self, path: str) -> bool:
        return any(
            path == q or paths.within(q, path) or paths.within(path, q) for q in self.expanded
        )

    def group_of(self, scope: str | None) -> str | None:
        """The outermost enclosing path that is folded, or None when ``scope`` stays open."""
        if scope not in self.cache:
            self.cache[scope] = next((p for p in paths.prefixes(scope) if self._folds(p)), None)
        return self.cache[scope]

    def _folds(self, path: str) -> bool:
        if any(paths.matches(pattern, path) for pattern in self.collapse):
            return True
        deep = self.depth is not None and len(paths.components(path)) >= self.depth
        return deep and not self._open(path)


def _bundle_grad(trace: Trace, parts: list[Edge], fanout: Counter) -> GradStats | None:
    """Gradient of a bundle of merged edges. Edges leaving the same tensor add up as vectors:
    when the bundle holds all of that tensor's gradient-carrying edges, the sum is the tensor's
    own gradient (exact); otherwise the parts are combined as a concatenation (root of the sum
    of squares), as are bundles of different tensors."""
    by_source: dict[int, list[Edge]] = {}
    for p in parts:
        by_source.setdefault(p.src, []).append(p)
    per_source = []
    for src, edges in by_source.items():
        exact = len(edges) > 1 and len(edges) == fanout[src]
        per_source.append(
            trace.nodes[src].grad if exact else GradStats.combine([e.grad for e in edges])
        )
    return GradStats.combine(per_source)


def _fold_nodes(trace: Trace, rules: _Rules, show_constants: bool):
    """The view's nodes, and a map from each kept trace node to the view node standing for it."""
    nodes: dict[int, Node] = {}
    mapping: dict[int, int] = {}
    groups: dict[str, int] = {}
    next_id = max(trace.nodes) + 1
    for node in trace.nodes.values():
        if node.kind == CONSTANT and not show_constants:
            continue
        path = rules.group_of(node.scope)
        if path is None:
            nodes[node.id] = dataclasses.replace(node)
            mapping[node.id] = node.id
            continue
        if path not in groups:
            groups[path] = next_id
            kind_name = trace.module_types.get(path, "Module")
            nodes[next_id] = Node(
                next_id, MODULE, kind_name, module=paths.parent(path), name=path, ops=0
            )
            next_id += 1
        group = nodes[groups[path]]
        group.ops += node.kind == OP
        group.params += int(np.prod(node.shape)) if node.kind == PARAM else 0
        mapping[node.id] = groups[path]
    return nodes, mapping


def _fold(trace: Trace, rules: _Rules, show_constants: bool) -> Trace:
    """The view: folded nodes, edges between them merged, folded nodes' gradients filled in."""
    nodes, mapping = _fold_nodes(trace, rules, show_constants)
    merged: dict[tuple[int, int], list[Edge]] = {}
    outputs: dict[int, set[int]] = {}
    for e in trace.edges:
        if e.src not in mapping or e.dst not in mapping:
            continue
        src, dst = mapping[e.src], mapping[e.dst]
        if src == dst:
            continue
        merged.setdefault((src, dst), []).append(e)
        if src != e.src:
            outputs.setdefault(src, set()).add(e.src)
    root = mapping[trace.root]
    if root != trace.root:
        outputs.setdefault(root, set()).add(trace.root)
    for group, members in outputs.items():
        nodes[group].grad = GradStats.combine([trace.nodes[i].grad for i in sorted(members)])
    fanout = Counter(e.src for e in trace.edges if e.grad is not None)
    edges = [
        Edge(
            src,
            dst,
            slot=parts[0].slot,
            grad=_bundle_grad(trace, parts, fanout),
            residual=all(p.residual for p in parts),
            count=len({p.src for p in parts}),
        )
        for (src, dst), parts in merged.items()
    ]
    return Trace(
        nodes, edges, root, trace.residuals, trace.module_types, traced_ops=trace.traced_ops
    )


def view(trace: Trace, collapse=(), depth: int | None = None, expand=(),
         max_nodes: int | None = 40, show_constants: bool = False) -> Trace:  # fmt: skip
    """A (possibly) collapsed copy of ``trace``; see the module docstring for the options.

    Constants (leaves without grad: masks, token ids, lifted scalars) are hidden unless
    ``show_constants``.
    """
    if depth is not None and depth < 1:
        raise ValueError(f"view(): depth must be >= 1 (module path components), got {depth}")
    if isinstance(collapse, str) or isinstance(expand, str):
        raise TypeError("view(): collapse and expand take a list of patterns, not a string")
    scopes = {n.scope for n in trace.nodes.values()}
    result = _fold(trace, _Rules(scopes, collapse, depth, expand), show_constants)
    if max_nodes is None or result.count() <= max_nodes:
        return result
    deepest = max((len(paths.components(s)) for s in scopes), default=0)
    start = min(depth - 1, deepest - 1) if depth is not None else deepest - 1
    best = None
    for d in range(start, 0, -1):
        folded = _fold(trace, _Rules(scopes, collapse, d, expand), show_constants)
        if best is None or folded.count() < best[1].count():
            best = (d, folded)
        if folded.count() <= max_nodes:
            break
    if best is None:
        result.note = f"{result.count()} nodes, above max_nodes={max_nodes}: no modules to fold"
        return result
    chosen, result = best
    result.note = (
        f"{trace.traced_ops} ops shown as {result.count()} nodes: modules at depth {chosen} "
        "and below folded automatically"
    )
    if result.count() <= max_nodes:
        folded = next((n.name for n in result.nodes.values() if n.kind == MODULE), None)
        example = f"expand=['{folded}']" if folded else "expand=[module path]"
        result.note += (
            f" (max_nodes={max_nodes});\nopen one with {example}, "
            f"or all with depth={chosen + 1}, max_nodes=None"
        )
    else:
        result.note += f", still above max_nodes={max_nodes} (expanded parts stay open)"
    return result
