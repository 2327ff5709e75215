"""examples/demo.py (`make demo`): Ctrl-C before the first validation stops cleanly, saying
where the model so far is, instead of crashing on the missing best.ckpt."""

import signal
from pathlib import Path

from helpers import load_script

from transformer.training import Trainer

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_ctrl_c_before_the_first_validation_stops_cleanly(tmp_path, monkeypatch, capsys):
    demo = load_script(DEMO, "demo")
    train_step = Trainer.train_step

    def ctrl_c_during_the_first_step(self, batch):
        signal.raise_signal(signal.SIGINT)  # Trainer: stop after this step, save last.ckpt
        return train_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", ctrl_c_during_the_first_step)
    assert demo.main(["--quick", "--out", str(tmp_path)]) == 130
    printed = capsys.readouterr().out
    assert (
        f"interrupted: no test scores; the model so far is in {tmp_path / 'last.ckpt'}" in printed
    )
    assert not (tmp_path / "best.ckpt").exists()
