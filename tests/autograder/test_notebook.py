"""Does a broken or tampered notebook get a clear message and a valid, fair result?"""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.pipeline import grade_notebook
from tests.support import ASSIGNMENTS, build_submission


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("", "empty"),
    ("{not json", "not valid JSON"),
    ("[1, 2, 3]", "not a Jupyter notebook"),
    ('{"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "not a readable notebook"),
    ("import torch\n\ndef corr2d(X, K):\n    return X\n", "Python source"),
])
def test_an_unreadable_file_scores_zero_with_a_message(tmp_path, release_01, content, message):
    path = tmp_path / "01_corr2d.ipynb"
    if content is not None:
        path.write_text(content)
    result = grade_notebook(path, release_01)
    assert result.score == 0
    assert result.max_score == pytest.approx(sum(release_01.item_points().values()))
    assert any(message in note for note in result.notes), result.notes


@pytest.mark.parametrize("depth", [900, 5000, 100_000])
def test_deeply_nested_json_is_a_clear_message_not_a_crash(tmp_path, release_01, depth):
    text = (ASSIGNMENTS / "01_corr2d" / "01_corr2d.ipynb").read_text().rstrip()
    path = tmp_path / "01_corr2d.ipynb"
    path.write_text(text[:-1] + ', "deep": ' + '{"a": ' * depth + "1" + "}" * depth + "}")
    result = grade_notebook(path, release_01)
    assert result.score == 0 and any("nested too deeply" in note for note in result.notes), result.notes


def test_stripped_metadata_falls_back_to_cell_ids(tmp_path, release_01):
    path = build_submission(tmp_path, "01_corr2d")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(notebook, path)
    result = grade_notebook(path, release_01)
    assert result.score == pytest.approx(result.max_score)
    assert any("matched by cell id" in note for note in result.notes)


def test_an_edited_test_cell_changes_nothing_but_a_note(tmp_path, release_01):
    path = build_submission(tmp_path, "01_corr2d", {"corr2d": "def corr2d(X, K):\n    return X\n"})
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_corr2d":
            cell.source = "pass"
            cell.metadata["nbgrader"]["points"] = 1000
    nbformat.write(notebook, path)
    result = grade_notebook(path, release_01)
    corr2d = [e for e in result.entries if e.name.startswith("01_corr2d/corr2d:")]
    assert sum(e.max_score for e in corr2d) == 4 and sum(e.score for e in corr2d) == 0
    assert any("test_corr2d' was edited" in note for note in result.notes)


def test_a_deleted_solution_cell_loses_only_what_needs_it(tmp_path, release_01):
    path = build_submission(tmp_path, "01_corr2d")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells
                      if c.metadata.get("nbgrader", {}).get("grade_id") != "receptive_field"]
    nbformat.write(notebook, path)
    result = grade_notebook(path, release_01)
    lost = {e.name.split(":")[0] for e in result.entries if e.status == "failed"}
    assert lost == {"01_corr2d/receptive_field"}
    assert any("'receptive_field' was not found" in note for note in result.notes)


def test_a_huge_output_cell_is_ignored(tmp_path, release_01):
    path = build_submission(tmp_path, "01_corr2d")
    notebook = nbformat.read(path, as_version=4)
    flood = nbformat.v4.new_output("stream", name="stdout", text="x" * (50 << 20))
    notebook.cells.append(nbformat.v4.new_code_cell(outputs=[flood]))
    nbformat.write(notebook, path)
    result = grade_notebook(path, release_01)
    assert result.score == pytest.approx(result.max_score)
    json.dumps([e.output for e in result.entries])


def with_a_helper_cell(tmp_path, helper: str = "def shift_sum(X, K):\n    return X.sum() * K.sum()\n"):
    """01, with corr2d calling a helper that the student defined in a cell of their own, after the setup."""
    path = build_submission(tmp_path, "01_corr2d", {"corr2d": "def corr2d(X, K):\n    return shift_sum(X, K)\n"})
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(2, nbformat.v4.new_code_cell(helper))
    nbformat.write(notebook, path)
    return path


def test_names_defined_only_in_cells_the_grader_skips_are_known_with_their_cell(tmp_path, release_01):
    from autograder.notebook import read_submission

    path = with_a_helper_cell(tmp_path, "import numpy as numpy_again\nfrom math import pi as PI\n"
                                        "def shift_sum(X, K):\n    return X\nscale, (a, b) = 2, (3, 4)\n")
    submission = read_submission(path, release_01)
    assert set(submission.elsewhere) >= {"numpy_again", "PI", "shift_sum", "scale", "a", "b"}
    assert submission.elsewhere["shift_sum"] == \
        "the 3rd cell from the top (`import numpy as numpy_again`, a cell you added)"
    assert "X_edge" in submission.elsewhere and "a cell you added" not in submission.elsewhere["X_edge"]
    assert "corr2d" not in submission.elsewhere                   # defined where the grader runs it
    hint = submission.hint("corr2d(X 3x3) raised NameError: name 'shift_sum' is not defined")
    assert "'shift_sum' is defined only in the 3rd cell from the top" in hint and "does not run" in hint
    assert submission.hint("raised NameError: name 'nowhere' is not defined") == ""


def test_the_feedback_of_a_name_error_names_the_cell_the_grader_did_not_run(tmp_path, release_01):
    result = grade_notebook(with_a_helper_cell(tmp_path), release_01)
    corr2d = [e for e in result.entries if e.name.startswith("01_corr2d/corr2d:")]
    assert corr2d and all(e.score == 0 for e in corr2d)
    assert all("'shift_sum' is defined only in the 3rd cell from the top (`def shift_sum(X, K):`, a cell you added), "
               "which the grader does not run" in e.output for e in corr2d), [e.output for e in corr2d]
