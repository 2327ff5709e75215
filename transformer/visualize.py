"""``python -m transformer viz``: look inside one training step of a trained Transformer.

For one sentence pair it runs the forward pass, the loss and the backward pass (no weight
update; dropout off, so the pictures are reproducible) through `minigrad.viz`, and writes:

    graph.svg / graph.png (+ graph.gv)   the computation graph, modules folded to fit a screen,
                                         every edge coloured by the gradient flowing back on it
                                         (without graphviz's `dot`: graph.gv only, and a warning)
    gradient_flow.txt / .png             gradient norm per parameter and per layer
    residuals.txt / .png                 per residual block: gradient via skip vs via sublayer
    attention/<module>.png               every attention module's weights, one panel per head,
                                         with the tokens on the axes

Without ``--target`` the pair is the sentence and the model's own greedy translation.
This file holds the Transformer-specific parts (which tokens label which attention axes);
everything generic lives in `minigrad.viz`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import minigrad.nn.functional as F
from minigrad import Tensor, viz
from minigrad.viz import paths
from transformer.cli import option_type
from transformer.data.tokenizers.base import BOS_ID, EOS_ID, PAD_ID
from transformer.decoding import greedy_decode
from transformer.model.attention import MultiHeadAttention
from transformer.model.masks import padding_mask
from transformer.train_config import at_least


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``viz`` sub-command's options."""
    parser.add_argument("--checkpoint", required=True, help="checkpoint file written by train")
    parser.add_argument("--sentence", required=True, help="source sentence to look at")
    parser.add_argument("--target", help="reference translation (default: the model's own)")
    positive = option_type("int", at_least(1))
    parser.add_argument("--out", default="runs/viz", help="output directory (default: runs/viz)")
    parser.add_argument("--depth", type=positive, help="fold modules this many levels down")
    parser.add_argument("--expand", nargs="*", default=[],
                        help="module paths to draw open, e.g. encoder.layers.0 (* matches one "
                             "part: decoder.layers.*.cross_attn)")  # fmt: skip
    parser.add_argument(
        "--max-nodes",
        type=positive,
        default=40,
        help="fold modules until the graph has at most this many nodes (default: 40)",
    )


def _labels(tokenizer, ids) -> list[str]:
    return [tokenizer.tokens[i] for i in ids]


def _attention_axes(path: str, src: list[str], tgt: list[str]) -> tuple[list[str], list[str]]:
    """(query labels, key labels) of an attention module, from where it sits in the model."""
    if "cross_attn" in path:
        return tgt, src
    return (src, src) if path.startswith("encoder") else (tgt, tgt)


def attention_maps(model, src_tokens, tgt_tokens, out_dir: Path) -> list[Path]:
    """One PNG per attention module (heads side by side) from its ``last_attention``."""
    written = []
    for path, module in model.named_modules():
        if not isinstance(module, MultiHeadAttention) or module.last_attention is None:
            continue
        queries, keys = _attention_axes(path, src_tokens, tgt_tokens)
        file = out_dir / f"{path}.png"
        viz.attention_heatmap(module.last_attention[0], keys, queries, path=file, title=path)
        written.append(file)
    return written


def training_step(model, src_ids: list[int], tgt_ids: list[int]):
    """Forward, loss and an instrumented backward (dropout off, no update): (loss, Trace)."""
    src = np.array([src_ids], dtype=np.int64)
    tgt_in = np.array([[BOS_ID, *tgt_ids]], dtype=np.int64)
    tgt_out = np.array([*tgt_ids, EOS_ID], dtype=np.int64)
    model.eval()
    model.zero_grad()
    logits = model(Tensor(src), Tensor(tgt_in), padding_mask(src, PAD_ID))
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out, ignore_index=PAD_ID)
    return loss, viz.trace_backward(loss, model=model)


def write_reports(model, trace, out: Path) -> dict[str, Path]:
    """The gradient-flow and residual reports (text and PNG) of the step just traced."""
    names = ("gradient_flow.txt", "gradient_flow.png", "residuals.txt", "residuals.png")
    files = {name: out / name for name in names}
    flow = viz.gradient_flow(model)
    files["gradient_flow.txt"].write_text(flow.table() + "\n")
    flow.plot(files["gradient_flow.png"], title="gradient norm per layer, one step")
    files["residuals.txt"].write_text(viz.residual_report(trace) + "\n")
    viz.plot_residuals(trace, files["residuals.png"])
    return files


def visualize(model, src_tokenizer, tgt_tokenizer, sentence: str, out_dir, target=None,
              depth=None, expand=(), max_nodes=40) -> dict[str, Path]:  # fmt: skip
    """Run one training step on (sentence, target) and write the pictures and reports listed
    in the module docstring to ``out_dir``; returns {file name: path}. ``model`` keeps the
    step's gradients (call ``zero_grad`` before training on)."""
    modules = [name for name, _ in model.named_modules() if name]
    for pattern in expand:
        if not any(paths.matches(pattern, name) for name in modules):
            raise ValueError(
                f"viz: expand {pattern!r} names no module of the model (such as "
                f"{', '.join(modules[:3])}, ...)"
            )
    src_ids = src_tokenizer.encode(sentence)
    if not src_ids:
        raise ValueError(f"viz: the sentence {sentence!r} has no tokens")
    out = Path(out_dir)
    (out / "attention").mkdir(parents=True, exist_ok=True)
    if target is None:
        target_ids = greedy_decode(model, np.array([src_ids], dtype=np.int64))[0]
    else:
        target_ids = tgt_tokenizer.encode(target)
    loss, trace = training_step(model, src_ids, target_ids)

    title = f"{sentence!r} -> {tgt_tokenizer.decode(target_ids)!r}  (loss {loss.item():.3f})"
    graph = viz.draw(trace, depth=depth, expand=list(expand), max_nodes=max_nodes, title=title)
    files = {"graph.gv": graph.write(out / "graph.gv")}
    try:
        files.update({f"graph.{fmt}": graph.write(out / f"graph.{fmt}") for fmt in ("svg", "png")})
    except viz.GraphvizNotFoundError as error:  # the reports below need no graphviz
        print(f"warning: {error}", file=sys.stderr)
    files.update(write_reports(model, trace, out))
    src_tokens = _labels(src_tokenizer, src_ids)
    tgt_tokens = _labels(tgt_tokenizer, [BOS_ID, *target_ids])
    for file in attention_maps(model, src_tokens, tgt_tokens, out / "attention"):
        files[f"attention/{file.name}"] = file
    return files


def run(args: argparse.Namespace) -> int:
    """Load the checkpoint named in ``args`` and write the visualisations."""
    from transformer.checkpoint import load_checkpoint

    model, src_tokenizer, tgt_tokenizer, _ = load_checkpoint(args.checkpoint)
    files = visualize(model, src_tokenizer, tgt_tokenizer, args.sentence, args.out,
                      args.target, args.depth, args.expand, args.max_nodes)  # fmt: skip
    print(Path(files["residuals.txt"]).read_text(), end="")
    print(f"wrote {len(files)} files to {args.out}/")
    return 0


def main(argv=None) -> int:
    """Stand-alone entry point: ``python -m transformer.visualize --checkpoint ...`` is
    ``python -m transformer viz ...`` (and ends as the command line does on bad input)."""
    from transformer.cli import main as cli_main

    return cli_main(["viz", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
