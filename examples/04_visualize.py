"""Reproduce the pictures of docs/visualization.md with `minigrad.viz`.

    python examples/04_visualize.py                   # writes runs/visualize/viz_*
    python examples/04_visualize.py --out docs/figures   # regenerates the pictures of the docs
    python examples/04_visualize.py --out /tmp/viz --steps 150

1. a micrograd-sized expression, every node with its gradient;
2. one Transformer encoder layer, op by op, residual (skip) edges dashed;
3. the whole 2+2-layer toy encoder-decoder (d_model 64) in the default view: layers folded;
4. post-norm vs pre-norm at depth 12 (12+12 layers) at initialisation: gradient norm per
   layer, and how the gradient splits between skip and sublayer in every residual block;
5. the cross-attention of a model trained on the copy task (examples/03_copy_task.py).
"""

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import viz
from transformer import EncoderLayer, Transformer, TransformerConfig

VOCAB = 11
TOY = dict(d_model=64, num_heads=4, d_ff=128)  # the toy size of the docs and the issue


def micrograd_expression(out: Path) -> None:
    """L = (a*b + c) * f with a=2, b=-3, c=10, f=-2 (the example of Karpathy's micrograd)."""
    a, b, c, f = (minigrad.tensor(v, requires_grad=True) for v in (2.0, -3.0, 10.0, -2.0))
    e = a * b
    d = e + c
    loss = d * f
    names = {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": loss}
    trace = viz.trace_backward(loss, names=names)
    viz.draw(trace, rankdir="LR", title="L = (a*b + c) * f").write(
        out / "viz_micrograd.svg", keep_source=False
    )
    print(f"micrograd expression: {trace.count()} nodes")


def encoder_layer(out: Path) -> None:
    """Every op of one post-norm encoder layer (d_model 64, 4 heads) on a (2, 10) batch, with
    the fused ops split into the small ones they stand for (`minigrad.fused(False)`)."""
    minigrad.manual_seed(0)
    layer = EncoderLayer(TransformerConfig(d_model=64, num_heads=4, d_ff=128, dropout=0.0))
    x = minigrad.randn(2, 10, 64).requires_grad_()
    probe = minigrad.randn(2, 10, 64)  # a random linear read-out: sum(layer(x) * probe)
    with minigrad.fused(False):
        loss = (layer(x) * probe).sum()
    trace = viz.trace_backward(loss, model=layer, names={"x": x})
    title = "one encoder layer (post-norm): skip edges dashed"
    viz.draw(trace, max_nodes=None, title=title).write(
        out / "viz_encoder_layer.svg", keep_source=False
    )
    drawn = viz.view(trace, max_nodes=None).count()
    print(f"encoder layer: {trace.count('op')} ops, {drawn} nodes drawn")
    print(viz.residual_report(trace))


def step(model: Transformer, seed: int = 0):
    """One teacher-forced copy-task step; returns the Trace (parameters get .grad)."""
    data = np.random.default_rng(seed).integers(1, VOCAB, size=(8, 10))
    logits = model(data, data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), data[:, 1:].reshape(-1))
    return viz.trace_backward(loss, model=model)


def toy_model(out: Path) -> None:
    """The default (folded) view of the 2+2-layer toy encoder-decoder."""
    minigrad.manual_seed(0)
    model = Transformer(VOCAB, VOCAB, **TOY, num_encoder_layers=2, num_decoder_layers=2)
    trace = step(model)
    shown = viz.view(trace)
    print(f"2+2 toy model: {trace.count()} nodes traced ({trace.count('op')} ops), "
          f"default view {shown.count()} nodes, {len(shown.edges)} edges")  # fmt: skip
    viz.draw(trace, title="2+2-layer toy Transformer, default view").write(
        out / "viz_model.svg", keep_source=False
    )


def depth_12(out: Path) -> None:
    """Post-norm vs pre-norm, 12+12 layers, at initialisation: per-layer and residual plots."""
    flows, traces = {}, {}
    for name, norm_first in (("post-norm", False), ("pre-norm", True)):
        minigrad.manual_seed(0)
        model = Transformer(VOCAB, VOCAB, **TOY, num_encoder_layers=12, num_decoder_layers=12,
                            dropout=0.0, norm_first=norm_first)  # fmt: skip
        traces[name] = step(model)
        flows[name] = viz.gradient_flow(model)
        print(f"\n{name}, depth 12:\n{flows[name].table(per_parameter=False)}")
        print(viz.residual_report(traces[name]))
    when = "at initialisation, 12+12 layers"
    viz.plot_gradient_flow(flows, out / "viz_flow_depth12.png", f"gradient norm per layer {when}")
    viz.plot_residuals(
        traces, out / "viz_residuals_depth12.png", f"skip (solid) vs sublayer (dashed) {when}"
    )


def attention(out: Path, steps: int) -> None:
    """Cross-attention of the last decoder layer of a model trained on the copy task."""
    sys.path.insert(0, str(Path(__file__).parent))
    copy_task = importlib.import_module("03_copy_task")
    model, losses = copy_task.train(steps=steps)
    src = copy_task.copy_batch(np.random.default_rng(123), 1)
    decoded = copy_task.greedy_decode(model, src)
    model(src, decoded[:, :-1])  # fills every attention module's last_attention
    weights = model.decoder.layers[-1].cross_attn.last_attention[0]
    keys = [str(t) for t in src[0]]
    queries = [str(t) for t in decoded[0, :-1]]
    title = "decoder.layers.1.cross_attn: output so far (rows) attends to the source (columns)"
    viz.attention_heatmap(weights, keys, queries, path=out / "viz_attention.png", columns=2,
                          title=title)  # fmt: skip
    print(f"copy task: {steps} steps, final loss {np.mean(losses[-20:]):.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/visualize",
                        help="where to write the pictures (default: runs/visualize)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=300,
                        help="copy-task training steps (default: 300)")  # fmt: skip
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    micrograd_expression(out)
    encoder_layer(out)
    toy_model(out)
    depth_12(out)
    attention(out, args.steps)
    print(f"pictures written to {out}/")


if __name__ == "__main__":
    main()
