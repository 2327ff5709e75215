"""`python -m transformer report`: one self-contained page, checked as text and in a real
headless Chromium (no console errors; the screenshot's pixels show the curves and the graph)."""

import re
import shutil
import subprocess

import numpy as np
import pytest

from transformer.cli import main
from transformer.report import write_report
from transformer.train_config import TrainConfig
from transformer.training import Trainer

VALID_ORANGE = (0xFF, 0x7F, 0x0E)  # the validation loss: only the curves use these two
LR_GREEN = (0x2C, 0xA0, 0x2C)  # the learning rate
PARAM_GREEN = (0xD9, 0xF0, 0xD3)  # parameter boxes of the graph (minigrad.viz.render)
MODULE_LILAC = (0xE5, 0xE5, 0xF7)  # folded-module boxes of the graph


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny finished run (9 steps of the reverse task) with its report."""
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(
        data="reverse",
        data_options={"num_train": 64, "num_valid": 8, "num_test": 8, "max_len": 5},
        d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
        batch_size=16, warmup=5, max_steps=6, log_every=2,
    )  # fmt: skip
    Trainer(config, out, progress_bar=False, echo=lambda *a: None).train()
    write_report(out)
    return out


def test_the_page_has_every_part_and_loads_nothing(run_dir):
    page = (run_dir / "report.html").read_text()
    for heading in ("Settings", "Loss and learning rate", "Validation metrics per epoch",
                    "Sample translations", "Attention maps", "Gradient flow",
                    "Residual connections", "The graph of that step"):  # fmt: skip
        assert f"<h2>{heading}" in page
    assert "label-smoothed" in page and "decoder.layers.0.cross_attn" in page
    assert page.count("<svg") >= 6 and "<script" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)=["'](https?:|//)""", page)  # nothing from a network


def test_report_command_and_its_errors(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.html")]) == 0
    assert f"report: {tmp_path / 'r.html'}" in capsys.readouterr().out
    assert (tmp_path / "r.html").stat().st_size > 10_000
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no log.jsonl" in capsys.readouterr().err


def _chromium() -> str | None:
    return next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )


def _pixels_near(image: np.ndarray, colour, tolerance: int = 6) -> int:
    return int((np.abs(image[..., :3].astype(int) - colour).max(axis=-1) <= tolerance).sum())


def test_the_page_in_headless_chromium_shows_curves_and_graph(run_dir, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium: `apt-get install chromium` (make test does, as root)")
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--hide-scrollbars", "--window-size=1200,9000", f"--screenshot={shot}",
         (run_dir / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.is_file(), result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)  # script errors, blocked loads (the CSP), ...
    image = (imread(shot) * 255).round().astype(np.uint8)
    curves = min(_pixels_near(image, VALID_ORANGE), _pixels_near(image, LR_GREEN))
    assert curves > 100, "no loss and learning-rate curves in the screenshot"
    graph = _pixels_near(image, PARAM_GREEN) + _pixels_near(image, MODULE_LILAC)
    assert graph > 2000, "no graph in the screenshot"
