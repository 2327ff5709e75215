"""Training through NaN: bad steps are skipped, a diverged run stops and saves no NaN model,
and a checkpoint whose weights are not finite is refused by translate and evaluate."""

import math

import numpy as np
import pytest
from test_training import QUIET, tiny

from minigrad.serialization import CheckpointError
from transformer import training
from transformer.checkpoint import read_checkpoint, save_checkpoint
from transformer.cli import main
from transformer.train_log import read_log
from transformer.training import MAX_BAD_STEPS, Trainer


def test_a_diverging_run_stops_and_never_saves_nonfinite_weights(tmp_path):
    """lr 1e30: the first update makes the weights overflow; the next steps' losses are NaN."""
    messages = []
    trainer = Trainer(tiny(lr=1e30), tmp_path, progress_bar=False, echo=messages.append)
    summary = trainer.train()
    assert summary["stopped"] == "diverged" and summary["steps"] == 1 + MAX_BAD_STEPS
    assert any(f"not finite in {MAX_BAD_STEPS} steps in a row" in m for m in messages), messages
    assert not (tmp_path / "best.ckpt").exists() and not (tmp_path / "last.ckpt").exists()
    skipped = [r for r in read_log(tmp_path / "log.jsonl") if "skipped" in r.get("message", "")]
    assert [r["step"] for r in skipped] == list(range(2, 2 + MAX_BAD_STEPS))


def test_a_few_bad_steps_are_skipped_without_touching_the_weights(tmp_path, monkeypatch):
    real_loss, calls = training.translation_loss, []

    def loss_with_two_bad_steps(model, batch, label_smoothing):
        calls.append(1)
        loss = real_loss(model, batch, label_smoothing)
        return loss * math.nan if len(calls) in (3, 4) else loss

    monkeypatch.setattr(training, "translation_loss", loss_with_two_bad_steps)
    trainer = Trainer(tiny(max_steps=6), tmp_path, **QUIET)
    weights, train_step = [], trainer.train_step

    def step_and_keep_the_weights(batch):
        result = train_step(batch)
        weights.append(trainer.model.state_dict())  # copies
        return result

    monkeypatch.setattr(trainer, "train_step", step_and_keep_the_weights)
    summary = trainer.train()
    assert summary["stopped"] == "max_steps" and summary["steps"] == 6
    assert [math.isnan(loss) for loss in trainer.step_losses] == [0, 0, 1, 1, 0, 0]
    for name, value in weights[1].items():  # steps 3 and 4 changed nothing
        np.testing.assert_array_equal(weights[3][name], value, err_msg=name)
    assert not np.array_equal(weights[4]["generator.weight"], weights[3]["generator.weight"])
    assert (tmp_path / "best.ckpt").exists() and (tmp_path / "last.ckpt").exists()


def test_the_command_line_exits_1_when_the_validation_loss_is_nan(tmp_path, capsys):
    """One batch per epoch: the validation after step 1 meets the overflowing weights first."""
    options = ["--data", "reverse", "--data-option", "num_train=64", "--d-model", "16",
               "--num-heads", "2", "--d-ff", "32", "--no-progress"]  # fmt: skip
    assert main(["train", *options, "--lr", "1e30", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "stopping at step 1: the validation loss is nan, so this model is not saved" in out
    assert "stopped after 1 steps (diverged)" in out
    assert "checkpoint:" not in out  # none was written


def test_nonfinite_weights_are_refused_by_save_translate_and_evaluate(tmp_path, capsys):
    trainer = Trainer(tiny(max_steps=1), tmp_path, **QUIET)
    trainer.train()
    content = read_checkpoint(tmp_path / "last.ckpt")
    content["model"]["generator.weight"][0, 0] = np.nan
    bad = tmp_path / "nan.ckpt"
    save_checkpoint(bad, **{k: v for k, v in content.items() if k not in ("kind", "version")})
    for command in (["translate", "--checkpoint", str(bad), "123"],
                    ["evaluate", "--checkpoint", str(bad)]):  # fmt: skip
        assert main(command) == 2
        error = capsys.readouterr().err
        assert (
            f"{bad}: the model's weights are not finite (NaN or inf in generator.weight)" in error
        )
    trainer.model.generator.weight.data[0, 0] = np.inf
    with pytest.raises(CheckpointError, match="not finite"):
        trainer.save("best.ckpt")
    with pytest.raises(CheckpointError, match="not finite"):
        Trainer.resume(bad, **QUIET)
