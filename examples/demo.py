"""`make demo`: train a Transformer to translate English number words into German, on the CPU.

    python examples/demo.py                      # up to 2 minutes of training, then the test scores
    python examples/demo.py --time-budget 60     # shorter
    python examples/demo.py --quick              # a tiny run in seconds (used by the tests)

"four hundred and thirty two" -> "vierhundertzweiunddreißig": German reorders the digits
("two-and-thirty") and writes the whole number as one word, which the target tokenizer splits
into morphemes (vier|hundert|zwei|und|dreißig). The model is the paper's architecture at toy
size (2+2 layers, d_model 128, 4 heads, d_ff 512, pre-norm), trained with Adam, the Noam
schedule and label smoothing for a fixed wall-clock budget of training steps (validation and
the test are not counted). Then it translates the 1,000 test numbers, which never occur in
training, prints exact match and chrF with ten sample translations, draws the loss curves and
one training step's computation graph with its gradient flow, and ends by naming the report
page that shows all of it (`python -m transformer report`).

Threads: minigrad picks them per operation, by its size and by the cores other programs leave
free (`minigrad.threads`), so the demo keeps its speed when a browser takes a core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import minigrad
from minigrad.allocator import reuse_freed_memory
from transformer.checkpoint import load_checkpoint
from transformer.evaluation import evaluate, format_scores
from transformer.report import write_report
from transformer.train_config import TrainConfig
from transformer.training import Trainer

QUICK = dict(
    data_options={"num_train": 300, "num_valid": 20, "num_test": 20, "max_digits": 3},
    d_model=32, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=64, warmup=20,
    patience=0,
)  # fmt: skip


def demo_config(time_budget: float, quick: bool, seed: int) -> TrainConfig:
    """The demo's settings: TrainConfig's defaults (chosen for this task) and a time budget."""
    settings = dict(time_budget=time_budget, epochs=1000, patience=3, seed=seed)
    return TrainConfig(**{**settings, **(QUICK if quick else {})})


def spread(items: list, n: int) -> list:
    """`n` items evenly spaced through `items` (all of them if there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def show_samples(result, n: int = 10) -> None:
    """Ten test translations from short to long numbers, and the mistakes, if any."""
    samples = sorted(result.samples(len(result.pairs)), key=lambda s: len(s[0]))
    print(f"\n{n} sample translations (test numbers, never seen in training):")
    for src, ref, hyp in spread(samples, n):
        print(f"  {'ok   ' if hyp == ref else 'WRONG'} {src:<62} -> {hyp}")
    wrong = [s for s in samples if s[2] != s[1]]
    if wrong:
        print(f"\n{len(wrong)} wrong translation(s), the first {min(5, len(wrong))}:")
        for src, ref, hyp in wrong[:5]:
            print(f"  {src}\n      got      {hyp}\n      expected {ref}")


def draw_gradient_flow(checkpoint: Path, out: Path) -> str:
    """Graph, gradient flow and attention maps of one training step (issue: visualisation)."""
    try:
        from transformer import visualize
    except ImportError:
        return "skipped (transformer.visualize is not available)"
    model, src_tok, tgt_tok, _ = load_checkpoint(checkpoint)
    sentence = "four hundred and thirty two thousand one hundred and five"
    try:
        files = visualize.visualize(model, src_tok, tgt_tok, sentence, out)
    except Exception as error:  # a missing `dot` program must not spoil the demo's results
        return f"not drawn ({type(error).__name__}: {error})"
    return ", ".join(sorted(k for k in files if not k.startswith("attention/"))) + ", attention/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-budget", type=float, default=120.0,
                        help="seconds of training steps (default 120)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("demo_output"), help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole run (default 0)")
    parser.add_argument("--quick", action="store_true", help="tiny model and data, for tests")
    args = parser.parse_args(argv)
    if args.quick and args.time_budget == parser.get_default("time_budget"):
        args.time_budget = 3.0
    config = demo_config(args.time_budget, args.quick, args.seed)
    reuse_freed_memory()  # fewer page faults per step: see minigrad.allocator

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"English -> German numbers: {args.time_budget:.0f} s of training on "
          f"{cores} CPU core(s) ({minigrad.get_num_threads()} free now), "
          "then the test set\n")  # fmt: skip
    started = time.perf_counter()
    trainer = Trainer(config, args.out, overwrite=True, progress_bar=sys.stderr.isatty())
    summary = trainer.train()
    steps, seconds = summary["steps"], summary["train_seconds"]
    print(f"trained {steps} steps ({summary['epochs']:.1f} epochs) in {seconds:.0f} s "
          f"({summary['stopped']})")  # fmt: skip
    if summary["stopped"] == "interrupted":
        print(f"interrupted: no test scores; the model so far is in {summary['last_checkpoint']}")
        return 130

    best = Path(summary["best_checkpoint"])
    model, src_tok, tgt_tok, _ = load_checkpoint(best)
    t0 = time.perf_counter()
    result = evaluate(model, src_tok, tgt_tok, trainer.splits.test)
    decode_seconds = time.perf_counter() - t0
    scores = result.scores
    print(
        f"\nTEST: exact match {100 * scores['exact_match']:.1f}%, chrF {scores['chrf']:.1f} "
        f"on {len(result.pairs)} numbers (greedy decoding took {decode_seconds:.1f} s)"
    )
    print(f"  all scores: {format_scores(scores)}")  # fmt: skip
    show_samples(result)

    viz = draw_gradient_flow(best, args.out / "viz")
    trainer.log.write("test", step=steps, train_seconds=seconds, **scores)
    print(f"\nwritten to {args.out}/ (after {time.perf_counter() - started:.0f} s in all):")
    print(f"  best.ckpt, last.ckpt   checkpoints (translate with: python -m transformer "
          f"translate --checkpoint {best} \"forty two\")")  # fmt: skip
    print("  log.jsonl              every metric, one JSON object per line")
    print("  curves.png             loss and learning-rate curves")
    print(f"  viz/                   one training step: {viz}")
    print(f"\nthe whole run on one page (open it in a browser): {write_report(args.out)}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # the second Ctrl-C
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
