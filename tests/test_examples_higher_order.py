"""The higher-order example runs at a tiny size and prints the numbers its docstrings promise."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_higher_order_example():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "06_higher_order.py"), "--steps", "3"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "third derivative of x^4 + e^x at 1: 26.718282 (exact 26.718282)" in result.stdout
    assert "Hessian-vector product: [ 4. -2.  0.] (explicit H @ v: [ 4. -2.  0.] )" in result.stdout
    assert "Newton: x = 1.1309011226" in result.stdout
    assert "gradient penalty: step 2:" in result.stdout
