"""minigrad.viz views: folding modules by pattern, depth and node limit; path globbing."""

import pytest
from test_viz_trace import traced_mlp

from minigrad import viz
from minigrad.viz import paths


def test_patterns_match_one_component_per_star():
    assert paths.matches("encoder.layers.*.self_attn", "encoder.layers.10.self_attn")
    assert not paths.matches("encoder.*", "encoder.layers.0")
    assert paths.is_root_scope("Transformer") and not paths.is_root_scope("encoder")
    assert paths.within("a.b.c", "a.b") and not paths.within("a.bc", "a.b")


def test_depth_folds_modules_and_reduces_nodes():
    model, tr = traced_mlp()
    full = viz.view(tr, max_nodes=None)
    by_layer = viz.view(tr, depth=2)
    assert by_layer.count() < full.count()
    groups = {n.name: n for n in by_layer.nodes.values() if n.kind == "module"}
    assert sorted(groups) == ["blocks.0", "blocks.1", "blocks.2"]
    block = groups["blocks.1"]
    assert (block.op, block.ops, block.params) == (
        "Block",
        5,
        sum(p.data.size for p in model.blocks[1].parameters()),
    )
    assert len([e for e in by_layer.edges if e.residual]) == 0  # skips are inside the groups


def test_folded_bundle_gradient_is_the_tensor_gradient():
    _, tr = traced_mlp()
    v = viz.view(tr, depth=2)
    ids = {n.name: n.id for n in v.nodes.values() if n.kind == "module"}
    bundle = v.edge(ids["blocks.0"], ids["blocks.1"])
    assert bundle.count == 1  # one tensor, two edges (skip and sublayer) merged
    (norm0,) = tr.find(op="LayerNorm", module="blocks.0.norm")
    assert bundle.grad.norm == pytest.approx(norm0.grad.norm)
    assert v.nodes[ids["blocks.0"]].grad.norm == pytest.approx(norm0.grad.norm)


def test_collapse_patterns_and_expand():
    _, tr = traced_mlp()
    v = viz.view(tr, collapse=["blocks.*.fc1", "blocks.*.fc2"], max_nodes=None)
    assert {n.name for n in v.nodes.values() if n.kind == "module"} == {
        f"blocks.{i}.fc{j}" for i in range(3) for j in (1, 2)
    }
    assert len([e for e in v.edges if e.residual]) == 3  # Adds stay visible, skips too
    opened = viz.view(tr, depth=2, expand=["blocks.1.fc1"])
    names = {n.name for n in opened.nodes.values() if n.kind == "module"}
    assert names == {"blocks.0", "blocks.2", "blocks.1.fc2", "blocks.1.norm"}
    with pytest.raises(TypeError, match="list"):
        viz.view(tr, collapse="blocks.*")


def test_node_limit_folds_automatically_and_says_so():
    _, tr = traced_mlp(n=6)
    v = viz.view(tr, max_nodes=15)
    assert v.count() <= 15 and "folded automatically" in v.note
    assert viz.view(tr, max_nodes=None).note == ""
    tiny = viz.view(tr, max_nodes=2)
    assert tiny.count() > 2 and "still above max_nodes=2" in tiny.note
