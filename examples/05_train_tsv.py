"""Train on your own tab-separated sentence pairs (Tatoeba / manythings.org format) and measure
test BLEU after several training times.

    python examples/05_train_tsv.py deu.txt                      # 2, 5 and 10 minutes
    python examples/05_train_tsv.py deu.txt --minutes 1 3 --out runs/deu

The file has one pair per line, `english<TAB>german[<TAB>attribution]` (download e.g. `deu.txt`
from https://www.manythings.org/anki/). The recipe is docs/translation.md's: lowercase and split
punctuation, shuffle with a fixed seed and hold out 1,000 test and 500 validation pairs, word
vocabularies of the words seen at least twice, 3+3 layers, d_model 128, 4 heads, d_ff 512,
dropout 0.1, label smoothing 0.1, batch 64, Adam with the Noam schedule (warmup 1000, the
paper's factor 1: peak lr = 1/sqrt(128 * 1000)), greedy decoding, and the paper's weight tying
(§3.4: the output layer shares the German embedding matrix), which measured +1 to +2 BLEU here.

Training runs in stages: after each time mark (minutes of training steps, validation not
counted) the run stops, the test split is translated and scored, and training resumes from the
checkpoint, which continues exactly as an uninterrupted run would. Two models are scored at each
mark: `best.ckpt`, the one with the best validation BLEU so far (what `python -m transformer
evaluate --checkpoint OUT/best.ckpt` scores, and the headline figure), and the model as it is at
that moment (`last`). The scores go to `OUT/bleu_by_minute.json` and a plot
`OUT/bleu_by_minute.png`.

Ctrl-C stops training after the current step and saves `OUT/last.ckpt`; the marks reached
before it are scored and written, the interrupted one is not (press Ctrl-C twice to quit at
once).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from transformer.checkpoint import load_checkpoint
from transformer.cli import option_type
from transformer.evaluation import evaluate, format_scores
from transformer.train_config import TrainConfig
from transformer.training import Trainer


def tatoeba_config(path: Path, minutes: float) -> TrainConfig:
    """The recipe of the module docstring for the pairs in `path`."""
    return TrainConfig(
        data=str(path), data_options={"num_test": 1000, "num_valid": 500},
        src_tokenizer="word", tgt_tokenizer="word", min_freq=2,
        num_encoder_layers=3, num_decoder_layers=3, d_model=128, num_heads=4, d_ff=512,
        tie_embeddings=True,
        lr=1 / math.sqrt(128 * 1000), warmup=1000, epochs=1000, patience=0,
        time_budget=60 * minutes, monitor="bleu",
    )  # fmt: skip


# PyTorch reference of the translation issue (same recipe, 2-core CPU): minutes -> test BLEU
PYTORCH_REFERENCE = {2: 20.8, 5: 33.7, 10: 38.0}


def plot(points: list[dict], out: Path) -> None:
    """Test BLEU against minutes of training, with the PyTorch reference for comparison."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    minutes = [p["minutes"] for p in points]
    ax.plot(minutes, [p["bleu"] for p in points], "o-", label="minigrad, best.ckpt")
    ax.plot(minutes, [p["last"]["bleu"] for p in points], "o:", label="minigrad, last model")
    reference = sorted(PYTORCH_REFERENCE.items())
    ax.plot(*zip(*reference, strict=True), "s--", color="gray", label="PyTorch (reference)")
    ax.set_xlabel("minutes of training (2 CPU cores)")
    ax.set_ylabel("test BLEU (sacrebleu)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Train in stages, score the test split at each time mark; 130 if interrupted, 1 if the
    training diverged."""
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("pairs", type=Path, help="tab-separated file of sentence pairs")
    minutes = option_type("float", lambda m: None if m > 0 else f"must be > 0, got {m}")
    parser.add_argument("--minutes", type=minutes, nargs="+", default=[2, 5, 10],
                        help="time marks: minutes of training steps (default: 2 5 10)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("runs/tsv"),
                        help="output directory (default: runs/tsv)")  # fmt: skip
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)

    points = []
    trainer = None
    status = 0  # 130: interrupted (Ctrl-C), 1: training diverged
    for minutes in sorted(args.minutes):
        if trainer is None:
            config = tatoeba_config(args.pairs, minutes)
            trainer = Trainer(config, args.out, overwrite=True, progress_bar=args.progress)
        else:
            trainer = Trainer.resume(args.out / "last.ckpt",
                                     overrides={"time_budget": 60 * minutes},
                                     progress_bar=args.progress)  # fmt: skip
        summary = trainer.train()
        if summary["stopped"] in ("interrupted", "diverged"):
            print(f"{summary['stopped']} before the {minutes:g}-minute mark (step "
                  f"{summary['steps']}): not scored; the last good model is in "
                  f"{args.out / 'last.ckpt'}")  # fmt: skip
            status = 130 if summary["stopped"] == "interrupted" else 1
            break
        last = evaluate(trainer.model, trainer.src_tokenizer, trainer.tgt_tokenizer,
                        trainer.splits.test, teacher_forcing=False)  # fmt: skip
        model, src_tokenizer, tgt_tokenizer, _ = load_checkpoint(args.out / "best.ckpt")
        result = evaluate(model, src_tokenizer, tgt_tokenizer, trainer.splits.test,
                          teacher_forcing=False)  # fmt: skip
        point = {"minutes": minutes, "steps": summary["steps"], "best_step": summary["best_step"],
                 **result.scores, "last": last.scores}  # fmt: skip
        points.append(point)
        print(f"after {minutes:g} min ({summary['steps']} steps): test, best.ckpt (step "
              f"{summary['best_step']}): {format_scores(result.scores)}; last model: "
              f"{format_scores(last.scores)}")  # fmt: skip
        for src, ref, hyp in result.samples(3):
            print(f"   {src}  ->  {hyp}   (reference: {ref})")
    if points:
        (args.out / "bleu_by_minute.json").write_text(json.dumps(points, indent=1) + "\n")
        plot(points, args.out / "bleu_by_minute.png")
        print(f"wrote {args.out / 'bleu_by_minute.json'} and {args.out / 'bleu_by_minute.png'}")
    return status


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # the second Ctrl-C
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
