"""minigrad.viz.draw: the graphviz picture (DOT source always; rendering only with `dot`)."""

import shutil

import graphviz
import numpy as np
import pytest
from test_viz_trace import micrograd_expression, traced_mlp

import minigrad
from minigrad import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed")


def test_draw_clusters_names_and_marks_skip_edges():
    _, tr = traced_mlp()
    dot = viz.draw(tr, max_nodes=None, title="residual MLP")
    assert isinstance(dot, graphviz.Digraph)
    src = dot.source
    assert "cluster_blocks.0" in src and "cluster_blocks.0.fc1" in src
    assert "blocks.2.fc2.weight" in src and "residual MLP" in src
    assert src.count("style=dashed") == 3 and src.count('label=" skip') == 3
    assert "gradient norm (log scale)" in src  # the legend


def test_draw_tensor_without_gradients_has_no_legend():
    _, loss = micrograd_expression()
    src = viz.draw(loss).source
    assert "Mul" in src and "legend" not in src and "|g|" not in src


def test_named_scalars_show_value_and_signed_gradient():
    (a, b, c, f), loss = micrograd_expression()
    src = viz.draw(viz.trace_backward(loss, names={"a": a, "f": f, "L": loss})).source
    assert "a\\nvalue 2\\ngrad 6" in src  # dL/da = b * f = 6
    assert "f\\nvalue -2\\ngrad 4" in src and "L = Mul" in src
    with pytest.raises(TypeError, match="names"):
        viz.trace(loss, names={"a": 2.0})


def test_nonfinite_and_vanishing_gradients_are_marked():
    x = minigrad.tensor([-1.0, 4.0], requires_grad=True)
    y = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with np.errstate(all="ignore"):
        tr = viz.trace_backward(x.sqrt().sum() + (y * 1e-12).sum())
    src = viz.draw(tr).source
    assert "grad NaN/inf" in src and "#d62728" in src
    assert "vanishing" in src and "style=dotted" in src


def test_auto_collapse_note_in_picture():
    _, tr = traced_mlp(n=6)
    assert "folded automatically" in viz.draw(tr, max_nodes=15).source


@needs_dot
def test_write_renders_svg_and_keeps_dot_source(tmp_path):
    _, tr = traced_mlp()
    out = viz.draw(tr).write(tmp_path / "mlp.svg")
    assert out.read_text().lstrip().startswith("<?xml") and (tmp_path / "mlp.gv").exists()
    viz.draw(tr).write(tmp_path / "bare.png", keep_source=False)
    assert (tmp_path / "bare.png").exists() and not (tmp_path / "bare.gv").exists()


def test_missing_dot_writes_source_and_says_how_to_install(tmp_path, monkeypatch):
    _, loss = micrograd_expression()
    monkeypatch.setenv("PATH", str(tmp_path))
    dot = viz.draw(loss)
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        dot.write(tmp_path / "expr.png")
    assert (tmp_path / "expr.gv").read_text() == dot.source
    with pytest.raises(viz.GraphvizNotFoundError, match="brew install graphviz"):
        dot.render(tmp_path / "expr2", format="svg")
    assert (tmp_path / "expr2").exists()
    with pytest.raises(ValueError, match="format"):
        dot.write(tmp_path / "expr.jpg2")


def _legend(src: str) -> str:
    return next(line for line in src.splitlines() if "gradient norm (log scale)" in line)


def test_the_legend_shows_only_what_the_picture_contains():
    x = minigrad.tensor(np.ones((2, 3)), requires_grad=True)
    mlp = viz.draw(viz.trace_backward((x * 1.0).relu().sum())).source  # no skip, all |g| alike
    legend = _legend(mlp)
    assert "skip" not in legend and "vanishing" not in legend and "NaN" not in legend
    assert legend.count("BGCOLOR") == 1  # one gradient value: one row, not five equal ones
    _, tr = traced_mlp()
    legend = _legend(viz.draw(tr, max_nodes=None).source)
    assert "skip (residual) edge" in legend and legend.count("BGCOLOR") == 5


def test_the_fold_hint_is_whole_and_names_a_module_to_open():
    _, tr = traced_mlp(n=6)
    note = viz.view(tr, max_nodes=15).note
    hint = note.splitlines()[-1]
    assert hint == "open one with expand=['blocks.0'], or all with depth=3, max_nodes=None"
    assert "open one with expand" in viz.draw(tr, max_nodes=15).source


@needs_dot
def test_a_trace_left_in_a_notebook_cell_draws_itself():
    _, tr = traced_mlp()
    svg = tr._repr_svg_()
    assert "<svg" in svg and "blocks.0" in svg
