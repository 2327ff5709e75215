"""The command line: ``python -m transformer train | translate | evaluate | viz | report``.

    python -m transformer train --out runs/numbers                 # English -> German numbers
    python -m transformer train --data deu.txt --src-tokenizer word --tgt-tokenizer word ...
    python -m transformer train --resume runs/numbers/last.ckpt --epochs 30
    python -m transformer translate --checkpoint runs/numbers/best.ckpt "four hundred and two"
    python -m transformer translate --checkpoint ... --file sentences.txt --beam-size 4
    python -m transformer evaluate --checkpoint runs/numbers/best.ckpt        # its test split
    python -m transformer viz --checkpoint ... --sentence "twelve" --out viz
    python -m transformer report runs/numbers            # runs/numbers/report.html (train too)

The `train` options are generated from `transformer.train_config.TrainConfig` (one option per field,
with its help text and its check), so the command line and the Python API never disagree.

How a command ends when it cannot do its job, decided in one place (`main`) by the kind of
failure, not by a list of the errors seen so far:

* **Bad input** (an option, a data file, a checkpoint: the library raises `ValueError` or a
  subclass, such as `DataError` and `CheckpointError`, for values it refuses) and **the
  file system** (any `OSError`: a missing file, a read-only or full disk, `--out afile/sub`)
  and **running out of memory**: one line ``error: ...`` naming the option or file, exit 2.
  Options are checked when they are parsed (``error: argument --max-steps: must be >= 1, got
  0``); inputs read by `translate` and `evaluate` are limited to `MAX_INPUT_BYTES`.
* **Ctrl-C**: ``interrupted``, exit 130 (`train` saves a checkpoint at the first Ctrl-C and
  stops after the current step; a second one quits at once). A reader that stops reading the
  output (``translate ... | head``) ends the command quietly, exit 141 (as SIGPIPE would).
* **Anything else is a bug** (a `TypeError`, `KeyError`, ... from our code): the traceback,
  to be reported. `TRANSFORMER_TRACEBACK=1` shows the traceback of every failure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any

from minigrad.allocator import reuse_freed_memory
from transformer.data import Pair, normalize, read_aligned, read_lines, read_tsv
from transformer.data.files import decode_lines, read_bytes
from transformer.data.registry import DATASETS, parse_options
from transformer.train_config import TrainConfig, at_least, sections, setting_kind, setting_problem

# translate and evaluate read at most this much input per file (or stdin): an endless input
# such as /dev/zero is refused at once instead of filling the memory.
MAX_INPUT_BYTES = 10 * 2**20


def _finite_float(text: str) -> float:
    """float(text), refusing inf and nan (ValueError)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


_READERS = {"int": (int, "an integer"), "float": (_finite_float, "a finite number"),
            "str": (str, "a string")}  # fmt: skip


def option_type(kind: str, check: Callable[[Any], str | None]) -> Callable[[str], Any]:
    """An argparse `type`: read the text as `kind` ("int", "float", "str"), then `check` it.

    Either failure is an argparse error naming the option (`argument --beam-size: must be >= 1,
    got 0`), before the command does anything.
    """
    read, expected = _READERS[kind]

    def parse(text: str) -> Any:
        try:
            value = read(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        problem = check(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def _option_name(setting: str) -> str:
    """The command-line spelling of a `TrainConfig` field: max_steps -> --max-steps."""
    return "--" + setting.replace("_", "-")


# ---- train --------------------------------------------------------------------------------------
def _add_config_options(groups: dict[str, argparse._ArgumentGroup]) -> None:
    """One option per `TrainConfig` field, in the help group of its section, checked as it is
    parsed (default None = "not given", so --resume can tell)."""
    settings = {f.name: f for f in fields(TrainConfig)}
    for title, names in sections().items():
        for name in names:
            add = groups[title].add_argument
            if name == "data_options":
                add("--data-option", dest="data_options", action="append", metavar="KEY=VALUE",
                    help="an option of the dataset loader, e.g. num_train=5000 (repeatable; "
                         "docs/data.md lists them)")  # fmt: skip
                continue
            help_text = settings[name].metadata["help"]
            if "(default:" not in help_text:  # else the help says what the default means
                help_text += f" (default: {settings[name].default})"
            if setting_kind(name) == "bool":
                add(_option_name(name), action=argparse.BooleanOptionalAction, help=help_text)
            else:
                check = partial(setting_problem, name)
                add(_option_name(name), type=option_type(setting_kind(name), check), help=help_text)


def _parse_data_options(items: list[str], data: str) -> dict[str, Any]:
    """`["num_train=5000", "lowercase=false"]` -> {"num_train": 5000, "lowercase": False}, read
    by the types of the options of the loader of dataset `data` (unknown keys are refused)."""
    texts = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--data-option expects KEY=VALUE, got {item!r}")
        texts[key] = value
    return parse_options(data, texts)


def _dataset_of(args: argparse.Namespace) -> str:
    """The dataset a `train` command trains on: --data, the resumed run's, or the default."""
    if args.data:
        return args.data
    if args.resume:
        from transformer.checkpoint import read_checkpoint

        return TrainConfig.from_dict(read_checkpoint(args.resume)["config"]).data
    return TrainConfig().data


def _given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The `TrainConfig` settings given on the command line, checked (each option was checked
    as it was parsed; a new run's settings are checked together, naming the options)."""
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    given = {k: v for k, v in given.items() if v is not None}
    if "data_options" in given:
        given["data_options"] = _parse_data_options(given["data_options"], _dataset_of(args))
    if not args.resume:
        TrainConfig(**given).validate(spell=_option_name)
    return given


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or resume) and print where everything was written.

    Exit status 0; 130 after Ctrl-C (with the command that resumes); 1 if training diverged.
    """
    from transformer.training import Trainer

    settings = _given_settings(args)
    common = dict(progress_bar=not args.no_progress, overwrite=args.overwrite)
    if args.resume:
        trainer = Trainer.resume(
            args.resume,
            args.out,
            overrides=settings,
            accept_data_change=args.accept_data_change,
            **common,
        )
    else:
        config = TrainConfig(**settings)
        trainer = Trainer(config, args.out or "runs/train", **common)
    summary = trainer.train()
    print(
        f"stopped after {summary['steps']} steps ({summary['stopped']}), "
        f"{summary['train_seconds']:.0f} s of training"
    )
    for key in ("best_checkpoint", "last_checkpoint", "log", "plot"):
        if Path(summary[key]).is_file():  # a diverged run may have saved no checkpoint
            print(f"  {key.replace('_', ' ')}: {summary[key]}")
    if not args.no_report and summary["stopped"] != "interrupted":
        from transformer.report import write_report

        print(f"  report: {write_report(trainer.out_dir)}")
    if summary["stopped"] == "interrupted":
        print(f"interrupted: resume with --resume {summary['last_checkpoint']}")
        return 130
    return 1 if summary["stopped"] == "diverged" else 0


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
    """The options translate and evaluate share: the checkpoint and how to decode."""
    positive = option_type("int", at_least(1))
    parser.add_argument("--checkpoint", required=True, help="checkpoint file written by train")
    parser.add_argument("--beam-size", type=positive, default=1, help="1: greedy (default)")
    parser.add_argument(
        "--length-penalty",
        type=option_type("float", lambda value: None),
        default=0.6,
        help="beam search alpha (default 0.6)",
    )
    parser.add_argument(
        "--max-len", type=positive, help="longest translation in tokens (default: 2 x source + 10)"
    )
    parser.add_argument(
        "--batch-size", type=positive, default=128, help="sentences decoded at once (default 128)"
    )


def _decoding_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The decoding options of translate/evaluate as keyword arguments."""
    return dict(
        beam_size=args.beam_size,
        alpha=args.length_penalty,
        max_len=args.max_len,
        batch_size=args.batch_size,
    )


def _read_sentences(args: argparse.Namespace) -> list[str]:
    """Sentences from the arguments, a file, or stdin (one per line; at most MAX_INPUT_BYTES)."""
    if args.sentences and args.file:
        raise ValueError("give sentences as arguments or --file, not both")
    if args.sentences:
        return list(args.sentences)
    if args.file:
        return read_lines(args.file, MAX_INPUT_BYTES)
    if sys.stdin.isatty():
        print("reading sentences from stdin, one per line (Ctrl-D to finish)", file=sys.stderr)
    raw = read_bytes(sys.stdin.buffer, "stdin", MAX_INPUT_BYTES)
    return decode_lines(raw, "stdin") if raw else []


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


def _evaluation_pairs(
    args: argparse.Namespace, config: TrainConfig, trained_on: dict[str, Any] | None
) -> tuple[list[Pair], str]:
    """The pairs to evaluate on, and a name for them; `trained_on` is the checkpoint's data
    fingerprint (a warning if its own split's data changed since)."""
    if args.pairs and (args.src or args.ref):
        raise ValueError("give --pairs or --src and --ref, not both")
    if args.pairs:
        clean = input_normalizer(config)
        pairs = [
            Pair(clean(s), clean(t)) for s, t in read_tsv(args.pairs, max_bytes=MAX_INPUT_BYTES)
        ]
        return pairs, str(args.pairs)
    if args.src or args.ref:
        if not (args.src and args.ref):
            raise ValueError("--src and --ref go together: the source file and its references")
        clean = input_normalizer(config)
        read = read_aligned(args.src, args.ref, MAX_INPUT_BYTES)
        pairs = [Pair(clean(s), clean(t)) for s, t in read]
        return pairs, f"{args.src} -> {args.ref}"
    from transformer.integrity import data_change, data_fingerprint
    from transformer.training import load_splits

    splits = load_splits(config)
    change = data_change(trained_on, data_fingerprint(config.data, config.data_options))
    if change:
        warnings.warn(
            f"{args.checkpoint} was trained on {config.data}, which has changed since "
            f"({change}): its {args.split} split may differ from the one held out in training "
            "and overlap the pairs it trained on",
            stacklevel=1,
        )
    return getattr(splits, args.split), f"{config.data} {args.split} split"


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print BLEU, chrF, exact match (and teacher-forced scores) with sample translations."""
    from transformer.checkpoint import build_from_checkpoint, read_checkpoint
    from transformer.evaluation import evaluate, format_scores

    content = read_checkpoint(args.checkpoint)
    model, src_tok, tgt_tok, config = build_from_checkpoint(content, args.checkpoint)
    pairs, name = _evaluation_pairs(args, config, content.get("data"))
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
class _Parser(argparse.ArgumentParser):
    """argparse, whose mistakes end like the others: one `error: ...` line, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The `python -m transformer` parser with its four sub-commands."""
    parser = _Parser(
        prog="python -m transformer",
        description="Train, use and inspect toy translation Transformers built on minigrad.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a translation model (or --resume one)")
    train.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT")
    train.add_argument(
        "--accept-data-change",
        action="store_true",
        help="with --resume: continue although the data files changed since CKPT",
    )
    groups = {title: train.add_argument_group(title) for title in sections()}
    output = groups["output"]
    output.add_argument("--out", help="output directory (default: runs/train)")
    output.add_argument(
        "--overwrite", action="store_true", help="replace an earlier run in the output directory"
    )
    output.add_argument("--no-progress", action="store_true", help="no progress bar")
    output.add_argument(
        "--no-report", action="store_true", help="no report.html at the end (see: report)"
    )
    _add_config_options(groups)
    train.set_defaults(handler=cmd_train)

    translate = commands.add_parser("translate", help="translate sentences, a file, or stdin")
    translate.add_argument("sentences", nargs="*", help="sentences (default: --file or stdin)")
    translate.add_argument(
        "--file",
        type=Path,
        help=f"a UTF-8 file, one sentence per line (at most {MAX_INPUT_BYTES // 2**20} MB, as "
        "is stdin)",
    )
    _decoding_options(translate)
    translate.set_defaults(handler=cmd_translate)

    evaluate = commands.add_parser("evaluate", help="BLEU, chrF and exact match on test data")
    _decoding_options(evaluate)
    evaluate.add_argument(
        "--split", choices=("test", "valid", "train"), default="test",
        help="split of the checkpoint's dataset (default: test)",
    )  # fmt: skip
    evaluate.add_argument(
        "--pairs",
        type=Path,
        help=f"or: a tab-separated file of pairs (at most {MAX_INPUT_BYTES // 2**20} MB)",
    )
    evaluate.add_argument("--src", type=Path, help="or: a source file (line-aligned with --ref)")
    evaluate.add_argument("--ref", type=Path, help="the reference translations of --src")
    evaluate.add_argument(
        "--limit", type=option_type("int", at_least(1)), help="evaluate only the first N pairs"
    )
    evaluate.add_argument(
        "--samples",
        type=option_type("int", at_least(0)),
        default=10,
        help="sample translations shown (default 10)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(handler=cmd_evaluate)

    _add_module_command(
        commands, "viz", "transformer.visualize", "graph, gradient flow and attention of one step"
    )
    _add_module_command(commands, "report", "transformer.report", "one HTML page about a run")
    return parser


def _add_module_command(commands, name: str, module: str, help_text: str) -> None:
    """A sub-command whose options and handler live in `module` (its `add_arguments` and
    `run`); if the module cannot be imported, the command says so instead."""
    parser = commands.add_parser(name, help=help_text)
    try:
        implementation = importlib.import_module(module)
    except ImportError:
        parser.set_defaults(handler=lambda args: _unavailable(module))
    else:
        implementation.add_arguments(parser)
        parser.set_defaults(handler=implementation.run)


def _unavailable(module: str) -> int:
    print(f"error: {module} is not available in this installation", file=sys.stderr)
    return 2


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings for people at a terminal: `warning: ...`, without the source location."""
    return f"warning: {message}\n"


def failure_line(failure: BaseException) -> tuple[str, int] | None:
    """The line to print and the exit status for a failure that is not a bug, else None.

    The rule of the module docstring: bad input (`ValueError`), the file system (`OSError`)
    and memory end in one `error: ...` line and status 2, Ctrl-C in `interrupted` and 130. A
    reader that stopped reading our output (`translate ... | head`) is no error: no line, and
    the status of a process ended by SIGPIPE, 141.
    """
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(failure, BrokenPipeError):
        return "", 141
    if isinstance(failure, MemoryError):
        details = f" ({failure})" if str(failure) else ""
        return f"error: out of memory{details}: a smaller model, batch or input needs less", 2
    if isinstance(failure, OSError) and failure.strerror and failure.filename is not None:
        names = " -> ".join(str(n) for n in (failure.filename, failure.filename2) if n is not None)
        return f"error: {names}: {failure.strerror}", 2
    if isinstance(failure, OSError) and failure.strerror:
        return f"error: {failure.strerror}", 2
    if isinstance(failure, ValueError | OSError):
        return f"error: {failure}", 2
    return None


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; a failure that is not a bug ends in one line (see `failure_line`)."""
    args = build_parser().parse_args(argv)
    reuse_freed_memory()  # fewer page faults per step: see minigrad.allocator
    previous, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    try:
        return args.handler(args)
    except BaseException as failure:
        ending = failure_line(failure)
        if ending is None or os.environ.get("TRANSFORMER_TRACEBACK"):
            raise
        line, status = ending
        if isinstance(failure, BrokenPipeError):  # and nothing more to flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        else:
            print(line, file=sys.stderr)
        return status
    finally:
        warnings.formatwarning = previous
