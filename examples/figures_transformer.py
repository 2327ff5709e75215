"""Draw the figures of docs/transformer.md (matplotlib, no display needed).

    python examples/figures_transformer.py            # into runs/figures_transformer/
    python examples/figures_transformer.py --out docs/figures   # regenerates the docs' figures

About a minute: it trains two copy models.

transformer_sinusoidal.png   the sinusoidal position table (§3.5)
transformer_masks.png        a causal mask, a padding mask and their combination
transformer_alibi.png        ALiBi's per-head distance penalties
transformer_copy_loss.png    copy-task training loss, post-norm vs pre-norm
transformer_copy_attention.png  what a trained copy model attends to
"""

import argparse
import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from transformer import ALiBi, causal_mask, padding_mask, target_mask  # noqa: E402
from transformer.model.positional import sinusoid_table  # noqa: E402

HERE = Path(__file__).parent


def load_copy_task():
    """The copy-task example module (its file name starts with a digit)."""
    spec = importlib.util.spec_from_file_location("copy_task", HERE / "03_copy_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sinusoidal_figure(path: Path) -> None:
    table = sinusoid_table(100, 64)
    fig, (ax, lines) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    image = ax.imshow(table, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
    ax.set(xlabel="dimension", ylabel="position", title="PE(pos, i): sin on even i, cos on odd i")
    fig.colorbar(image, ax=ax)
    for i in (0, 2, 8, 20):
        lines.plot(table[:, i], label=f"dimension {i}")
    lines.set(xlabel="position", title="each dimension pair is a clock of its own frequency")
    lines.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def masks_figure(path: Path) -> None:
    tgt = np.array([[1, 7, 4, 9, 3, 2, 0, 0]])
    padding = np.broadcast_to(padding_mask(tgt, 0)[0, 0], (8, 8))
    panels = [
        (causal_mask(8)[0, 0], "causal_mask(8)\nquery i sees keys j <= i"),
        (padding, "padding_mask(ids, pad)\nno query sees a <pad> key"),
        (target_mask(tgt, 0)[0, 0], "target_mask(ids, pad)\ncausal AND padding"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.3), layout="constrained")
    for ax, (mask, title) in zip(axes, panels, strict=True):
        ax.imshow(mask, cmap="Greens", vmin=0, vmax=1.3)
        ax.set(title=title, xlabel="key position", ylabel="query position")
    fig.suptitle("Masks for a target [1 7 4 9 3 2 <pad> <pad>]: green = may attend (True)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def alibi_figure(path: Path) -> None:
    alibi = ALiBi(8)
    bias = alibi.bias(16, 16, np.float64).data[0]
    fig, (ax, lines) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    image = ax.imshow(bias[0], cmap="magma")
    ax.set(title=f"head 0 (slope {alibi.slopes[0]:g}): bias of query i, key j",
           xlabel="key j", ylabel="query i")  # fmt: skip
    fig.colorbar(image, ax=ax)
    for h in range(8):
        lines.plot(bias[h, 15], marker=".", label=f"head {h}: slope 1/{1 / alibi.slopes[h]:g}")
    lines.set(title="bias of the last query (i = 15): each head has its own reach",
              xlabel="key j", ylabel="-slope * |i - j|")  # fmt: skip
    lines.legend(fontsize=7)
    fig.suptitle("ALiBi adds -slope * |i - j| to the attention scores (8 heads)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def copy_figures(loss_path: Path, attention_path: Path, steps: int) -> None:
    copy_task = load_copy_task()
    models, curves = {}, {}
    for name, norm_first in (("post-norm", False), ("pre-norm", True)):
        models[name], curves[name] = copy_task.train(norm_first=norm_first, steps=steps)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in curves.items():
        smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
        ax.plot(smooth, label=name)
    ax.set(yscale="log", xlabel="step", ylabel="cross-entropy (10-step mean)",
           title="Copy task, 2+2 layers, d_model 64")  # fmt: skip
    ax.legend()
    fig.tight_layout()
    fig.savefig(loss_path, dpi=110)
    plt.close(fig)

    model = models["post-norm"]
    src = copy_task.copy_batch(np.random.default_rng(7), 1)
    out = copy_task.greedy_decode(model, src)
    model(src, out[:, :-1])  # teacher-forced pass over the decoded output to record attention
    encoder_self = model.encoder.layers[-1].self_attn.last_attention[0]
    cross = model.decoder.layers[-1].cross_attn.last_attention[0]
    fig, axes = plt.subplots(2, 4, figsize=(13, 7.2), layout="constrained")
    for h in range(4):
        panels = [(axes[0, h], encoder_self[h], "encoder self-attn", src[0], src[0]),
                  (axes[1, h], cross[h], "decoder cross-attn", src[0], out[0, :-1])]  # fmt: skip
        for ax, weights, kind, keys, queries in panels:
            ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
            ax.set_title(f"{kind}, head {h}", fontsize=9)
            ax.set_xticks(range(len(keys)), keys, fontsize=7)
            ax.set_yticks(range(len(queries)), queries, fontsize=7)
    fig.supxlabel("key: source token")
    fig.supylabel("query: token being read (encoder) / decoder input (decoder)")
    fig.suptitle("Trained copy model, last layers: decoder step t looks at source position t+1")
    fig.savefig(attention_path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/figures_transformer"),
        help="where to write the figures (default: runs/figures_transformer)",
    )
    parser.add_argument(
        "--steps", type=int, default=600, help="copy-task training steps (default: 600)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sinusoidal_figure(args.out / "transformer_sinusoidal.png")
    masks_figure(args.out / "transformer_masks.png")
    alibi_figure(args.out / "transformer_alibi.png")
    copy_figures(
        args.out / "transformer_copy_loss.png", args.out / "transformer_copy_attention.png",
        args.steps,
    )  # fmt: skip
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
