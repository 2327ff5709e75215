"""transformer.visualize: one instrumented training step of a tiny Transformer, all files."""

import shutil

import numpy as np
import pytest

import minigrad

transformer = pytest.importorskip("transformer.model")
visualize = pytest.importorskip("transformer.visualize")
char = pytest.importorskip("transformer.data.tokenizers.char")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed")
def test_visualize_writes_graph_reports_and_attention_maps(tmp_path):
    minigrad.manual_seed(0)
    tok = char.CharTokenizer.build(["abc cab"])
    sizes = dict(d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32)
    model = transformer.Transformer(tok.vocab_size, tok.vocab_size, **sizes)
    files = visualize.visualize(model, tok, tok, "abc", tmp_path, target="cab")
    for name in ("graph.svg", "graph.png", "graph.gv", "gradient_flow.png", "residuals.png"):
        assert files[name].stat().st_size > 0, name
    assert sorted(n for n in files if n.startswith("attention/")) == [
        "attention/decoder.layers.0.cross_attn.png",
        "attention/decoder.layers.0.self_attn.png",
        "attention/encoder.layers.0.self_attn.png",
    ]
    report = files["residuals.txt"].read_text()
    assert "encoder.layers.0 / self_attn" in report and "decoder.layers.0 / cross_attn" in report
    assert "decoder.layers.0.feed_forward.w_1.weight" in files["gradient_flow.txt"].read_text()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and np.isfinite(g.data).all() for g in grads)
