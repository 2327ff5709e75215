"""The autograd example runs and prints the numbers docs/autograd.md explains."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_autograd_basics_example_prints_documented_numbers():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "01_autograd_basics.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "out = tanh(z) = -0.244919" in result.stdout
    assert "w.grad = [0.94001485 1.8800297  2.82004455]" in result.stdout
    assert "minigrad.gradcheck: True" in result.stdout
    docs = (ROOT / "docs" / "autograd.md").read_text()
    assert "0.94001485, 1.8800297, 2.82004455" in docs
