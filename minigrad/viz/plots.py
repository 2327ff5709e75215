"""Matplotlib pictures: gradient flow per layer, residual gradient split, attention heatmaps.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot, no global backend
change), so this works headless and in notebooks alike. Pass ``path`` to save a PNG. Left at the
end of a Jupyter cell, a figure shows itself as a PNG (without pyplot or ``%matplotlib inline``,
a plain matplotlib Figure would print as ``<Figure size ...>``).
"""

from __future__ import annotations

import functools
import io
import re

import numpy as np

from minigrad.viz.graph import Trace


@functools.cache
def _figure_class():
    """A matplotlib Figure that shows itself in Jupyter (imported when first needed)."""
    from matplotlib.figure import Figure

    class ShownFigure(Figure):
        """A Figure with a PNG representation for IPython's display."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return ShownFigure


def new_figure(width: float, height: float):
    """An empty matplotlib Figure (inches) with the constrained layout, on the Agg canvas, that
    shows itself as a PNG when left at the end of a Jupyter cell."""
    return _figure_class()(figsize=(width, height), layout="constrained")


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _merged_order(sequences) -> list[str]:
    """All names of several ordered lists in one order that keeps each list's order where it
    can (a name missing from the first list goes right after its predecessor in its own)."""
    merged: list[str] = []
    for names in sequences:
        for i, name in enumerate(names):
            if name not in merged:
                at = merged.index(names[i - 1]) + 1 if i and names[i - 1] in merged else len(merged)
                merged.insert(at, name)
    return merged


def plot_gradient_flow(flows, path=None, title: str | None = None):
    """Per-layer gradient norms as bars on a log scale; ``flows`` is one `GradientFlow` or a
    dict ``{label: GradientFlow}`` to compare (e.g. post-norm vs pre-norm). Layers without a
    gradient are marked "no grad", non-finite ones "NaN/inf"."""
    flows = flows if isinstance(flows, dict) else {"": flows}
    layers = _merged_order([[name for name, _ in f.layers] for f in flows.values()])
    fig = new_figure(min(16.0, max(6.0, 0.2 * len(layers) * len(flows) + 2)), 4.2)
    ax = fig.add_subplot()
    width = 0.8 / len(flows)
    for k, (label, flow) in enumerate(flows.items()):
        stats = dict(flow.layers)
        x = np.arange(len(layers)) + (k - (len(flows) - 1) / 2) * width
        heights = []
        for xi, name in zip(x, layers, strict=True):
            g = stats.get(name)
            ok = g is not None and not g.nonfinite and g.norm > 0
            heights.append(g.norm if ok else 0.0)
            if name in stats and not ok:
                mark = "NaN/inf" if g is not None and g.nonfinite else "no grad"
                ax.annotate(mark, (xi, 0.98), xycoords=("data", "axes fraction"),
                            color="#d62728", rotation=90, va="top", fontsize=7)  # fmt: skip
        ax.bar(x, heights, width, label=label)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(layers)), layers, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title or "gradient norm per layer")
    if len(flows) > 1:
        ax.legend()
    return _save(fig, path)


def _stack_name(block) -> str:
    """``decoder.layers.3 / cross_attn`` -> ``decoder.layers.* / cross_attn``."""
    return re.sub(r"(^|\.)\d+(?=\.|$| )", r"\1*", block.name)


def plot_residuals(traces, path=None, title: str | None = None):
    """Gradient norm at each residual block's input through the skip path (solid) and through
    the sublayer (dashed); one panel per kind of block (``encoder.layers.* / self_attn``), block
    index along x. ``traces`` is one `Trace` (from `trace_backward`) or ``{label: Trace}``."""
    traces = traces if isinstance(traces, dict) else {"": traces}
    grouped: dict[str, dict[str, list]] = {}
    for label, tr in traces.items():
        if not isinstance(tr, Trace):
            raise TypeError(f"plot_residuals(): expected Traces, got {type(tr).__name__}")
        for b in tr.residuals:
            if b.skip_grad is not None and b.sublayer_grad is not None:
                grouped.setdefault(_stack_name(b), {}).setdefault(label, []).append(b)
    if not grouped:
        raise ValueError("plot_residuals(): no residual block with gradients (use trace_backward)")
    cols = min(3, len(grouped))
    rows = -(-len(grouped) // cols)
    fig = new_figure(4.2 * cols, 3.2 * rows)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    for ax, (name, by_label) in zip(axes, grouped.items(), strict=False):
        for label, blocks in by_label.items():
            x = np.arange(len(blocks))
            prefix = f"{label}: " if label else ""
            line = ax.plot(x, [b.skip_grad.norm for b in blocks], "o-", ms=3, label=f"{prefix}skip")
            ax.plot(x, [b.sublayer_grad.norm for b in blocks], "s--", ms=3,
                    color=line[0].get_color(), label=f"{prefix}sublayer")  # fmt: skip
        ax.set_yscale("log")
        longest = max(len(blocks) for blocks in by_label.values())
        ax.set_xlim(-0.5, longest - 0.5)
        ax.set_xticks(range(0, longest, -(-longest // 12)))  # blocks 0, 1, ...: no 0.5
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("block index in the stack", fontsize=8)
    for ax in axes[len(grouped) :]:
        ax.set_visible(False)
    axes[0].set_ylabel("gradient norm at block input")
    axes[0].legend(fontsize=7)
    fig.suptitle(title or "gradient through skip (solid) vs sublayer (dashed)")
    return _save(fig, path)


def attention_heatmap(weights, keys, queries=None, titles=None, path=None, columns: int = 4,
                      title: str | None = None):  # fmt: skip
    """Heatmap(s) of attention weights with tokens on the axes.

    ``weights`` is (queries, keys) or (heads, queries, keys) (a numpy array or anything array
    like); ``keys``/``queries`` are the token strings (queries default to keys); ``titles``
    name the heads, ``title`` the whole figure.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 2:
        w = w[None]
    queries = keys if queries is None else queries
    if w.ndim != 3 or not len(w) or w.shape[1:] != (len(queries), len(keys)):
        raise ValueError(
            f"attention_heatmap(): weights of shape {np.shape(weights)} do not match "
            f"{len(queries)} query and {len(keys)} key labels; expected ([heads,] queries, keys)"
        )
    titles = titles or ([f"head {h}" for h in range(len(w))] if len(w) > 1 else [""])
    cols = min(columns, len(w))
    rows = -(-len(w) // cols)
    width, height = 0.3 * max(len(keys), 4) + 1.4, 0.3 * max(len(queries), 4) + 1.2
    fig = new_figure(width * cols + 0.8, height * rows + (0.4 if title else 0))
    for h, ax in enumerate(fig.subplots(rows, cols, squeeze=False).ravel()):
        if h >= len(w):
            ax.set_visible(False)
            continue
        image = ax.imshow(w[h], cmap="viridis", vmin=0, vmax=max(1e-12, float(w.max())),
                          aspect="auto")  # fmt: skip
        ax.set_xticks(range(len(keys)), keys, rotation=90, fontsize=8)
        ax.set_yticks(range(len(queries)), queries, fontsize=8)
        ax.set_title(titles[h], fontsize=9)
    fig.colorbar(image, ax=fig.axes, shrink=0.6)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
