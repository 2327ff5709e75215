"""minigrad.viz: see the recorded graph and where gradients flow, vanish or explode.

    tr = viz.trace_backward(loss, model=model)   # instead of loss.backward()
    viz.draw(tr).write("graph.svg")               # clustered by module, edges coloured by |grad|
    print(viz.residual_report(tr))                # skip vs sublayer gradient per residual block
    print(viz.gradient_flow(model).table())       # per-parameter and per-layer gradient norms

Building the data model (`trace`, `view`) is separate from drawing it (`draw`, graphviz) and
from plotting (`minigrad.viz.plots`, matplotlib), so each can be used and tested alone.
"""

from minigrad.viz.collapse import view
from minigrad.viz.flow import GradientFlow, gradient_flow
from minigrad.viz.graph import Edge, Node, ResidualBlock, Trace
from minigrad.viz.plots import attention_heatmap, plot_gradient_flow, plot_residuals
from minigrad.viz.render import Digraph, GraphvizNotFoundError, draw
from minigrad.viz.residual import residual_report
from minigrad.viz.stats import GradStats
from minigrad.viz.tracing import trace, trace_backward

__all__ = [
    "Digraph", "Edge", "GradStats", "GradientFlow", "GraphvizNotFoundError", "Node",
    "ResidualBlock", "Trace", "attention_heatmap", "draw", "gradient_flow", "plot_gradient_flow",
    "plot_residuals", "residual_report", "trace", "trace_backward", "view",
]  # fmt: skip
