"""The notebooks under notebooks/ run top to bottom (at toy sizes: NOTEBOOK_TINY=1), show their
pictures inline, and are committed without outputs."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebooks need the [dev] extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebooks need the [dev] extra (nbclient)")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ROOT = Path(__file__).resolve().parents[1]
SERIES = [  # issue 19's series; any other notebook found there runs too
    "01_autograd_from_scratch",
    "02_transformer_by_component",
    "03_debugging_gradient_flow",
    "04_translation_model",
]


def test_there_are_notebooks_and_they_are_stripped():
    assert set(SERIES) <= {path.stem for path in NOTEBOOKS}
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_at_toy_size(path, monkeypatch, tmp_path):
    monkeypatch.setenv("NOTEBOOK_TINY", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # what a notebook writes at toy size goes here
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    notebook = nbformat.read(path, as_version=4)
    where = {"metadata": {"path": str(path.parent)}}
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources=where)
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    shown = {kind for o in outputs for kind in o.get("data", {})}
    assert "image/svg+xml" in shown or "image/png" in shown  # the pictures appear inline
    # every object left at the end of a cell shows itself: none is only a default repr such as
    # "<Figure size 640x480 with 1 Axes>" or "<... object at 0x...>"
    bare = [
        o["data"]["text/plain"]
        for o in outputs
        if set(o.get("data", {})) == {"text/plain"} and o["data"]["text/plain"].startswith("<")
    ]
    assert not bare, f"{path.name}: shown as text only: {bare}"
