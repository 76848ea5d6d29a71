"""Does a blank release run from top to bottom, failing only in its test cells?

A student who has written nothing yet runs *Restart & Run All*: every demo and
self-check must cope with the stubs, so the only errors are the test cells'.
"""

from __future__ import annotations

import concurrent.futures

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS


def run_to_the_end(assignment: str):
    folder = ASSIGNMENTS / assignment
    notebook = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


@pytest.fixture(scope="module")
def ran():
    """Every blank release, run in a kernel of its own, two at a time: assignment -> the notebook run."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(zip(ASSIGNMENT_IDS, pool.map(run_to_the_end, ASSIGNMENT_IDS), strict=True))


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_a_blank_release_runs_to_the_end_and_only_its_test_cells_fail(ran, assignment):
    notebook = ran[assignment]
    failing = {cell.get("id") for cell in notebook.cells if cell.cell_type == "code"
               and any(output.output_type == "error" for output in cell.outputs)}
    tests = {cell.get("id") for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")
             and cell.cell_type == "code"}
    assert failing == tests, f"cells other than the test cells fail: {sorted(failing - tests)}"
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert printed.count("not attempted yet (optional, not graded)") >= 2
