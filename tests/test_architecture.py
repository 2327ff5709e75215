"""The architecture's boundaries, checked: code above `minigrad.nn` never asks which path runs.

The teaching path (composed ops, numpy references) and the fast path (fused ops, Numba kernels)
meet only inside minigrad: `transformer/` calls `F.*` and modules, never the fused switch or the
kernels (docs/architecture.md).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRANSFORMER_FILES = sorted((ROOT / "transformer").rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module (and `module.name`) that a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", TRANSFORMER_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_transformer_never_reaches_into_the_fast_path(path):
    imports = imported_modules(path)
    assert not {m for m in imports if m.startswith("minigrad.kernels")}, imports
    assert not {m for m in imports if m.endswith("is_fused_enabled") or "fusion" in m}, imports
    assert "is_fused_enabled" not in path.read_text(encoding="utf-8")
