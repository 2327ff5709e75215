"""The training loop for translation: read it top to bottom, as nanoGPT's.

    trainer = Trainer(TrainConfig(), out_dir="runs/numbers")
    summary = trainer.train()               # or Trainer.resume("runs/numbers/last.ckpt").train()

One step (`train_step`) is the whole recipe of "Attention Is All You Need" §5:

1. teacher-forced logits for a padded batch: ``model(src, tgt_in, padding_mask(src))``;
2. label-smoothed cross-entropy against ``tgt_out``, averaged over real (non-padding) tokens
   (§5.4: smoothing 0.1 "hurts perplexity ... but improves accuracy and BLEU");
3. backward, clip the global gradient norm, Adam step, advance the learning-rate schedule
   (§5.3: linear warmup, then decay as 1/sqrt(step): the "Noam" schedule).

Around it: batches re-shuffled each epoch (by seed and epoch, so a run is reproducible),
validation after every epoch (loss, perplexity, token accuracy, BLEU, chrF, exact match on
decoded text), the best checkpoint by `config.monitor` (on a tie, the newer model: a saturated
score such as 100% exact match would otherwise keep the first model to reach it), early stopping
after `patience` epochs without a strict improvement, a tqdm bar, a JSON-lines log and a
loss/learning-rate plot.

Checkpoints (`last.ckpt` after every epoch and whenever training stops, `best.ckpt`) hold the
model, optimizer, schedule, tokenizers, config, random state, the position in the epoch and a
fingerprint of the data files, so `Trainer.resume` continues with exactly the losses an
uninterrupted run would have had, and refuses data files that changed since. Ctrl-C finishes
the current step, saves `last.ckpt` and stops (press it twice to quit at once).

One folder holds one run (`transformer.run_folder`). Creating a `Trainer` checks and builds
everything (settings, data, tokenizers, model, the first epoch's batches, the folder) and
writes nothing; `train()` locks the folder for the whole run (a second run there stops at
once), removes the temporary files of saves that a killed process left, and only then writes
`config.json` and the log.

A step whose loss or gradient norm is not a finite number changes no weight: its update is
skipped, as mixed-precision trainers skip the steps whose gradients overflow. After
`MAX_BAD_STEPS` such steps in a row, or when the weights or the validation loss stop being
finite, the run stops ("diverged") without saving that model: last.ckpt and best.ckpt keep
earlier states, and no checkpoint ever holds weights that are not finite.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor, optim
from minigrad import random as mg_random
from minigrad.nn.utils import clip_grad_norm_
from transformer.checkpoint import (
    build_from_checkpoint,
    config_differences,
    read_checkpoint,
    restoring,
    save_checkpoint,
)
from transformer.data import (
    DATASETS,
    DataError,
    Splits,
    Tokenizer,
    build_tokenizer,
    encode_pairs,
    load_dataset,
    make_batches,
)
from transformer.evaluation import evaluate, format_scores
from transformer.integrity import (
    data_change,
    data_fingerprint,
    nonfinite_weights,
    require_finite_weights,
)
from transformer.model import Transformer
from transformer.model.masks import padding_mask
from transformer.run_folder import (
    RUN_FILES,
    RunLock,
    check_not_in_use,
    copy_atomic,
    remove_stale_temporaries,
    write_text_atomic,
)
from transformer.train_config import RESUMABLE, TrainConfig
from transformer.train_log import TrainLog, lines_up_to, plot_curves, smoothing_floor

MAX_BAD_STEPS = 5  # the run stops after this many steps in a row with a non-finite loss/gradient


def load_splits(config: TrainConfig) -> Splits:
    """The dataset named by `config.data`, with `config.data_options`."""
    return load_dataset(config.data, **config.data_options)


def absolute_data(data: str) -> str:
    """A dataset name as it is; a path made absolute (so `evaluate` works from anywhere)."""
    return data if data in DATASETS else os.path.abspath(data)


def build_tokenizers(config: TrainConfig, splits: Splits) -> tuple[Tokenizer, Tokenizer]:
    """Source and target tokenizers learned from the training pairs."""
    kinds = (
        config.src_tokenizer or splits.src_tokenizer,
        config.tgt_tokenizer or splits.tgt_tokenizer,
    )
    texts = ([p.src for p in splits.train], [p.tgt for p in splits.train])
    return tuple(  # type: ignore[return-value]
        build_tokenizer(kind, side, **_tokenizer_options(kind, config))
        for kind, side in zip(kinds, texts, strict=True)
    )


def _tokenizer_options(kind: str, config: TrainConfig) -> dict[str, Any]:
    """The config settings that apply to a tokenizer kind."""
    if kind == "bpe":
        return {"vocab_size": config.vocab_size, "lowercase": config.lowercase}
    if kind == "char":
        return {"min_freq": config.min_freq}
    return {"min_freq": config.min_freq, "lowercase": config.lowercase}


def build_optimizer(config: TrainConfig, model: Transformer) -> optim.Optimizer:
    """Adam or AdamW; weight decay (if any) only on matrices, not on biases and norms."""
    params = model.parameters()
    groups = [
        {"params": [p for p in params if p.ndim >= 2]},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    cls = optim.AdamW if config.optimizer == "adamw" else optim.Adam
    return cls(
        [g for g in groups if g["params"]],
        lr=config.lr,
        betas=(config.beta1, config.beta2),
        eps=config.eps,
        weight_decay=config.weight_decay,
    )


def build_scheduler(config: TrainConfig, optimizer, total_steps: int):
    """The learning-rate schedule; every one peaks at `config.lr` after `config.warmup` steps.

    noam: lr = lr_peak * min(sqrt(warmup / k), k / warmup), i.e. the paper's schedule with the
    factor chosen so that the peak is `config.lr`; cosine: linear warmup, then cosine decay to
    `min_lr` at `total_steps`; constant: linear warmup, then constant.
    """
    warmup = max(1, config.warmup)
    sched = optim.lr_scheduler
    if config.schedule == "noam":
        factor = config.lr * math.sqrt(config.d_model * warmup)
        return sched.NoamLR(optimizer, config.d_model, warmup, factor=factor)
    if config.schedule == "cosine":
        total = max(total_steps, warmup + 1)
        return sched.WarmupCosineLR(optimizer, warmup, total, min_lr=config.min_lr)
    return sched.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))


def translation_loss(model, batch, label_smoothing: float = 0.0) -> Tensor:
    """Label-smoothed cross-entropy, averaged over the real (non-pad) target tokens.

    The generator, a step's largest product (d_model x vocabulary per position), projects only
    the real positions: padding's logits would be ignored by the loss anyway. Same value and
    gradients as projecting every position and passing ``ignore_index=pad``. The generator and
    the loss are one node (`F.linear_cross_entropy`): the (tokens, vocabulary) logits are read
    once and never kept.
    """
    src_mask = padding_mask(batch.src, batch.pad_id)
    memory = model.encode(minigrad.tensor(batch.src), src_mask)
    states = model.decoder_states(memory, minigrad.tensor(batch.tgt_in), src_mask)
    target = batch.tgt_out.reshape(-1)
    real = target != batch.pad_id
    rows, generator = states.reshape(-1, states.shape[-1])[real], model.generator
    return F.linear_cross_entropy(
        rows, generator.weight, generator.bias, target[real], label_smoothing=label_smoothing
    )


@dataclass
class Progress:
    """Where training stands; saved in checkpoints so a resumed run continues exactly."""

    step: int = 0  # training steps taken (one per batch; a skipped update counts too)
    epoch: int = 0  # the epoch in progress, 0-based (logs and messages count from 1)
    batch: int = 0  # batches of that epoch already trained on
    best_score: float | None = None
    best_step: int | None = None
    bad_epochs: int = 0  # epochs since the best score improved
    train_seconds: float = 0.0  # time spent in training steps (the time budget counts this)


class Trainer:
    """Trains a `Transformer` on a translation dataset as configured (see the module doc)."""

    def __init__(
        self,
        config: TrainConfig,
        out_dir: str | Path = "runs/train",
        *,
        tokenizers: tuple[Tokenizer, Tokenizer] | None = None,
        progress_bar: bool = True,
        overwrite: bool = False,
        echo=print,
        _resumed_from: Path | None = None,
    ):
        """Check and build everything for a run into `out_dir`; nothing is written before
        `train()`. A folder in use by another process is refused, and one that holds another
        run unless `overwrite` (its files are then deleted when training starts)."""
        config.validate()
        self.out_dir = Path(out_dir)
        self.echo = echo
        self.progress_bar = progress_bar
        self.overwrite = overwrite
        self.resumed_from = _resumed_from  # the checkpoint this run continues (Trainer.resume)
        self.data_change: str | None = None  # a change of the data accepted on resume
        check_not_in_use(self.out_dir)
        self._refuse_other_run()
        self.splits = load_splits(config)
        self.config = config = dataclasses.replace(config, data=absolute_data(config.data))
        self.data_fingerprint = data_fingerprint(config.data, config.data_options)
        if tokenizers is None:
            tokenizers = build_tokenizers(config, self.splits)
        self.src_tokenizer, self.tgt_tokenizer = tokenizers
        self.examples = encode_pairs(
            self.splits.train, self.src_tokenizer, self.tgt_tokenizer, max_len=config.max_len
        )
        self.batches_per_epoch = len(self._batches(0))  # a bad batch setting fails now
        minigrad.manual_seed(config.seed)
        self.model = Transformer(
            **config.model_kwargs(self.src_tokenizer.vocab_size, self.tgt_tokenizer.vocab_size)
        )
        self.optimizer = build_optimizer(config, self.model)
        self.scheduler = build_scheduler(config, self.optimizer, self._planned_steps())
        self.state = Progress()
        self.log = TrainLog(self.out_dir / "log.jsonl")
        self.step_losses: list[float] = []  # every step's loss in this session (for checks)
        self.bad_steps = 0  # steps in a row with a non-finite loss or gradient norm
        self._folder_started = False

    # ---- construction from a checkpoint -------------------------------------------------------
    @classmethod
    def resume(
        cls,
        path: str | Path,
        out_dir: str | Path | None = None,
        overrides: dict[str, Any] | None = None,
        *,
        accept_data_change: bool = False,
        **kwargs,
    ) -> Trainer:
        """Continue the run saved in checkpoint `path` exactly where it stopped.

        `overrides` may change only the settings in `config.RESUMABLE` (more epochs, a new time
        budget, ...); any other setting that differs from the checkpoint's is an error, and so
        are data files that changed since the checkpoint, unless `accept_data_change`.
        `out_dir` defaults to the checkpoint's folder. Another folder must not hold another run
        (unless `overwrite=True`); it starts as a copy of this run up to the checkpoint (its
        log and best.ckpt).
        """
        path = Path(path)
        content = read_checkpoint(path)
        _, src_tok, tgt_tok, config = build_from_checkpoint(content, path)
        overrides = dict(overrides or {})
        if absolute_data(overrides.get("data", config.data)) == absolute_data(config.data):
            overrides.pop("data", None)  # the same data, named by a relative or absolute path
        fixed = {k: v for k, v in overrides.items() if k not in RESUMABLE}
        differences = config_differences(config, fixed)
        if differences:
            raise ValueError(
                f"cannot resume {path} with other settings than it was trained with:\n  "
                + "\n  ".join(differences)
                + f"\n(only {', '.join(RESUMABLE)} may change when resuming)"
            )
        for name, value in overrides.items():
            setattr(config, name, value)
        out_dir = path.parent if out_dir is None else out_dir
        trainer = cls(config, out_dir, tokenizers=(src_tok, tgt_tok), _resumed_from=path, **kwargs)
        trainer.data_change = data_change(content.get("data"), trainer.data_fingerprint)
        if trainer.data_change and not accept_data_change:
            raise DataError(
                f"{path} was trained on {trainer.config.data}, which has changed since "
                f"({trainer.data_change}): resuming would go on with other pairs, and the "
                "held-out splits could overlap what it trained on. Restore the data, or accept "
                "the change knowingly (accept_data_change=True; command line: "
                "--accept-data-change)"
            )
        trainer.model.load_state_dict(content["model"])  # fit and finite: build_from_checkpoint
        with restoring(path, "optimizer"):
            trainer.optimizer.load_state_dict(content["optimizer"])
        with restoring(path, "scheduler"):
            trainer.scheduler.load_state_dict(content["scheduler"])
        with restoring(path, "rng"):
            mg_random.set_state(content["rng"])
        with restoring(path, "progress"):
            trainer.state = Progress(**content["progress"])
        return trainer

    def _planned_steps(self) -> int:
        """Steps the run is planned for: the length of the cosine schedule (0 for the others)."""
        if self.config.schedule != "cosine":
            return 0
        if self.config.max_steps:
            return self.config.max_steps
        return self.batches_per_epoch * self.config.epochs

    def _batches(self, epoch: int):
        return make_batches(
            self.examples,
            self.config.batch_size,
            self.config.max_tokens,
            seed=self.config.seed,
            epoch=epoch,
        )

    # ---- the run folder -------------------------------------------------------------------------
    def _continues_own_run(self) -> bool:
        """Resuming in the checkpoint's own folder: the run there is this run."""
        own = self.resumed_from is not None
        return own and self.resumed_from.parent.resolve() == self.out_dir.resolve()

    def _refuse_other_run(self) -> None:
        """Refuse an out_dir that holds another run's files, unless `overwrite`."""
        found = [name for name in RUN_FILES if (self.out_dir / name).exists()]
        if not found or self.overwrite or self._continues_own_run():
            return
        holds = f"{self.out_dir} already holds a training run ({', '.join(found)})"
        replace = "or replace it (overwrite=True; command line: --overwrite)"
        if self.resumed_from is not None:
            raise FileExistsError(
                f"{holds}: resuming {self.resumed_from} there would mix the two runs; choose "
                f"another output folder, {replace}"
            )
        resume = f"resume it from {self.out_dir / 'last.ckpt'}, " if "last.ckpt" in found else ""
        raise FileExistsError(f"{holds}: {resume}choose another output folder, {replace}")

    def _start_run_folder(self) -> None:
        """With the folder locked: clean up, write config.json, start or continue the log.

        A fresh run (or `overwrite`) deletes an earlier run's files. A resumed run's log is the
        checkpoint's log up to its step: records written after it (before a crash) are dropped,
        since those steps are trained again. Resumed into another folder, that folder also gets
        a copy of the checkpoint's best.ckpt.
        """
        self._refuse_other_run()  # again: a run may have finished here since __init__
        stale = remove_stale_temporaries(self.out_dir)
        if stale:
            self.echo(f"removed temporary files of interrupted saves: {', '.join(stale)}")
        history, dropped = [], 0
        if self.resumed_from is not None:
            history, dropped = lines_up_to(self.resumed_from.parent / "log.jsonl", self.state.step)
        if not self._continues_own_run():
            for name in (*RUN_FILES, "curves.png", "report.html"):
                (self.out_dir / name).unlink(missing_ok=True)
            best = None if self.resumed_from is None else self.resumed_from.parent / "best.ckpt"
            if best is not None and best.is_file():
                copy_atomic(best, self.out_dir / "best.ckpt")
        config_text = json.dumps(self.config.to_dict(), indent=1) + "\n"
        write_text_atomic(self.out_dir / "config.json", config_text)
        write_text_atomic(self.log.path, "".join(line + "\n" for line in history))
        if self.resumed_from is not None:
            message = f"resumed from {self.resumed_from}"
            if dropped:
                message += f"; dropped {dropped} log line(s) after step {self.state.step}"
            if self.data_change:
                message += f"; the data changed since ({self.data_change}), accepted"
                self.echo(f"continuing on changed data ({self.data_change}), as accepted")
            self.log.write("event", message=message, step=self.state.step)
        self._folder_started = True

    # ---- one step -------------------------------------------------------------------------------
    def train_step(self, batch) -> tuple[float, float]:
        """Forward, backward, clip, update, schedule. Returns (loss, gradient norm).

        If the loss or the gradient norm is not finite the update is skipped (the schedule
        still advances): one bad batch or overflow leaves the weights as they were.
        """
        self.model.train()
        loss = translation_loss(self.model, batch, self.config.label_smoothing)
        self.optimizer.zero_grad()
        loss.backward()
        max_norm = self.config.clip_norm if self.config.clip_norm > 0 else math.inf
        grad_norm = float(clip_grad_norm_(self.model.parameters(), max_norm))
        loss = float(loss.item())
        if _finite(loss, grad_norm):
            self.optimizer.step()
        self.scheduler.step()
        return loss, grad_norm

    # ---- the loop -------------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        """Train until epochs, max_steps, the time budget, early stopping, divergence or Ctrl-C
        (see the module doc); return a summary whose "stopped" says which."""
        config, state = self.config, self.state
        with RunLock(self.out_dir), _CtrlC(self.echo) as ctrl_c:  # one run per folder
            started = self._begin()
            stop = None  # why training stops: set once, then the loops end
            while stop is None and state.epoch < config.epochs:
                batches = self._batches(state.epoch)  # shuffled anew every epoch
                with self._progress_bar(len(batches)) as bar:
                    for batch in batches[state.batch :]:  # a resumed run starts mid-epoch
                        t0 = time.perf_counter()
                        loss, grad_norm = self.train_step(batch)  # the recipe of §5
                        seconds = time.perf_counter() - t0
                        self._count_step(batch, loss, grad_norm, seconds, bar, len(batches))
                        stop = self._stop_mid_epoch(ctrl_c, len(batches))
                        if stop:
                            break
                    else:  # the whole epoch was trained
                        state.epoch, state.batch = state.epoch + 1, 0
                if stop != "diverged" and not self._weights_finite():
                    stop = "diverged"
                if stop in (None, "max_steps", "time_budget"):  # score it; keep the best
                    stop = self._validate(end_of_epoch=stop is None) or stop or self._limit()
                if stop != "diverged":  # a diverged model is not saved: last.ckpt stays good
                    self.save("last.ckpt")
                if stop is None and ctrl_c.pressed:  # Ctrl-C during validation
                    stop = "interrupted"
            return self._summary(stop or "epochs", started)

    def _begin(self) -> float:
        """Set up the locked folder (once) and say what the run trains; returns the start time."""
        if not self._folder_started:
            self._start_run_folder()
        self.echo(
            f"training {self.model.num_parameters():,} parameters on {len(self.examples):,} "
            f"pairs; writing to {self.out_dir}"
        )
        floor = smoothing_floor(self.config.label_smoothing, self.tgt_tokenizer.vocab_size)
        self.log.write("event", message="training", step=self.state.step, loss_floor=floor)
        self.window = _Window()
        return time.perf_counter()

    def _progress_bar(self, total: int):
        """The tqdm bar of the current epoch ("epoch 3/20"), resumed at the batch reached."""
        from tqdm.auto import tqdm

        return tqdm(
            total=total,
            initial=self.state.batch,
            desc=f"epoch {self.state.epoch + 1}/{self.config.epochs}",
            disable=not self.progress_bar,
            dynamic_ncols=True,
            leave=False,
        )

    def _count_step(self, batch, loss, grad_norm, seconds: float, bar, epoch_length: int) -> None:
        """Advance the counters after a step; show and log its numbers (every `log_every`
        steps and at the end of an epoch), or note a skipped update."""
        config, state = self.config, self.state
        state.step, state.batch = state.step + 1, state.batch + 1
        state.train_seconds += seconds
        self.step_losses.append(loss)
        if _finite(loss, grad_norm):
            self.bad_steps = 0
            self.window.add(loss, batch.num_tgt_tokens, seconds, grad_norm)
            bar.set_postfix(self.window.postfix(self._lr()), refresh=False)
        else:  # train_step skipped the update
            self._note_skipped(loss, grad_norm)
        bar.update()
        due = state.step % config.log_every == 0 or state.batch == epoch_length
        if due and self.window.steps:
            self.log.write("train", **self.window.record(state, self._lr()))
            self.window = _Window()

    def _stop_mid_epoch(self, ctrl_c: _CtrlC, epoch_length: int) -> str | None:
        """Why training stops after this step, before the epoch's end: "diverged" (too many
        bad steps in a row), "interrupted" (Ctrl-C), "max_steps" or "time_budget"; else None."""
        if self.bad_steps >= MAX_BAD_STEPS:
            return "diverged"
        if ctrl_c.pressed:
            return "interrupted"
        return self._limit() if self.state.batch < epoch_length else None

    def _note_skipped(self, loss: float, grad_norm: float) -> None:
        """Log a step whose update was skipped, count it; at MAX_BAD_STEPS in a row, say why
        the run stops."""
        self.bad_steps += 1
        step = self.state.step
        self.log.write(
            "event",
            message=f"skipped the update: loss {loss}, gradient norm {grad_norm}",
            step=step,
        )
        if self.bad_steps >= MAX_BAD_STEPS:
            self.echo(
                f"stopping at step {step}: the loss or the gradient norm was not finite in "
                f"{self.bad_steps} steps in a row (their updates were skipped), so this model is "
                f"not saved; the learning rate ({self.config.lr:g}) may be too high"
            )

    def _weights_finite(self) -> bool:
        """True if every weight is a finite number; if not, says so."""
        bad = nonfinite_weights(self.model)
        if bad:
            self.echo(
                f"stopping at step {self.state.step}: the weights are no longer finite (NaN or "
                f"inf in {', '.join(bad[:3])}), so this model is not saved"
            )
        return not bad

    def _limit(self) -> str | None:
        """ "max_steps" or "time_budget" when that limit is reached, else None."""
        config, state = self.config, self.state
        if config.max_steps is not None and state.step >= config.max_steps:
            return "max_steps"
        if config.time_budget is not None and state.train_seconds >= config.time_budget:
            return "time_budget"
        return None

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _validate(self, end_of_epoch: bool) -> str | None:
        """Score the validation split, keep the best checkpoint, decide on early stopping.

        Returns "early stopping", "diverged" (a validation loss that is not finite: the model
        overflows on real data, and is not saved) or None.
        """
        config, state = self.config, self.state
        pairs = self.splits.valid[: config.valid_size] if config.valid_size else self.splits.valid
        if not pairs:
            return None
        t0 = time.perf_counter()
        result = evaluate(
            self.model, self.src_tokenizer, self.tgt_tokenizer, pairs, beam_size=config.beam_size
        )
        scores = result.scores
        epoch = state.epoch if end_of_epoch else state.epoch + 1  # counted from 1, as the bar
        self.log.write(
            "valid", step=state.step, epoch=epoch, seconds=time.perf_counter() - t0, **scores
        )
        self.echo(
            f"step {state.step} (epoch {epoch}/{config.epochs}) valid: {format_scores(scores)}"
        )
        if not math.isfinite(scores["loss"]):
            self.echo(
                f"stopping at step {state.step}: the validation loss is {scores['loss']}, so this "
                f"model is not saved; the learning rate ({config.lr:g}) may be too high"
            )
            return "diverged"
        score = -scores["loss"] if config.monitor == "loss" else scores[config.monitor]
        improved = state.best_score is None or score > state.best_score
        if improved or score == state.best_score:  # a tie keeps the newer model: more training
            state.best_score, state.best_step = score, state.step
            self.save("best.ckpt")
        if improved:
            state.bad_epochs = 0
        elif end_of_epoch:
            state.bad_epochs += 1
            if config.patience and state.bad_epochs >= config.patience:
                self.echo(f"early stopping: no better {config.monitor} in {config.patience} epochs")
                return "early stopping"
        return None

    def _summary(self, stop: str, started: float) -> dict[str, Any]:
        """What the run did and where it wrote it; also the log's last record, and the plot."""
        state = self.state
        plot = plot_curves(self.log.path, self.out_dir / "curves.png")
        summary = {
            "stopped": stop,
            "steps": state.step,
            "epochs": state.epoch + state.batch / max(len(self._batches(state.epoch)), 1),
            "train_seconds": round(state.train_seconds, 2),
            "wall_seconds": round(time.perf_counter() - started, 2),
            "best_score": state.best_score,
            "best_step": state.best_step,
            "monitor": self.config.monitor,
            "last_checkpoint": str(self.out_dir / "last.ckpt"),
            "best_checkpoint": str(self.out_dir / "best.ckpt"),
            "log": str(self.log.path),
            "plot": str(plot),
        }
        self.log.write("summary", step=state.step, **summary)
        return summary

    # ---- checkpoints ----------------------------------------------------------------------------
    def save(self, name: str = "last.ckpt") -> Path:
        """Write a checkpoint of everything (see `transformer.checkpoint`) into out_dir.

        Weights that are not finite are refused (`CheckpointError`): a checkpoint always holds
        a usable model.
        """
        require_finite_weights(self.model, self.out_dir / name)
        data = {"data": self.data_fingerprint} if self.data_fingerprint else {}
        return save_checkpoint(
            self.out_dir / name,
            config=self.config.to_dict(),
            model=self.model.state_dict(),
            src_tokenizer=self.src_tokenizer.to_dict(),
            tgt_tokenizer=self.tgt_tokenizer.to_dict(),
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            rng=mg_random.get_state(),
            progress=asdict(self.state),
            **data,
        )


def _finite(loss: float, grad_norm: float) -> bool:
    """A step that may update the weights: its loss and gradient norm are finite numbers."""
    return math.isfinite(loss) and math.isfinite(grad_norm)


class _Window:
    """Running sums between two log records: token-weighted loss, throughput, gradient norm."""

    def __init__(self):
        self.loss = self.tokens = self.seconds = self.steps = 0
        self.grad_norm = None

    def add(self, loss: float, tokens: int, seconds: float, grad_norm: float) -> None:
        self.loss += loss * tokens
        self.tokens += tokens
        self.seconds += seconds
        self.steps += 1
        self.grad_norm = grad_norm

    def postfix(self, lr: float) -> dict[str, str]:
        """The progress bar's numbers, from the first step on: the loss so far in this window."""
        return {
            "loss": f"{self.loss / self.tokens:.3f}",
            "tok_s": f"{self.tokens / max(self.seconds, 1e-9):.0f}",
            "lr": f"{lr:.2e}",
        }

    def record(self, state: Progress, lr: float) -> dict[str, Any]:
        return {
            "step": state.step,
            "epoch": state.epoch + 1,  # counted from 1, as the progress bar shows it
            "loss": self.loss / self.tokens,
            "lr": lr,
            "tokens_per_s": self.tokens / max(self.seconds, 1e-9),
            "ms_per_step": 1000 * self.seconds / self.steps,
            "grad_norm": self.grad_norm,
            "train_seconds": round(state.train_seconds, 3),
        }


class _CtrlC:
    """While active (a context manager), the first Ctrl-C only sets `pressed`: the loop saves
    and stops after the current step. A second one interrupts at once. Main thread only (only
    it receives signals); elsewhere `pressed` stays False."""

    def __init__(self, echo):
        self.echo = echo
        self.pressed = False
        self.previous = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handler(self, signum, frame) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        self.echo("\nCtrl-C: saving a checkpoint after this step (press Ctrl-C again to quit now)")
