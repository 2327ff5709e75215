"""The training loop at toy sizes: learning, logging, checkpoints, exact resume, stopping rules."""

import json
import signal

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.serialization import CheckpointError
from transformer.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from transformer.data import collate
from transformer.model import Transformer
from transformer.model.masks import padding_mask
from transformer.train_config import TrainConfig
from transformer.train_log import read_log, smoothing_floor
from transformer.training import Trainer, build_optimizer, build_scheduler, translation_loss

QUIET = dict(progress_bar=False, echo=lambda *args: None)


def tiny(**overrides) -> TrainConfig:
    """The reverse task at a size that trains a step in milliseconds (7 batches per epoch)."""
    settings = dict(
        data="reverse",
        data_options={"num_train": 200, "num_valid": 16, "num_test": 16, "max_len": 6},
        d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
        batch_size=32, warmup=5, lr=3e-3, epochs=3, log_every=2,
    )  # fmt: skip
    settings.update(overrides)
    return TrainConfig(**settings)


def test_resume_continues_with_identical_losses(tmp_path):
    whole = Trainer(tiny(max_steps=10), tmp_path / "whole", **QUIET)
    whole.train()
    first = Trainer(tiny(max_steps=4), tmp_path / "split", **QUIET)
    assert first.train()["stopped"] == "max_steps"
    progress = read_checkpoint(tmp_path / "split" / "last.ckpt")["progress"]
    assert (progress["step"], progress["epoch"], progress["batch"]) == (4, 0, 4)
    rest = Trainer.resume(tmp_path / "split" / "last.ckpt", overrides={"max_steps": 10}, **QUIET)
    rest.train()  # crosses the end of epoch 0 (7 batches), so the next epoch's shuffle matters
    assert len(whole.step_losses) == 10
    assert first.step_losses + rest.step_losses == whole.step_losses
    for name, value in whole.model.state_dict().items():
        np.testing.assert_array_equal(rest.model.state_dict()[name], value, err_msg=name)


def test_training_learns_and_writes_log_plot_and_checkpoints(tmp_path):
    trainer = Trainer(tiny(epochs=4, lr=1e-2), tmp_path, **QUIET)
    summary = trainer.train()
    assert summary["stopped"] == "epochs" and summary["steps"] == 28
    losses = trainer.step_losses
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    records = read_log(tmp_path / "log.jsonl")
    kinds = [r["kind"] for r in records]
    assert kinds.count("valid") == 4 and kinds[-1] == "summary"
    train = [r for r in records if r["kind"] == "train"]
    assert {"loss", "lr", "tokens_per_s", "grad_norm"} <= set(train[0])
    valid = next(r for r in records if r["kind"] == "valid")
    for key in ("loss", "perplexity", "token_accuracy", "bleu", "chrf", "exact_match"):
        assert key in valid
    assert valid["perplexity"] == pytest.approx(np.exp(valid["loss"]))
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert json.loads((tmp_path / "config.json").read_text())["data"] == "reverse"
    model, src_tok, tgt_tok, config = load_checkpoint(tmp_path / "best.ckpt")
    assert config == trainer.config and not model.training
    assert src_tok.tokens == trainer.src_tokenizer.tokens


def test_loss_ignores_padding():
    """A padded batch's loss is the token-weighted mean of the unpadded sentences' losses."""
    minigrad.manual_seed(0)
    model = float64(Transformer(**tiny(dropout=0.0).model_kwargs(12, 12)))
    examples = [([4, 5, 6, 7], [7, 6, 5, 4]), ([8], [8]), ([9, 10], [10, 9])]
    batch_loss = translation_loss(model, collate(examples), label_smoothing=0.1)
    alone = [translation_loss(model, collate([e]), 0.1).item() for e in examples]
    weights = [len(t) + 1 for _, t in examples]
    # padded and unpadded batches sum in other orders: float64 leaves ~1e-15 of that
    assert batch_loss.item() == pytest.approx(np.average(alone, weights=weights), rel=1e-12)


def float64(model):
    """The model with float64 weights, so that sums taken in other orders agree to ~1e-15."""
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def test_loss_projects_only_real_positions_with_the_same_value_and_gradients():
    """translation_loss skips the generator on padding; the result equals the full logits with
    ignore_index, value and every parameter's gradient."""
    minigrad.manual_seed(0)
    model = float64(Transformer(**tiny(dropout=0.0).model_kwargs(12, 12)))
    batch = collate([([4, 5, 6, 7], [7, 6, 5, 4]), ([8], [8]), ([9, 10], [10, 9])])
    loss = translation_loss(model, batch, label_smoothing=0.1)
    loss.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    logits = model(minigrad.tensor(batch.src), minigrad.tensor(batch.tgt_in),
                   padding_mask(batch.src, batch.pad_id))  # fmt: skip
    full = F.cross_entropy(logits.reshape(-1, 12), batch.tgt_out.reshape(-1),
                           ignore_index=batch.pad_id, label_smoothing=0.1)  # fmt: skip
    full.backward()
    assert loss.item() == pytest.approx(full.item(), rel=1e-12)
    # the key projections' biases have a gradient of exactly 0 (softmax ignores a constant added
    # to a row of scores): what they get is rounding noise of sums whose terms are of the size
    # of the gradients flowing through, so the absolute bound follows the largest gradient
    atol = 1e-12 * max(np.abs(g).max() for g in grads)
    for expected, p in zip(grads, model.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-10, atol=atol)


def test_early_stopping_and_time_budget(tmp_path):
    frozen = tiny(lr=1e-12, epochs=6, patience=2)  # nothing improves after the first epoch
    summary = Trainer(frozen, tmp_path / "frozen", **QUIET).train()
    assert summary["stopped"] == "early stopping" and summary["steps"] == 21
    assert summary["best_step"] == 21  # equal scores: best.ckpt follows the newer model
    summary = Trainer(tiny(time_budget=1e-6), tmp_path / "budget", **QUIET).train()
    assert summary["stopped"] == "time_budget" and summary["steps"] == 1


def test_schedules_peak_at_lr():
    model = minigrad.nn.Linear(2, 2)
    for schedule in ("noam", "cosine", "constant"):
        config = tiny(schedule=schedule, lr=1e-3, warmup=10)
        optimizer = build_optimizer(config, model)
        scheduler = build_scheduler(config, optimizer, total_steps=100)
        lrs = []
        for _ in range(30):
            lrs.append(optimizer.param_groups[0]["lr"])
            scheduler.step()
        assert max(lrs) == pytest.approx(1e-3) and lrs[9] == pytest.approx(1e-3), schedule
        assert lrs[0] == pytest.approx(1e-4), schedule


def test_refuses_to_overwrite_and_to_resume_with_other_settings(tmp_path):
    Trainer(tiny(max_steps=1), tmp_path, **QUIET).train()
    with pytest.raises(FileExistsError, match="already holds a training run.*resume it"):
        Trainer(tiny(), tmp_path, **QUIET)
    with pytest.raises(ValueError, match="d_model: checkpoint has 16, requested 32"):
        Trainer.resume(tmp_path / "last.ckpt", overrides={"d_model": 32, "epochs": 9}, **QUIET)


def test_bad_checkpoints_give_clear_errors(tmp_path):
    Trainer(tiny(max_steps=1), tmp_path, **QUIET).train()
    content = read_checkpoint(tmp_path / "last.ckpt")
    content["config"]["d_ff"] = 64  # weights of another configuration
    save_checkpoint(tmp_path / "edited.ckpt", **{k: v for k, v in content.items() if k != "kind"})
    with pytest.raises(CheckpointError, match="do not fit the model configuration"):
        load_checkpoint(tmp_path / "edited.ckpt")
    minigrad.save({"weights": np.zeros(3)}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not a translation checkpoint"):
        load_checkpoint(tmp_path / "other.ckpt")
    (tmp_path / "text.ckpt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a minigrad checkpoint"):
        load_checkpoint(tmp_path / "text.ckpt")
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"d_model": 15}, "divisible by num_heads"),
        ({"schedule": "linear"}, "schedule must be one of"),
        ({"batch_size": None}, "batch_size, max_tokens"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny(**overrides).validate()


def test_smoothing_floor_is_the_least_smoothed_loss():
    classes, eps = 64, 0.1
    q = np.full(classes, eps / classes)
    q[5] += 1 - eps
    best = F.cross_entropy(minigrad.tensor(np.log(q)[None]), np.array([5]), label_smoothing=eps)
    assert smoothing_floor(eps, classes) == pytest.approx(best.item(), rel=1e-9)
    assert smoothing_floor(0.0, classes) == 0.0


def test_messages_and_log_count_epochs_from_one_as_the_progress_bar(tmp_path):
    messages = []
    trainer = Trainer(tiny(max_steps=10), tmp_path, progress_bar=False, echo=messages.append)
    trainer.train()  # 7 batches per epoch: a validation at its end, one mid-epoch at step 10
    valid_lines = [m for m in messages if "valid:" in m]
    assert valid_lines[0].startswith("step 7 (epoch 1/3) valid:")
    assert valid_lines[1].startswith("step 10 (epoch 2/3) valid:")
    records = read_log(tmp_path / "log.jsonl")
    epochs = {r["step"]: r["epoch"] for r in records if r["kind"] == "train"}
    assert epochs == {2: 1, 4: 1, 6: 1, 7: 1, 8: 2, 10: 2}
    assert [r["epoch"] for r in records if r["kind"] == "valid"] == [1, 2]
    assert read_checkpoint(tmp_path / "last.ckpt")["progress"]["epoch"] == 1  # 0-based inside


def test_the_progress_bar_shows_the_loss_from_the_first_step(tmp_path, monkeypatch):
    import tqdm.auto

    postfixes = []

    class Bar(tqdm.auto.tqdm):
        def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
            postfixes.append(dict(ordered_dict or {}, **kwargs))
            super().set_postfix(ordered_dict, refresh, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    Trainer(tiny(max_steps=3, log_every=50), tmp_path, **QUIET).train()
    assert len(postfixes) == 3 and {"loss", "tok_s", "lr"} <= set(postfixes[0])
    assert float(postfixes[0]["loss"]) > 0


def test_ctrl_c_in_python_saves_and_names_no_command_line_flag(tmp_path, monkeypatch):
    messages = []
    trainer = Trainer(tiny(), tmp_path, progress_bar=False, echo=messages.append)
    train_step = trainer.train_step

    def step_then_ctrl_c(batch):
        if trainer.state.step == 2:
            signal.raise_signal(signal.SIGINT)  # the handler only sets a flag
        return train_step(batch)

    monkeypatch.setattr(trainer, "train_step", step_then_ctrl_c)
    summary = trainer.train()
    assert summary["stopped"] == "interrupted" and summary["steps"] == 3
    assert read_checkpoint(tmp_path / "last.ckpt")["progress"]["step"] == 3
    assert not any("--" in m for m in messages), messages


def test_the_curves_say_on_the_plot_that_only_training_loss_is_smoothed():
    from transformer.train_log import curves_figure

    records = [
        {"kind": "event", "message": "training", "step": 0, "loss_floor": 0.9},
        *({"kind": "train", "step": s, "loss": 2.0 / s, "lr": 1e-3} for s in (1, 2, 3)),
        {"kind": "valid", "step": 3, "loss": 0.1},
    ]
    fig = curves_figure(records)
    loss_axes = fig.axes[0]
    texts = [t.get_text() for t in loss_axes.texts]
    labels = [t.get_text() for t in loss_axes.get_legend().get_texts()]
    assert any("label-smoothed, validation loss is not" in t for t in texts)
    assert "validation (plain cross-entropy)" in labels and "train (label-smoothed)" in labels
    plain = curves_figure([r for r in records if r["kind"] != "event"]).axes[0]
    assert not plain.texts and [t.get_text() for t in plain.get_legend().get_texts()] == [
        "train", "validation"
    ]  # fmt: skip
