"""examples/04_visualize.py draws every picture of docs/visualization.md (a short copy task)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed")
def test_visualize_example_writes_the_documented_pictures(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "04_visualize.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    pictures = {p.name for p in tmp_path.iterdir()}
    documented = set(
        line.split("figures/")[1].split(")")[0]
        for line in (ROOT / "docs" / "visualization.md").read_text().splitlines()
        if "](figures/viz_" in line
    )
    assert documented and documented <= pictures
    assert "encoder layer: 38 ops" in result.stdout  # the count docs/visualization.md states
    assert "38 ops and 16 parameters" in (ROOT / "docs" / "visualization.md").read_text()
