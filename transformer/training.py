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
model, optimizer, schedule, tokenizers, config, random state and the position in the epoch, so
`Trainer.resume` continues with exactly the losses an uninterrupted run would have had. Ctrl-C
finishes the current step, saves `last.ckpt` and stops (press it twice to quit at once).
"""

from __future__ import annotations

import contextlib
import json
import math
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
    save_checkpoint,
)
from transformer.config import RESUMABLE, TrainConfig
from transformer.data import (
    Splits,
    Tokenizer,
    build_tokenizer,
    encode_pairs,
    load_dataset,
    make_batches,
)
from transformer.evaluation import evaluate, format_scores
from transformer.model import Transformer
from transformer.model.masks import padding_mask
from transformer.train_log import TrainLog, plot_curves, smoothing_floor


def load_splits(config: TrainConfig) -> Splits:
    """The dataset named by `config.data`, with `config.data_options`."""
    return load_dataset(config.data, **config.data_options)


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
    gradients as projecting every position and passing ``ignore_index=pad``.
    """
    src_mask = padding_mask(batch.src, batch.pad_id)
    memory = model.encode(minigrad.tensor(batch.src), src_mask)
    states = model.decoder_states(memory, minigrad.tensor(batch.tgt_in), src_mask)
    target = batch.tgt_out.reshape(-1)
    real = target != batch.pad_id
    logits = model.generator(states.reshape(-1, states.shape[-1])[real])
    return F.cross_entropy(logits, target[real], label_smoothing=label_smoothing)


@dataclass
class Progress:
    """Where training stands; saved in checkpoints so a resumed run continues exactly."""

    step: int = 0  # optimizer steps taken
    epoch: int = 0  # the epoch in progress (0-based)
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
    ):
        config.validate()
        self.config = config
        self.out_dir = Path(out_dir)
        self.echo = echo
        self.progress_bar = progress_bar
        if not overwrite and tokenizers is None and (self.out_dir / "last.ckpt").exists():
            raise FileExistsError(
                f"{self.out_dir} already holds a training run (last.ckpt): resume it with "
                f"--resume {self.out_dir / 'last.ckpt'}, choose another --out, or pass --overwrite"
            )
        self.splits = load_splits(config)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if tokenizers is None:
            tokenizers = build_tokenizers(config, self.splits)
            (self.out_dir / "log.jsonl").unlink(missing_ok=True)  # a fresh run, a fresh log
        self.src_tokenizer, self.tgt_tokenizer = tokenizers
        self.examples = encode_pairs(
            self.splits.train, self.src_tokenizer, self.tgt_tokenizer, max_len=config.max_len
        )
        minigrad.manual_seed(config.seed)
        self.model = Transformer(
            **config.model_kwargs(self.src_tokenizer.vocab_size, self.tgt_tokenizer.vocab_size)
        )
        self.optimizer = build_optimizer(config, self.model)
        self.scheduler = build_scheduler(config, self.optimizer, self._planned_steps())
        self.state = Progress()
        self.log = TrainLog(self.out_dir / "log.jsonl")
        self.step_losses: list[float] = []  # every step's loss in this session (for checks)
        config_text = json.dumps(config.to_dict(), indent=1)
        (self.out_dir / "config.json").write_text(config_text + "\n", encoding="utf-8")

    # ---- construction from a checkpoint -------------------------------------------------------
    @classmethod
    def resume(
        cls,
        path: str | Path,
        out_dir: str | Path | None = None,
        overrides: dict[str, Any] | None = None,
        **kwargs,
    ) -> Trainer:
        """Continue the run saved in checkpoint `path` exactly where it stopped.

        `overrides` may change only the settings in `config.RESUMABLE` (more epochs, a new time
        budget, ...); any other setting that differs from the checkpoint's is an error.
        """
        path = Path(path)
        content = read_checkpoint(path)
        _, src_tok, tgt_tok, config = build_from_checkpoint(content, path)
        overrides = dict(overrides or {})
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
        trainer = cls(config, out_dir or path.parent, tokenizers=(src_tok, tgt_tok), **kwargs)
        trainer.model.load_state_dict(content["model"])
        trainer.optimizer.load_state_dict(content["optimizer"])
        trainer.scheduler.load_state_dict(content["scheduler"])
        mg_random.set_state(content["rng"])
        trainer.state = Progress(**content["progress"])
        trainer.log.write("event", message=f"resumed from {path}", step=trainer.state.step)
        return trainer

    def _planned_steps(self) -> int:
        """Steps the run is planned for: the length of the cosine schedule (0 for the others)."""
        if self.config.schedule != "cosine":
            return 0
        if self.config.max_steps:
            return self.config.max_steps
        return len(self._batches(0)) * self.config.epochs

    def _batches(self, epoch: int):
        return make_batches(
            self.examples,
            self.config.batch_size,
            self.config.max_tokens,
            seed=self.config.seed,
            epoch=epoch,
        )

    # ---- one step -------------------------------------------------------------------------------
    def train_step(self, batch) -> tuple[float, float | None]:
        """Forward, backward, clip, update, schedule. Returns (loss, gradient norm)."""
        self.model.train()
        loss = translation_loss(self.model, batch, self.config.label_smoothing)
        self.optimizer.zero_grad()
        loss.backward()
        grad_norm = None
        if self.config.clip_norm > 0:
            grad_norm = float(clip_grad_norm_(self.model.parameters(), self.config.clip_norm))
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.item()), grad_norm

    # ---- the loop -------------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        """Train until epochs, max_steps, the time budget, early stopping or Ctrl-C; see module."""
        config, state = self.config, self.state
        started = time.perf_counter()
        self.echo(
            f"training {self.model.num_parameters():,} parameters on {len(self.examples):,} "
            f"pairs; writing to {self.out_dir}"
        )
        floor = smoothing_floor(config.label_smoothing, self.tgt_tokenizer.vocab_size)
        self.log.write("event", message="training", step=state.step, loss_floor=floor)
        stop = None
        with _deferred_interrupt(self.echo) as interrupt:
            while stop is None and state.epoch < config.epochs:
                stop = self._train_epoch(interrupt)
                if stop is None:  # the epoch is complete
                    state.epoch, state.batch = state.epoch + 1, 0
                    stop = self._validate(end_of_epoch=True) or self._limit_reached()
                elif stop != "interrupted":  # a limit mid-epoch: score the final model too
                    self._validate(end_of_epoch=False)
                self.save("last.ckpt")
                if interrupt["requested"]:
                    stop = "interrupted"
        stop = stop or "epochs"
        if stop == "interrupted":
            self.echo(f"interrupted: resume with --resume {self.out_dir / 'last.ckpt'}")
        plot = plot_curves(self.log.path, self.out_dir / "curves.png")
        summary = {
            "stopped": stop,
            "steps": state.step,
            "epochs": state.epoch + state.batch / max(len(self._batches(state.epoch)), 1),
            "train_seconds": round(state.train_seconds, 2),
            "wall_seconds": round(time.perf_counter() - started, 2),
            "best_score": state.best_score,
            "best_step": state.best_step,
            "monitor": config.monitor,
            "last_checkpoint": str(self.out_dir / "last.ckpt"),
            "best_checkpoint": str(self.out_dir / "best.ckpt"),
            "log": str(self.log.path),
            "plot": str(plot),
        }
        self.log.write("summary", **summary)
        return summary

    def _train_epoch(self, interrupt) -> str | None:
        """Train on the rest of the current epoch; returns why it stopped early, or None."""
        from tqdm.auto import tqdm

        config, state = self.config, self.state
        batches = self._batches(state.epoch)
        bar = tqdm(
            total=len(batches),
            initial=state.batch,
            desc=f"epoch {state.epoch + 1}/{config.epochs}",
            disable=not self.progress_bar,
            dynamic_ncols=True,
            leave=False,
        )
        window = _Window()
        try:
            for batch in batches[state.batch :]:
                t0 = time.perf_counter()
                loss, grad_norm = self.train_step(batch)
                seconds = time.perf_counter() - t0
                state.step, state.batch = state.step + 1, state.batch + 1
                state.train_seconds += seconds
                self.step_losses.append(loss)
                window.add(loss, batch.num_tgt_tokens, seconds, grad_norm)
                bar.update()
                if state.step % config.log_every == 0 or state.batch == len(batches):
                    record = self.log.write("train", **window.record(state, self._lr()))
                    bar.set_postfix(
                        loss=f"{record['loss']:.3f}",
                        tok_s=f"{record['tokens_per_s']:.0f}",
                        lr=f"{record['lr']:.2e}",
                    )
                    window = _Window()
                if interrupt["requested"]:
                    return "interrupted"
                if state.batch < len(batches) and self._limit_reached():
                    return self._limit_reached()
        finally:
            bar.close()
        return None

    def _limit_reached(self) -> str | None:
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
        """Score the validation split, keep the best checkpoint, decide on early stopping."""
        config, state = self.config, self.state
        pairs = self.splits.valid[: config.valid_size] if config.valid_size else self.splits.valid
        if not pairs:
            return None
        t0 = time.perf_counter()
        result = evaluate(
            self.model, self.src_tokenizer, self.tgt_tokenizer, pairs, beam_size=config.beam_size
        )
        scores = result.scores
        self.log.write(
            "valid", step=state.step, epoch=state.epoch, seconds=time.perf_counter() - t0, **scores
        )
        self.echo(f"step {state.step} (epoch {state.epoch}) valid: {format_scores(scores)}")
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

    # ---- checkpoints ----------------------------------------------------------------------------
    def save(self, name: str = "last.ckpt") -> Path:
        """Write a checkpoint of everything (see `transformer.checkpoint`) into out_dir."""
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
        )


class _Window:
    """Running sums between two log records: token-weighted loss, throughput, gradient norm."""

    def __init__(self):
        self.loss = self.tokens = self.seconds = self.steps = 0
        self.grad_norm = None

    def add(self, loss: float, tokens: int, seconds: float, grad_norm: float | None) -> None:
        self.loss += loss * tokens
        self.tokens += tokens
        self.seconds += seconds
        self.steps += 1
        self.grad_norm = grad_norm

    def record(self, state: Progress, lr: float) -> dict[str, Any]:
        return {
            "step": state.step,
            "epoch": state.epoch,
            "loss": self.loss / max(self.tokens, 1),
            "lr": lr,
            "tokens_per_s": self.tokens / max(self.seconds, 1e-9),
            "ms_per_step": 1000 * self.seconds / max(self.steps, 1),
            "grad_norm": self.grad_norm,
            "train_seconds": round(state.train_seconds, 3),
        }


@contextlib.contextmanager
def _deferred_interrupt(echo):
    """While active, the first Ctrl-C only sets a flag (the loop saves and stops after the
    current step); a second one interrupts at once. Only in the main thread."""
    flag = {"requested": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["requested"]:
            raise KeyboardInterrupt
        flag["requested"] = True
        echo("\nCtrl-C: saving a checkpoint after this step (press Ctrl-C again to quit now)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
