"""Do the hidden cases, the releases and the instructor's notebooks name the same items?"""

from __future__ import annotations

import re

import nbformat
import pytest

from autograder import judge
from autograder.notebook import read_release
from tests.conftest import ASSIGNMENT_IDS, ASSIGNMENTS, SOLUTIONS

RUN_HIDDEN = re.compile(r"run_hidden\(\s*[\"']([^\"']+)[\"']")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_declared_item_is_a_graded_cell_of_the_release_and_back(assignment):
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    declared = judge.declaration(assignment)
    assert declared is not None, f"autograder/cases/test_{assignment}.py is missing"
    assert list(declared.items) == list(release.item_points()), (
        f"the cases of {assignment} declare {list(declared.items)}; the release grades {list(release.item_points())}")
    assert set(declared.rules) <= set(declared.items)


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_source_test_cell_runs_the_hidden_cases_of_its_own_item(assignment):
    notebook = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
    tests = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")
             and cell.cell_type == "code"]
    assert tests
    for cell in tests:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert RUN_HIDDEN.findall(cell.source) == [f"{assignment}/{grade_id.removeprefix('test_')}"], grade_id


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_item_has_hidden_cases(assignment):
    source = judge.cases_file(assignment).read_text()
    for item in judge.declaration(assignment).items:
        assert re.search(rf"@item\(\"{item}\"", source), f"{assignment}/{item} has no hidden case"
