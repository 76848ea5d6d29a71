"""Does every notebook's setup cell hold the helpers exactly as ``autograder/release/setup_helpers.py`` writes them?"""

from __future__ import annotations

import ast

import nbformat
import pytest

from autograder.course import COURSE, SETUP_GRADE_ID
from autograder.release import setup_helpers
from tests.support import canonical_helpers, setup_functions

NOTEBOOKS = sorted([*map(COURSE.source, COURSE.assignment_ids()), *map(COURSE.release, COURSE.released_ids())])
CANONICAL = canonical_helpers()


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


def test_the_writer_puts_the_one_copy_back_into_a_stale_notebook(tmp_path):
    from autograder.release.rules_cell import write_helpers

    path = tmp_path / "01_corr2d.ipynb"
    path.write_bytes(COURSE.source("01_corr2d").read_bytes())
    notebook = nbformat.read(path, as_version=4)
    setup = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SETUP_GRADE_ID)
    tree = ast.parse(setup.source)
    lost = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "self_check")
    lines = setup.source.split("\n")
    del lines[lost.lineno - 1:lost.end_lineno]                          # a required helper gone...
    setup.source = "\n".join(lines).replace("expected shape", "wanted shape")   # ...and another one stale
    nbformat.write(notebook, path)
    assert setup_functions(path)["check_close"] != CANONICAL["check_close"]
    assert write_helpers(path) and not write_helpers(path), "written once, then nothing left to change"
    functions = setup_functions(path)
    assert {name: functions[name] for name in CANONICAL if name in functions} == \
        {name: CANONICAL[name] for name in CANONICAL if name in functions}
    assert "self_check" in functions
    def others(notebook_path):
        return [cell.source for cell in nbformat.read(notebook_path, as_version=4).cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") != SETUP_GRADE_ID]

    assert others(path) == others(COURSE.source("01_corr2d")), "no other cell changes"


def test_check_close_shows_small_tensors_whole_and_big_ones_as_their_worst_entries():
    import pytest
    import torch

    from autograder.release.setup_helpers import check_close

    expected = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(AssertionError) as small:
        check_close(expected + torch.tensor([[0, 0, 0], [0, 2.5, 0]]), expected, "f(X)")
    message = str(small.value)
    assert "values differ at 1 of 6 positions" in message and "index (1, 1)" in message
    assert message.count("tensor(") == 2 and "[3., 4., 5.]" in message, "both tensors, whole"
    big = torch.zeros(40, 40)
    wrong = big.clone()
    wrong[7, 31], wrong[39, 0] = 3.0, -1.0
    with pytest.raises(AssertionError) as large:
        check_close(wrong, big, "f(X (40, 40))")
    lines = str(large.value).splitlines()
    assert "tensor(" not in str(large.value)
    assert lines[1] == "largest differences (index: got, expected):"
    assert lines[2:] == ["  (7, 31): 3, 0", "  (39, 0): -1, 0"], "the wrong entries, worst first, and no others"
