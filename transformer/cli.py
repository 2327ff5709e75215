"""The command line: ``python -m transformer train | translate | evaluate | viz``.

    python -m transformer train --out runs/numbers                 # English -> German numbers
    python -m transformer train --data deu.txt --src-tokenizer word --tgt-tokenizer word ...
    python -m transformer train --resume runs/numbers/last.ckpt --epochs 30
    python -m transformer translate --checkpoint runs/numbers/best.ckpt "four hundred and two"
    python -m transformer translate --checkpoint ... --file sentences.txt --beam-size 4
    python -m transformer evaluate --checkpoint runs/numbers/best.ckpt        # its test split
    python -m transformer viz --checkpoint ... --sentence "twelve" --out viz

The `train` options are generated from `transformer.config.TrainConfig` (one option per field,
with its help text), so the command line and the Python API never disagree. Mistakes in data
files, checkpoints or options end with a one-line ``error: ...`` naming the file (and line) and
exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any

from minigrad.serialization import CheckpointError
from transformer.config import TrainConfig
from transformer.data import DataError, Pair, normalize, read_aligned, read_lines, read_tsv
from transformer.data.registry import DATASETS

_TYPES = {"int": int, "float": float, "str": str}


# ---- train --------------------------------------------------------------------------------------
def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per `TrainConfig` field (default None = "not given", so --resume can tell)."""
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "data_options":
            parser.add_argument(
                "--data-option",
                dest="data_options",
                action="append",
                metavar="KEY=VALUE",
                help="an option of the dataset loader, e.g. num_train=5000 (repeatable)",
            )
        elif f.type == "bool":
            help_text = f"{f.metadata['help']} (default: {f.default})"
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            help_text = f"{f.metadata['help']} (default: {f.default})"
            parser.add_argument(flag, type=_TYPES[f.type.split(" | ")[0]], help=help_text)


def _parse_data_options(items: list[str]) -> dict[str, Any]:
    """`["num_train=5000", "lowercase=false"]` -> {"num_train": 5000, "lowercase": False}."""
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--data-option expects KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The `TrainConfig` settings given on the command line."""
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    given = {k: v for k, v in given.items() if v is not None}
    if "data_options" in given:
        given["data_options"] = _parse_data_options(given["data_options"])
    return given


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or resume) and print where everything was written."""
    from transformer.training import Trainer

    settings = _given_settings(args)
    common = dict(progress_bar=not args.no_progress)
    if args.resume:
        trainer = Trainer.resume(args.resume, args.out, overrides=settings, **common)
    else:
        config = TrainConfig(**settings)
        trainer = Trainer(config, args.out or "runs/train", overwrite=args.overwrite, **common)
    summary = trainer.train()
    print(
        f"stopped after {summary['steps']} steps ({summary['stopped']}), "
        f"{summary['train_seconds']:.0f} s of training"
    )
    for key in ("best_checkpoint", "last_checkpoint", "log", "plot"):
        print(f"  {key.replace('_', ' ')}: {summary[key]}")
    return 130 if summary["stopped"] == "interrupted" else 0


# ---- translate and evaluate ---------------------------------------------------------------------
def input_normalizer(config: TrainConfig):
    """Clean user text the way the training data was cleaned (see docs/translation.md).

    Number datasets: lowercase, drop commas, hyphens to spaces ("Forty-two" -> "forty two").
    File corpora: `transformer.data.normalize` with the run's lowercase/punctuation options.
    Other generated tasks: unchanged.
    """
    if config.data.startswith("numbers-"):
        return lambda text: " ".join(text.lower().replace(",", " ").replace("-", " ").split())
    if config.data in DATASETS:
        return lambda text: text
    lowercase = config.data_options.get("lowercase", True)
    punctuation = config.data_options.get("punctuation", True)
    return lambda text: normalize(text, lowercase, punctuation)


def _decoding_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="checkpoint file written by train")
    parser.add_argument("--beam-size", type=int, default=1, help="1: greedy (default)")
    parser.add_argument(
        "--length-penalty", type=float, default=0.6, help="beam search alpha (default 0.6)"
    )
    parser.add_argument("--max-len", type=int, help="longest translation in tokens")
    parser.add_argument("--batch-size", type=int, default=128, help="sentences decoded at once")


def _decoding_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The decoding options of translate/evaluate as keyword arguments."""
    return dict(
        beam_size=args.beam_size,
        alpha=args.length_penalty,
        max_len=args.max_len,
        batch_size=args.batch_size,
    )


def _read_sentences(args: argparse.Namespace) -> list[str]:
    """Sentences from the arguments, a file, or stdin (one per line)."""
    if args.sentences and args.file:
        raise ValueError("give sentences as arguments or --file, not both")
    if args.sentences:
        return list(args.sentences)
    if args.file:
        return read_lines(args.file)
    if sys.stdin.isatty():
        print("reading sentences from stdin, one per line (Ctrl-D to finish)", file=sys.stderr)
    return [line.rstrip("\r\n") for line in sys.stdin]


def cmd_translate(args: argparse.Namespace) -> int:
    """Print one translation per input sentence."""
    from transformer.checkpoint import load_checkpoint
    from transformer.decoding import translate

    model, src_tok, tgt_tok, config = load_checkpoint(args.checkpoint)
    clean = input_normalizer(config)
    sentences = [clean(s) for s in _read_sentences(args)]
    for line in translate(model, src_tok, tgt_tok, sentences, **_decoding_kwargs(args)):
        print(line)
    return 0


def _evaluation_pairs(args: argparse.Namespace, config: TrainConfig) -> tuple[list[Pair], str]:
    """The pairs to evaluate on, and a name for them."""
    if args.pairs:
        clean = input_normalizer(config)
        pairs = [Pair(clean(s), clean(t)) for s, t in read_tsv(args.pairs)]
        return pairs, str(args.pairs)
    if args.src or args.ref:
        if not (args.src and args.ref):
            raise ValueError("--src and --ref go together: the source file and its references")
        clean = input_normalizer(config)
        pairs = [Pair(clean(s), clean(t)) for s, t in read_aligned(args.src, args.ref)]
        return pairs, f"{args.src} -> {args.ref}"
    from transformer.training import load_splits

    splits = load_splits(config)
    return getattr(splits, args.split), f"{config.data} {args.split} split"


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print BLEU, chrF, exact match (and teacher-forced scores) with sample translations."""
    from transformer.checkpoint import load_checkpoint
    from transformer.evaluation import evaluate, format_scores

    model, src_tok, tgt_tok, config = load_checkpoint(args.checkpoint)
    pairs, name = _evaluation_pairs(args, config)
    if args.limit:
        pairs = pairs[: args.limit]
    result = evaluate(model, src_tok, tgt_tok, pairs, **_decoding_kwargs(args))
    if args.json:
        print(json.dumps({"data": name, "pairs": len(pairs), **result.scores}))
        return 0
    print(f"{name}: {len(pairs)} pairs, {'greedy' if args.beam_size == 1 else 'beam search'}")
    print(format_scores(result.scores))
    for src, ref, hyp in result.samples(args.samples):
        mark = "ok " if hyp.strip() == ref.strip() else "BAD"
        print(f"  {mark} {src}\n      -> {hyp}\n         (reference: {ref})")
    return 0


# ---- the parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The `python -m transformer` parser with its four sub-commands."""
    parser = argparse.ArgumentParser(
        prog="python -m transformer",
        description="Train, use and inspect toy translation Transformers built on minigrad.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a translation model (or --resume one)")
    train.add_argument("--out", help="output directory (default: runs/train)")
    train.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT")
    train.add_argument(
        "--overwrite", action="store_true", help="replace an earlier run in the output directory"
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_config_options(train)
    train.set_defaults(handler=cmd_train)

    translate = commands.add_parser("translate", help="translate sentences, a file, or stdin")
    translate.add_argument("sentences", nargs="*", help="sentences (default: --file or stdin)")
    translate.add_argument("--file", type=Path, help="a UTF-8 file, one sentence per line")
    _decoding_options(translate)
    translate.set_defaults(handler=cmd_translate)

    evaluate = commands.add_parser("evaluate", help="BLEU, chrF and exact match on test data")
    _decoding_options(evaluate)
    evaluate.add_argument(
        "--split", choices=("test", "valid", "train"), default="test",
        help="split of the checkpoint's dataset (default: test)",
    )  # fmt: skip
    evaluate.add_argument("--pairs", type=Path, help="or: a tab-separated file of pairs")
    evaluate.add_argument("--src", type=Path, help="or: a source file (line-aligned with --ref)")
    evaluate.add_argument("--ref", type=Path, help="the reference translations of --src")
    evaluate.add_argument("--limit", type=int, help="evaluate only the first N pairs")
    evaluate.add_argument("--samples", type=int, default=10, help="sample translations shown")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(handler=cmd_evaluate)

    viz = commands.add_parser("viz", help="graph, gradient flow and attention of one step")
    try:
        from transformer import visualize
    except ImportError:
        viz.set_defaults(handler=lambda args: _unavailable("transformer.visualize"))
    else:
        visualize.add_arguments(viz)
        viz.set_defaults(handler=visualize.run)
    return parser


def _unavailable(module: str) -> int:
    print(f"error: {module} is not available in this installation", file=sys.stderr)
    return 2


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings for people at a terminal: `warning: ...`, without the source location."""
    return f"warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; user mistakes print `error: ...` and return 2.

    Set TRANSFORMER_TRACEBACK=1 to see the full traceback instead.
    """
    args = build_parser().parse_args(argv)
    previous, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    try:
        return args.handler(args)
    except (DataError, CheckpointError, FileExistsError, ValueError) as error:
        if os.environ.get("TRANSFORMER_TRACEBACK"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error.filename}: no such file", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous
