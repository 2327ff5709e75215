"""examples/figures_transformer.py draws every figure docs/transformer.md shows (short runs)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_transformer_figures_example_writes_the_documented_figures(tmp_path):
    command = [sys.executable, str(ROOT / "examples" / "figures_transformer.py")]
    subprocess.run([*command, "--out", str(tmp_path), "--steps", "30"], check=True, timeout=300)
    written = {p.name for p in tmp_path.iterdir()}
    documented = {
        line.split("figures/")[1].split(")")[0]
        for line in (ROOT / "docs" / "transformer.md").read_text().splitlines()
        if "](figures/transformer_" in line
    }
    assert documented and documented <= written
