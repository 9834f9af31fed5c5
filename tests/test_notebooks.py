"""Every notebook in notebooks/ runs top to bottom, and is stored without outputs.

The notebooks are found by globbing, so a new one (e.g. ``04_calibration.ipynb``) is
tested without changing this file. Each runs in a fresh kernel of this interpreter
(ipykernel's ``python3`` kernel resolves to the running Python), importing the same
pfpp_sim as the tests, with the notebook's folder as working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import pfpp_sim

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 120


def test_the_notebooks_are_there():
    assert {"01_quickstart", "02_what_if_scenarios", "03_sweeps_and_sensitivity", "04_calibration", "05_teaching_session"} <= {
        p.stem for p in NOTEBOOKS
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    notebook = nbformat.read(path, as_version=4)
    package_root = str(Path(pfpp_sim.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env=env)  # raises CellExecutionError, with the cell and traceback, if any cell fails
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")
