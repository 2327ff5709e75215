"""The record of a training run: a JSON-lines log of every metric, and the plot drawn from it.

Each line of `log.jsonl` is one JSON object with a `"kind"`:

    {"kind": "train", "step": 50, "epoch": 1, "loss": 3.12, "lr": 0.0004, "tokens_per_s": 6100,
     "ms_per_step": 41.0, "grad_norm": 1.8, "train_seconds": 7.9}
    {"kind": "valid", "step": 313, "epoch": 1, "loss": 1.05, "perplexity": 2.9, "chrf": 71.2, ...}
    {"kind": "event", "message": "resumed from ...", "step": 313}    (or "skipped the update...")
    {"kind": "summary", "step": 939, "stopped": "early stopping", ...}   {"kind": "test", ...}

`step` counts training steps (batches) since the start of the run; `epoch` is the epoch the step
belongs to, counted from 1 as the progress bar shows it ("epoch 1/20"), so the validation at the
end of the first epoch says epoch 1. (Checkpoints store `Progress.epoch`, the 0-based index of
the epoch in progress.)

The training loss is label-smoothed, so it cannot fall below the entropy of the smoothed
target distribution (`smoothing_floor`); the plot draws that floor, and says on the plot that
the validation loss (plain cross-entropy) is not smoothed, so it may sit far below.

A resumed run continues the log of the run it resumes, so the plot shows the whole history:
the records after the checkpoint's step (written before a crash, and about to be trained again)
are dropped (`lines_up_to`), and an event says how many. JSON lines are easy to read back
(`read_log`) and to inspect with `grep`, `jq` or pandas.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any


class TrainLog:
    """Appends JSON records to a file (flushed at once, so a crash loses nothing).

    Creating one touches nothing; the file (in an existing folder) is opened at each `write`.
    """

    def __init__(self, path: str | Path | None):
        self.path = None if path is None else Path(path)

    def write(self, kind: str, **record: Any) -> dict[str, Any]:
        """Append one record (with its kind and a timestamp) and return it."""
        record = {"kind": kind, **record, "time": round(time.time(), 3)}
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record


def smoothing_floor(label_smoothing: float, num_classes: int) -> float:
    """The least label-smoothed cross-entropy: the entropy of q = (1 - eps) onehot + eps / C."""
    eps, c = label_smoothing, num_classes
    if eps <= 0:
        return 0.0
    rest = eps / c
    top = 1 - eps + rest
    return -(top * math.log(top) + (c - 1) * rest * math.log(rest))


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """All records of a JSON-lines log (a torn last line, e.g. after a crash, is skipped)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def lines_up_to(path: str | Path, step: int) -> tuple[list[str], int]:
    """The lines of a log whose records belong to steps <= `step`, and how many were dropped.

    Records without a step are kept; a torn line (see `read_log`) is dropped. A missing log has
    no lines.
    """
    path = Path(path)
    if not path.is_file():
        return [], 0
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            dropped += 1
            continue
        if record.get("step", step) <= step:
            kept.append(line)
        else:
            dropped += 1
    return kept, dropped


def curves_figure(records: list[dict[str, Any]]):
    """Training/validation loss and the learning rate against the step (a matplotlib Figure,
    no pyplot). With label smoothing the plot says, on the plot, that the training loss is
    smoothed (and draws its floor) while the validation loss is not, so the two are not
    comparable: validation sitting far below training is expected."""
    from minigrad.viz.plots import new_figure

    train = [r for r in records if r["kind"] == "train"]
    valid = [r for r in records if r["kind"] == "valid"]
    floor = next((r["loss_floor"] for r in reversed(records) if "loss_floor" in r), None)
    fig = new_figure(7, 6)
    ax_loss, ax_lr = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    steps = [r["step"] for r in train]
    smoothed = " (label-smoothed)" if floor else ""
    ax_loss.plot(steps, [r["loss"] for r in train], label=f"train{smoothed}")
    if valid:
        label = "validation (plain cross-entropy)" if floor else "validation"
        ax_loss.plot([r["step"] for r in valid], [r["loss"] for r in valid], "o-", label=label)
    if floor:
        ax_loss.axhline(floor, color="tab:blue", linestyle=":", label="label-smoothing floor")
        ax_loss.text(0.01, 0.02, "train loss is label-smoothed, validation loss is not:\n"
                     "validation below train is expected, not a bug", transform=ax_loss.transAxes,
                     fontsize=8, color="#555555", va="bottom")  # fmt: skip
    ax_loss.set_ylabel("cross-entropy per token")
    ax_loss.set_yscale("log")
    ax_loss.legend(loc="upper right")
    ax_loss.grid(alpha=0.3)
    ax_lr.plot(steps, [r["lr"] for r in train], color="tab:green")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_xlabel("optimizer step")
    ax_lr.grid(alpha=0.3)
    return fig


def plot_curves(log_path: str | Path, out_path: str | Path) -> Path:
    """Draw `curves_figure` of the log at ``log_path`` into a PNG at ``out_path``."""
    out_path = Path(out_path)
    curves_figure(read_log(log_path)).savefig(out_path, dpi=100)
    return out_path
