"""Does every notebook's setup cell hold the helpers exactly as ``autograder/release/setup_helpers.py`` writes them?"""

from __future__ import annotations

import ast
import inspect

import nbformat
import pytest

from autograder.course import COURSE, SETUP_GRADE_ID
from autograder.release import setup_helpers

NOTEBOOKS = sorted([*map(COURSE.source, COURSE.assignment_ids()), *map(COURSE.release, COURSE.released_ids())])
CANONICAL = {node.name: ast.dump(node) for node in ast.parse(inspect.getsource(setup_helpers)).body
             if isinstance(node, ast.FunctionDef)}


def setup_functions(path) -> dict[str, str]:
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SETUP_GRADE_ID]
    assert len(cells) == 1, f"{path}: one setup cell"
    return {node.name: ast.dump(node) for node in ast.parse(cells[0].source).body
            if isinstance(node, ast.FunctionDef)}


def test_every_source_and_release_is_found():
    assert all(path.is_file() for path in NOTEBOOKS)
    assert len(NOTEBOOKS) == 2 * len(COURSE.assignment_ids()) >= 12


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.parent.name}/{path.parent.name}")
def test_the_setup_cell_holds_the_one_copy_of_the_helpers(path):
    functions = setup_functions(path)
    missing = [name for name in setup_helpers.REQUIRED if name not in functions]
    assert not missing, f"{path}: the setup cell lacks {missing}"
    stale = [name for name in CANONICAL if name in functions and functions[name] != CANONICAL[name]]
    assert not stale, f"{path}: {stale} differ from autograder/release/setup_helpers.py: copy them from there"
