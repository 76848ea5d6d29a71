"""Does every notebook's setup cell hold the helpers exactly as ``autograder/release/setup_helpers.py`` writes them?"""

from __future__ import annotations

import ast
import inspect

import nbformat
import pytest

from autograder.release import setup_helpers
from tests.support import ASSIGNMENTS

ROOT = ASSIGNMENTS.parent
NOTEBOOKS = sorted([*ROOT.glob("solutions/[0-9][0-9]_*/*.ipynb"), *ROOT.glob("assignments/[0-9][0-9]_*/*.ipynb")])
CANONICAL = {node.name: ast.dump(node) for node in ast.parse(inspect.getsource(setup_helpers)).body
             if isinstance(node, ast.FunctionDef)}


def setup_functions(path) -> dict[str, str]:
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup"]
    assert len(cells) == 1, f"{path}: one setup cell"
    return {node.name: ast.dump(node) for node in ast.parse(cells[0].source).body
            if isinstance(node, ast.FunctionDef)}


def test_every_source_and_release_is_found():
    assert len(NOTEBOOKS) == 2 * len(list(ROOT.glob("solutions/[0-9][0-9]_*"))) >= 12


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.parent.name}/{path.parent.name}")
def test_the_setup_cell_holds_the_one_copy_of_the_helpers(path):
    functions = setup_functions(path)
    missing = [name for name in setup_helpers.REQUIRED if name not in functions]
    assert not missing, f"{path}: the setup cell lacks {missing}"
    stale = [name for name in CANONICAL if name in functions and functions[name] != CANONICAL[name]]
    assert not stale, f"{path}: {stale} differ from autograder/release/setup_helpers.py: copy them from there"
