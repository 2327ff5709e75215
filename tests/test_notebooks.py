"""The notebooks under notebooks/ run top to bottom (at toy sizes: NOTEBOOK_TINY=1) and are
committed without outputs."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebooks need the [dev] extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebooks need the [dev] extra (nbclient)")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ROOT = Path(__file__).resolve().parents[1]


def test_there_are_notebooks_and_they_are_stripped():
    assert len(NOTEBOOKS) >= 2
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_at_toy_size(path, monkeypatch):
    monkeypatch.setenv("NOTEBOOK_TINY", "1")
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    notebook = nbformat.read(path, as_version=4)
    where = {"metadata": {"path": str(path.parent)}}
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources=where)
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    shown = {kind for o in outputs for kind in o.get("data", {})}
    assert "image/svg+xml" in shown or "image/png" in shown  # the pictures appear inline
