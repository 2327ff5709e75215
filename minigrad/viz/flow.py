"""`gradient_flow(model)`: per-parameter and per-layer gradient norms after a backward pass.

The first question when a deep model does not train is whether gradient reaches its first
layers. This reads every parameter's ``.grad`` and summarises it per parameter and per *layer*
(by default: the name up to its first numeric part, ``encoder.layers.3``, else the owning module,
``generator.proj``). A layer's norm is ``sqrt(sum of its parameters' squared norms)``, i.e. the
norm of all its gradients taken together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from minigrad.viz import paths
from minigrad.viz.stats import GradStats
from minigrad.viz.text import html_table, table


def layer_of(name: str) -> str:
    """Default layer of a parameter: up to the first numeric part, else its owning module."""
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part.isdigit():
            return ".".join(parts[: i + 1])
    return paths.owner(name) or name


@dataclass
class ParamGrad:
    """One parameter's name, shape and gradient summary (None: it received no gradient)."""

    name: str
    shape: tuple
    grad: GradStats | None


@dataclass
class GradientFlow:
    """Gradient norms of a model: ``params`` in model order, ``layers`` as (name, stats)."""

    params: list[ParamGrad]
    layers: list[tuple[str, GradStats | None]]
    vanishing: float = 1e-8

    def layer_norms(self) -> dict[str, float]:
        """Layer name -> gradient norm (nan where no parameter of the layer got a gradient)."""
        return {name: (g.norm if g else math.nan) for name, g in self.layers}

    def _flag(self, g: GradStats | None) -> str:
        if g is None:
            return "no grad"
        if g.nonfinite:
            return "NaN/inf"
        return "vanishing" if g.vanishing(self.vanishing) else ""

    def _rows(self) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """(per-parameter rows, per-layer rows), each with its header first."""
        params = [("parameter", "shape", "|grad|", "max|grad|", "zeros", "")]
        for p in self.params:
            g = p.grad
            numbers = (
                (f"{g.norm:.3e}", f"{g.max_abs:.3e}", f"{g.zero_fraction:.0%}") if g else ("-",) * 3
            )
            params.append((p.name, str(p.shape), *numbers, self._flag(g)))
        layers = [("layer", "|grad|", "")]
        layers += [(n, f"{g.norm:.3e}" if g else "-", self._flag(g)) for n, g in self.layers]
        return params, layers

    def table(self, per_parameter: bool = True) -> str:
        """The report as text: one row per parameter (optional), then one per layer."""
        params, layers = self._rows()
        return "\n\n".join([table(params)] * per_parameter + [table(layers)])

    def _repr_html_(self) -> str:
        """In Jupyter: the per-layer table, and the per-parameter one folded under it."""
        params, layers = self._rows()
        return (
            html_table(layers)
            + f"<details><summary>{len(self.params)} parameters</summary>"
            + html_table(params)
            + "</details>"
        )

    def plot(self, path=None, title: str | None = None):
        """Per-layer bars on a log scale (matplotlib Figure; saved as PNG when ``path``)."""
        from minigrad.viz.plots import plot_gradient_flow

        return plot_gradient_flow(self, path=path, title=title)


def gradient_flow(model, layer=layer_of, vanishing: float = 1e-8) -> GradientFlow:
    """Summarise ``model``'s parameter gradients (call after ``backward``).

    ``layer`` maps a parameter name to its layer name (see `layer_of`); ``vanishing`` is the
    norm below which a gradient is flagged.
    """
    params, grouped = [], {}
    for name, p in model.named_parameters():
        g = GradStats.of(p.grad.data) if p.grad is not None else None
        params.append(ParamGrad(name, tuple(p.shape), g))
        grouped.setdefault(layer(name), []).append(g)
    if not params:
        raise ValueError(f"gradient_flow(): {type(model).__name__} has no parameters")
    layers = [(name, GradStats.combine(stats)) for name, stats in grouped.items()]
    return GradientFlow(params, layers, vanishing)
