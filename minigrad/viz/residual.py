"""Recognise residual (skip) connections structurally, and report how gradient splits at them.

A residual block computes ``out = x + f(x)``. In the recorded graph that is an ``Add`` node (or
post-norm's fused ``AddLayerNorm``, whose first two inputs are summed) with inputs ``s`` and
``b`` where ``s`` is itself an ancestor of ``b`` (the sublayer ``f`` starts from
``s``) and at least one op of ``f`` was recorded inside a sub-module of the module that did the
Add (so ``a * b + a`` in plain code is not a "block"). Nothing about Transformers is assumed:
post-norm ``norm(x + f(x))`` and pre-norm ``x + f(norm(x))`` are both found.

Backward through the block, the gradient reaching ``s`` is the sum of what comes straight through
the Add (the skip path, an identity) and what comes back through ``f``. Their norms and ratio tell
whether a deep stack still passes gradient to its first layers.
"""

from __future__ import annotations

import math
from collections import Counter

from minigrad.viz import paths
from minigrad.viz.graph import OP, ResidualBlock, Trace
from minigrad.viz.text import TextTable

_JOINS = ("Add", "AddLayerNorm")
"""Ops whose first two inputs are added: where a skip connection rejoins its sublayer."""


def _between(trace: Trace, parents: dict, skip: int, branch: int) -> set[int]:
    """Ids on some path ``skip -> ... -> branch`` (excluding skip), empty when there is none.

    Ids are topological, so the backward search never needs to go below ``skip``'s id.
    """
    reached, stack, seen = False, [branch], {branch}
    while stack:
        node = stack.pop()
        for p in parents.get(node, ()):
            if p == skip:
                reached = True
            elif p > skip and p not in seen:
                seen.add(p)
                stack.append(p)
    if not reached:
        return set()
    on_path = set()
    for node in sorted(seen):
        if any(p == skip or p in on_path for p in parents.get(node, ())):
            on_path.add(node)
    return on_path


def _main_child(trace: Trace, scope: str | None, sublayer: set[int]) -> str | None:
    """The direct child module of ``scope`` holding most of the sublayer's ops."""
    depth = len(paths.components(scope))
    children = Counter()
    for i in sorted(sublayer):
        parts = paths.components(trace.nodes[i].module)
        if len(parts) > depth:
            children[parts[depth]] += 1
    return children.most_common(1)[0][0] if children else None  # ties: the earliest child


def find_residuals(trace: Trace) -> list[ResidualBlock]:
    """Every residual block of the traced graph: in the model's module order when the trace
    knows it (``trace(..., model=)``), else in a topological order of the graph."""
    parents: dict[int, list[int]] = {}
    summands: dict[int, dict[int, int]] = {}  # node -> {slot: input} for the two summed slots
    for e in trace.edges:
        parents.setdefault(e.dst, []).append(e.src)
        if e.slot < 2:
            summands.setdefault(e.dst, {})[e.slot] = e.src
    blocks = []
    for node in trace.nodes.values():
        inputs = [summands.get(node.id, {}).get(slot) for slot in (0, 1)]
        if node.kind != OP or node.op not in _JOINS or None in inputs or inputs[0] == inputs[1]:
            continue
        for skip, branch in (inputs, inputs[::-1]):
            sublayer = _between(trace, parents, skip, branch)
            if any(paths.within(trace.nodes[i].module, node.module) for i in sublayer):
                child = _main_child(trace, node.module, sublayer)
                blocks.append(ResidualBlock(node.id, skip, frozenset(sublayer), node.module, child))
                break
    order = {path: i for i, path in enumerate(trace.module_types)}
    return sorted(blocks, key=lambda b: order.get(b.module, len(order)))  # model order if known


def residual_report(trace: Trace) -> TextTable:
    """A table, per residual block, of the gradient norms via skip and sublayer and their ratio:
    a string to print, shown as an HTML table when a notebook displays it."""
    if not trace.residuals:
        return TextTable([("no residual blocks found",)])
    rows = [("residual block", "|g skip|", "|g sublayer|", "sublayer/skip", "sublayer share")]
    for b in trace.residuals:
        skip = b.skip_grad.norm if b.skip_grad else math.nan
        sub = b.sublayer_grad.norm if b.sublayer_grad else math.nan
        share = sub / (skip + sub) if skip + sub > 0 else math.nan
        rows.append((b.name, f"{skip:.3e}", f"{sub:.3e}", f"{b.ratio:.3f}", f"{share:.1%}"))
    return TextTable(rows)
