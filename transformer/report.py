"""``python -m transformer report RUN_DIR``: one self-contained HTML page about a training run.

The page (``RUN_DIR/report.html``; ``train`` writes it at the end of every run) holds:

* the run's settings (``config.json``),
* the loss and learning-rate curves and the validation metrics of every epoch (``log.jsonl``),
* sample translations of validation sentences with their references (the best checkpoint),
* one training step of the first sample seen through `minigrad.viz`: the attention maps of
  every attention module, the gradient flow per layer, the residual report and the graph.

Everything is inline (SVG, data: images, one style sheet, no script), and a Content Security
Policy forbids the page to load anything, so it opens offline, can be mailed, and a missing piece
shows as an error in the browser's console rather than as a silent gap. Parts that cannot be
made (no checkpoint yet, data no longer there, no graphviz ``dot``) are replaced by a note.
"""

from __future__ import annotations

import argparse
import html
import io
import json
from pathlib import Path
from typing import Any

from minigrad import viz
from transformer.train_log import curves_figure, read_log

SAMPLES = 8
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: 2px 10px;
  border-bottom: 1px solid #eee; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.ok { color: #2a7d2a; } .bad { color: #c0392b; } .note { color: #777; font-style: italic; }
figure { margin: 1em 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
details { margin: .4em 0; } summary { cursor: pointer; }
"""


def _svg(fig) -> str:
    """A matplotlib Figure as inline SVG (text as paths: no font is needed)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    return _inline(buffer.getvalue())


def _inline(svg: str) -> str:
    """An SVG document as an element to put in HTML (without its XML prolog and doctype)."""
    return svg[svg.index("<svg") :]


def _table(header: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for k, row in enumerate(rows):
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row))
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _metrics(records: list[dict]) -> str:
    valid = [r for r in records if r["kind"] == "valid"]
    if not valid:
        return _note("no validation yet")
    keys = [k for k in ("loss", "perplexity", "token_accuracy", "bleu", "chrf", "exact_match")
            if k in valid[0]]  # fmt: skip
    rows = [[r.get("epoch", ""), r["step"], *(_number(r.get(k, "")) for k in keys)] for r in valid]
    return _table(["epoch", "step", *keys], rows)


def _samples(model, src_tok, tgt_tok, pairs) -> str:
    from transformer.decoding import translate

    hypotheses = translate(model, src_tok, tgt_tok, [p.src for p in pairs])
    rows = [[p.src, h, p.tgt] for p, h in zip(pairs, hypotheses, strict=True)]
    marks = ["ok" if h.strip() == p.tgt.strip() else "bad" for p, h in zip(pairs, hypotheses,
                                                                          strict=True)]  # fmt: skip
    return _table(["source", "translation (greedy)", "reference"], rows, marks)


def _one_step(model, src_tok, tgt_tok, pair) -> list[str]:
    """Attention maps, gradient flow, residuals and graph of one training step on ``pair``."""
    from transformer.data.tokenizers.base import BOS_ID
    from transformer.model.attention import MultiHeadAttention
    from transformer.visualize import _attention_axes, training_step

    src_ids, tgt_ids = src_tok.encode(pair.src), tgt_tok.encode(pair.tgt)
    loss, trace = training_step(model, src_ids, tgt_ids)
    src = [src_tok.tokens[i] for i in src_ids]
    tgt = [tgt_tok.tokens[i] for i in [BOS_ID, *tgt_ids]]
    parts = [f"<h2>Attention maps</h2><p>{html.escape(pair.src)} &rarr; "
             f"{html.escape(pair.tgt)} (loss {loss.item():.3f})</p>"]  # fmt: skip
    attention = [(path, m) for path, m in model.named_modules()
                 if isinstance(m, MultiHeadAttention) and m.last_attention is not None]  # fmt: skip
    for k, (path, module) in enumerate(attention):
        queries, keys = _attention_axes(path, src, tgt)
        fig = viz.attention_heatmap(module.last_attention[0], keys, queries, title=path)
        parts.append(f"<details{' open' if k == 0 else ''}><summary>{html.escape(path)}"
                     f"</summary><figure>{_svg(fig)}</figure></details>")  # fmt: skip
    flow = viz.gradient_flow(model)
    parts.append("<h2>Gradient flow</h2><figure>"
                 + _svg(flow.plot(title="gradient norm per layer, one step")) + "</figure>"
                 + flow._repr_html_())  # fmt: skip
    parts.append("<h2>Residual connections</h2>")
    if trace.residuals:
        report = viz.residual_report(trace)
        parts.append(f"<figure>{_svg(viz.plot_residuals(trace))}</figure>{report._repr_html_()}")
    else:
        parts.append(_note("no residual blocks found"))
    parts.append('<h2>The graph of that step</h2><figure id="graph">')
    try:
        parts.append(_inline(viz.draw(trace).pipe(format="svg", encoding="utf-8")))
    except Exception as error:  # no `dot`: say so, keep the rest of the page
        parts.append(_note(f"graph not drawn ({type(error).__name__}): install graphviz"))
    parts.append("</figure>")
    return parts


def _checkpoint(run_dir: Path) -> Path | None:
    return next((run_dir / n for n in ("best.ckpt", "last.ckpt") if (run_dir / n).is_file()), None)


def build_report(run_dir: str | Path) -> str:
    """The HTML text of the report of the run in ``run_dir`` (see the module docstring)."""
    run_dir = Path(run_dir)
    log = run_dir / "log.jsonl"
    if not log.is_file():
        raise FileNotFoundError(f"report: {run_dir} holds no log.jsonl; is it a training run?")
    records = read_log(log)
    config_file = run_dir / "config.json"
    settings = json.loads(config_file.read_text()) if config_file.is_file() else {}
    parts = [f"<h1>Training run {html.escape(str(run_dir))}</h1>"]
    summary = next((r for r in reversed(records) if r["kind"] == "summary"), None)
    if summary:
        parts.append(f"<p>stopped after {summary['steps']} steps ({summary['stopped']}), "
                     f"{summary['train_seconds']:.0f} s of training</p>")  # fmt: skip
    parts.append("<h2>Settings</h2>")
    parts.append(_table(["setting", "value"], [[k, json.dumps(v)] for k, v in settings.items()]))
    parts.append(f'<h2>Loss and learning rate</h2><figure id="curves">'
                 f"{_svg(curves_figure(records))}</figure>")  # fmt: skip
    parts.append("<h2>Validation metrics per epoch</h2>" + _metrics(records))
    checkpoint = _checkpoint(run_dir)
    parts.append("<h2>Sample translations</h2>")
    if checkpoint is None:
        parts.append(_note("no checkpoint yet: no translations, attention maps or graph"))
        return _page(run_dir, parts)
    from transformer.checkpoint import load_checkpoint
    from transformer.training import load_splits

    model, src_tok, tgt_tok, config = load_checkpoint(checkpoint)
    try:
        pairs = load_splits(config).valid[:SAMPLES]
    except Exception as error:  # data moved away since training
        parts.append(_note(f"validation data not available ({error})"))
        return _page(run_dir, parts)
    parts.append(f"<p>from {html.escape(checkpoint.name)}, the first {len(pairs)} validation "
                 "pairs</p>" + _samples(model, src_tok, tgt_tok, pairs))  # fmt: skip
    parts += _one_step(model, src_tok, tgt_tok, pairs[0])
    return _page(run_dir, parts)


def _page(run_dir: Path, parts: list[str]) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Training report: {html.escape(run_dir.name)}</title>"
        f"<style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>\n"
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of the run in ``run_dir`` to ``out`` (default RUN_DIR/report.html)."""
    out = Path(out) if out is not None else Path(run_dir) / "report.html"
    out.write_text(build_report(run_dir), encoding="utf-8")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``report`` sub-command's options."""
    parser.add_argument("run_dir", help="folder of a training run (holds log.jsonl)")
    parser.add_argument("--out", help="HTML file to write (default: RUN_DIR/report.html)")


def run(args: argparse.Namespace) -> int:
    """Write the report and say where."""
    print(f"report: {write_report(args.run_dir, args.out)}")
    return 0
