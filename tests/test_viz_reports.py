"""minigrad.viz reports: gradient_flow tables and the matplotlib plots (PNG files)."""

import math

import numpy as np
import pytest
from helpers import gamma
from test_viz_trace import traced_mlp

import minigrad
import minigrad.nn as nn
from minigrad import viz
from minigrad.viz.flow import layer_of


def test_layer_of_uses_numbered_prefix_else_owner():
    assert layer_of("encoder.layers.3.self_attn.w_q.weight") == "encoder.layers.3"
    assert layer_of("generator.proj.weight") == "generator.proj"
    assert layer_of("scale") == "scale"


def test_gradient_flow_norms_match_parameters():
    model, _ = traced_mlp()
    flow = viz.gradient_flow(model)
    for row, (name, p) in zip(flow.params, model.named_parameters(), strict=True):
        # viz sums the squares in float64; so does the reference here (np.linalg.norm of the
        # float32 array would sum in float32, up to gamma_n = 8e-6 off for 128 entries)
        expected = np.linalg.norm(p.grad.data.astype(np.float64))
        rel = 2 * gamma(p.grad.data.size + 1, np.float64)
        assert row.name == name and row.grad.norm == pytest.approx(expected, rel=rel)
    block = [p.grad.data for p in model.blocks[2].parameters()]
    expected = math.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in block))
    assert flow.layer_norms()["blocks.2"] == pytest.approx(expected, rel=1e-6)
    assert [name for name, _ in flow.layers] == ["inp", "blocks.0", "blocks.1", "blocks.2", "out"]
    text = flow.table()
    assert "blocks.1.fc2.weight" in text and "(8, 16)" in text


def test_gradient_flow_flags_missing_gradients():
    model = nn.Linear(2, 2)
    assert "no grad" in viz.gradient_flow(model).table(per_parameter=False)
    with pytest.raises(ValueError, match="no parameters"):
        viz.gradient_flow(nn.ReLU())


def test_plots_write_png_files(tmp_path):
    model, tr = traced_mlp()
    flow = viz.gradient_flow(model)
    viz.plot_gradient_flow({"a": flow, "b": flow}, path=tmp_path / "flow.png")
    viz.plot_residuals({"mlp": tr}, path=tmp_path / "res.png")
    weights = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    viz.attention_heatmap(weights, ["a", "b", "c", "d"], ["x", "y", "z"], path=tmp_path / "att.png")
    for name in ("flow.png", "res.png", "att.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_plot_helpers_group_blocks_and_merge_layer_orders():
    from minigrad.viz.plots import _merged_order, _stack_name

    _, tr = traced_mlp()
    assert {_stack_name(b) for b in tr.residuals} == {"blocks.* / fc1"}
    merged = _merged_order([["emb", "l.0", "out"], ["emb", "l.0", "norm", "out"]])
    assert merged == ["emb", "l.0", "norm", "out"]
    with pytest.raises(ValueError, match="trace_backward"):
        viz.plot_residuals(viz.trace(minigrad.tensor([1.0], requires_grad=True) * 2))


def test_attention_heatmap_checks_labels():
    with pytest.raises(ValueError, match="3 query and 2 key labels"):
        viz.attention_heatmap(np.ones((3, 3)), ["a", "b"], ["x", "y", "z"])


@pytest.mark.parametrize("blocks", [1, 2])
def test_the_residual_plot_counts_blocks_in_whole_numbers(blocks):
    _, tr = traced_mlp(n=blocks)
    ax = viz.plot_residuals(tr).axes[0]
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks == list(range(blocks))  # 0, 1: not 0.0, 0.2, ... nor -0.04, 0.0, 0.04


def test_reports_show_themselves_as_html_tables_in_notebooks():
    model, tr = traced_mlp(n=2)
    flow = viz.gradient_flow(model)
    page = flow._repr_html_()
    assert page.startswith("<table>") and "<th>layer</th>" in page and "blocks.1" in page
    assert "<details>" in page and "blocks.1.fc1.weight" in page  # parameters, folded
    report = viz.residual_report(tr)
    assert report.startswith("residual block") and "\n---" in report  # still a printable table
    assert "<th>|g skip|</th>" in report._repr_html_() and "blocks.0 / fc1" in report._repr_html_()


def test_figures_show_themselves_as_png_in_notebooks():
    """Without pyplot or `%matplotlib inline`, IPython shows a plain matplotlib Figure as the
    text `<Figure size ...>`; the figures of minigrad.viz bring their own PNG."""
    model, tr = traced_mlp(n=2)
    weights = np.random.default_rng(0).dirichlet(np.ones(3), size=2)
    figures = [
        viz.gradient_flow(model).plot(),
        viz.plot_residuals(tr),
        viz.attention_heatmap(weights, ["a", "b", "c"], ["x", "y"]),
    ]
    for fig in figures:
        assert fig._repr_png_()[:4] == b"\x89PNG"


def test_the_training_curves_show_themselves_in_jupyter():
    from transformer.train_log import curves_figure

    records = [{"kind": "train", "step": s, "loss": 3.0 / s, "lr": 1e-3} for s in (1, 2, 3)]
    assert curves_figure(records)._repr_png_().startswith(b"\x89PNG")
