"""Matplotlib pictures: gradient flow per layer, residual gradient split, attention heatmaps.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot, no global backend
change), so this works headless and in notebooks alike. Pass ``path`` to save a PNG.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.viz.graph import Trace


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_gradient_flow(flows, path=None, title: str | None = None):
    """Per-layer gradient norms as bars on a log scale; ``flows`` is one `GradientFlow` or a
    dict ``{label: GradientFlow}`` to compare (e.g. post-norm vs pre-norm)."""
    flows = flows if isinstance(flows, dict) else {"": flows}
    layers = list(dict.fromkeys(name for f in flows.values() for name, _ in f.layers))
    fig = _figure(max(6.0, 0.35 * len(layers) * max(1, len(flows)) + 2), 4.2)
    ax = fig.add_subplot()
    width = 0.8 / len(flows)
    for k, (label, flow) in enumerate(flows.items()):
        norms = flow.layer_norms()
        values = [norms.get(name, math.nan) for name in layers]
        x = np.arange(len(layers)) + (k - (len(flows) - 1) / 2) * width
        ax.bar(x, [v if math.isfinite(v) and v > 0 else 0 for v in values], width, label=label)
        for xi, v in zip(x, values, strict=True):
            if not math.isfinite(v):
                ax.annotate("NaN/inf", (xi, 1), xycoords=("data", "axes fraction"),
                            color="#d62728", rotation=90, va="top", fontsize=7)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(layers)), layers, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title or "gradient norm per layer")
    if len(flows) > 1:
        ax.legend()
    return _save(fig, path)


def plot_residuals(traces, path=None, title: str | None = None):
    """Skip vs sublayer gradient norm at each residual block's input, and their ratio;
    ``traces`` is one `Trace` (from `trace_backward`) or a dict ``{label: Trace}``."""
    traces = traces if isinstance(traces, dict) else {"": traces}
    fig = _figure(11, 4)
    norms_ax, ratio_ax = fig.subplots(1, 2)
    for label, tr in traces.items():
        if not isinstance(tr, Trace):
            raise TypeError(f"plot_residuals(): expected Traces, got {type(tr).__name__}")
        blocks = [b for b in tr.residuals if b.skip_grad and b.sublayer_grad]
        x = np.arange(len(blocks))
        prefix = f"{label}: " if label else ""
        line = norms_ax.plot(x, [b.skip_grad.norm for b in blocks], "-", label=f"{prefix}skip")
        norms_ax.plot(x, [b.sublayer_grad.norm for b in blocks], "--",
                      color=line[0].get_color(), label=f"{prefix}sublayer")  # fmt: skip
        ratio_ax.plot(x, [b.ratio for b in blocks], "o-", label=label or None)
    for ax, ylabel in ((norms_ax, "gradient norm at block input"), (ratio_ax, "sublayer / skip")):
        ax.set_yscale("log")
        ax.set_xlabel("residual block (forward order)")
        ax.set_ylabel(ylabel)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(title or "gradient through skip vs sublayer")
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
    fig = _figure(width * cols + 0.8, height * rows + (0.4 if title else 0))
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
