"""Does ``python -m autograder new`` scaffold an assignment that the course takes as it is, in its own folders only?"""

from __future__ import annotations

import importlib.util
import shutil

import nbformat
import pytest

from autograder import cli
from autograder.course import COURSE, RULES_CELL_ID, SETUP_GRADE_ID, Course
from autograder.judge import plugin as judge
from autograder.notebook import read_release
from autograder.release import rules_cell, scaffold
from autograder.verbs import new
from tests.support import RUN_HIDDEN, canonical_helpers, setup_functions

NAME = "09_scaffold_check"     # no assignment of the course: the judge's declarations never mix it up with one


@pytest.fixture
def course(tmp_path, monkeypatch) -> Course:
    """An empty course beside a copy of one assignment's source, its cases read from there."""
    shutil.copytree(COURSE.solutions / "03_pooling", tmp_path / "solutions" / "03_pooling")
    shutil.copy(COURSE.nbgrader_config, tmp_path)
    monkeypatch.setattr(judge, "CASES", tmp_path / "autograder" / "cases")
    judge.declaration.cache_clear()
    yield Course(tmp_path)
    judge.declaration.cache_clear()


def files(root) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_the_scaffold_writes_its_own_folders_and_nothing_else(course):
    before = files(course.root)
    written = new.scaffold(NAME, course, release=False)
    made = files(course.root) - before
    assert {str(path.relative_to(course.root)) for path in written} == made
    assert files(course.root) >= before
    assert all(any(course.root / path == own or own in (course.root / path).parents
                   for own in course.own_paths(NAME)) for path in made), made
    assert {f"solutions/{NAME}/{NAME}.ipynb", f"autograder/cases/test_{NAME}.py",
            f"tests/samples/{NAME}/README.md"} <= made
    assert course.assignment_ids() == ["03_pooling", NAME]


def test_the_source_notebook_is_valid_and_carries_the_generated_rules_and_setup_cells(course):
    new.scaffold(NAME, course, release=False)
    notebook = nbformat.read(course.source(NAME), as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[1].get("id") == RULES_CELL_ID
    assert rules_cell.cell_text(notebook) == rules_cell.text(NAME)
    setup = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SETUP_GRADE_ID]
    assert len(setup) == 1 and setup[0].source == scaffold.setup_source()
    assert setup_functions(course.source(NAME)) == canonical_helpers()


def test_the_cell_metadata_follows_the_other_notebooks(course):
    new.scaffold(NAME, course, release=False)
    ours = nbformat.read(course.source(NAME), as_version=4)
    theirs = nbformat.read(COURSE.source("03_pooling"), as_version=4)
    assert ours.metadata == theirs.metadata and ours.nbformat_minor == theirs.nbformat_minor
    kinds = {}
    for cell in theirs.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            kinds[(meta["grade"], meta["solution"], meta["locked"])] = set(meta)
    for cell in ours.cells:
        meta = cell.metadata.get("nbgrader")
        assert cell.get("id"), "every cell has an id"
        if meta:
            assert set(meta) == kinds[(meta["grade"], meta["solution"], meta["locked"])], cell.id
            assert cell.id == meta["grade_id"]


def test_the_cases_file_declares_the_item_that_the_test_cell_runs(course):
    new.scaffold(NAME, course, release=False)
    spec = importlib.util.spec_from_file_location("scaffold_cases", course.cases_file(NAME))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ASSIGNMENT.name == NAME and module.ASSIGNMENT.items == (scaffold.ITEM,)
    assert judge.declaration(NAME).items == (scaffold.ITEM,)
    source = read_release(course.source(NAME))
    assert source.item_points() == {scaffold.ITEM: scaffold.POINTS}
    tests = [cell for cell in nbformat.read(course.source(NAME), as_version=4).cells
             if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"]
    assert [RUN_HIDDEN.findall(cell.source) for cell in tests] == [[f"{NAME}/{scaffold.ITEM}"]]


@pytest.mark.parametrize("name", ["7_x", "07-x", "07_X", "07_", "07_x__y", "x_07", "07_x.ipynb", "../07_x"])
def test_a_bad_name_is_refused_with_exit_status_2(name, capsys):
    assert cli.main(["new", name]) == 2
    assert "not an assignment name" in capsys.readouterr().err


def test_an_existing_assignment_or_number_is_refused_and_left_alone(course, capsys):
    with pytest.raises(new.NewError, match="number 03 is taken by 03_pooling"):
        new.scaffold("03_other", course, release=False)
    new.scaffold(NAME, course, release=False)
    before = course.source(NAME).read_bytes()
    with pytest.raises(new.NewError, match="exists already"):
        new.scaffold(NAME, course, release=False)
    assert course.source(NAME).read_bytes() == before
    assert cli.main(["new", "01_corr2d"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_the_release_is_generated_and_the_scaffolds_own_solution_scores_full_marks(course):
    from autograder.pipeline import grade_notebook

    written = new.scaffold(NAME, course)
    assert written[-1] == course.release(NAME) and course.release(NAME).is_file()
    release = read_release(course.release(NAME))
    assert "BEGIN SOLUTION" not in course.release(NAME).read_text()
    result = grade_notebook(course.source(NAME), release, student="someone")
    assert result.seed is not None, "the hidden cases ran"
    assert len([entry for entry in result.entries if "public checks" not in entry.name]) >= 1
    assert result.max_score == pytest.approx(scaffold.POINTS)
    assert result.score == pytest.approx(result.max_score), [e.output for e in result.entries]
