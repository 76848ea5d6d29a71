"""Does grading give each submission the score it earned, and say why?"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from autograder.grade import grade_notebook
from autograder.notebook import read_release
from autograder.report import results_json
from tests.conftest import ASSIGNMENTS, SAMPLES, SOLUTIONS, build_submission, read_sample


def item_scores(result) -> dict[str, tuple[float, float]]:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for entry in result.entries:
        item = entry.name.split(":")[0].split("/")[1]
        totals[item][0] += entry.score
        totals[item][1] += entry.max_score
    return {item: (round(s, 6), round(m, 6)) for item, (s, m) in totals.items()}


ASSIGNMENT_IDS = sorted(p.name for p in SOLUTIONS.glob("[0-9][0-9]_*"))


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """Each assignment's release filled with the instructor's solution, graded once."""
    cache = {}

    def grade(assignment):
        if assignment not in cache:
            path = build_submission(tmp_path_factory.mktemp("solved"), assignment)
            cache[assignment] = grade_notebook(path, read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb"))
        return cache[assignment]
    return grade


@pytest.fixture(scope="module")
def solved_01(solved):
    return solved("01_corr2d")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_a_correct_submission_scores_full_marks(solved, assignment):
    result = solved(assignment)
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    assert result.max_score == pytest.approx(sum(release.item_points().values()))
    failed = [(e.name, e.output) for e in result.entries if e.status != "passed"]
    assert not failed
    assert result.score == pytest.approx(result.max_score)


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_instructor_solution_notebook_scores_full_marks(assignment):
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    result = grade_notebook(SOLUTIONS / assignment / f"{assignment}.ipynb", release)
    assert result.score == pytest.approx(result.max_score), [e.output for e in result.entries if e.output]
    assert not any("edited" in note for note in result.notes), result.notes


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_blank_release_scores_zero_without_crashing(assignment):
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    result = grade_notebook(release.path, release)
    assert result.max_score == pytest.approx(sum(release.item_points().values()))
    assert result.score == 0
    assert all("NotImplementedError" in e.output for e in result.entries if e.max_score), \
        [e.output for e in result.entries]


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_item_has_public_and_hidden_cases_and_public_weighs_a_quarter(solved, assignment):
    result = solved(assignment)
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    for item, points in release.item_points().items():
        mine = [e for e in result.entries if e.name.startswith(f"{assignment}/{item}:")]
        public = [e for e in mine if "public checks" in e.name]
        assert len(public) == 1 and len(mine) >= 2, item
        assert public[0].max_score <= points / 4 + 1e-9, item


SAMPLE_FILES = sorted(SAMPLES.glob("*/*.py"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in SAMPLE_FILES])
def test_a_sample_loses_exactly_the_items_it_gets_wrong(sample, tmp_path):
    assignment = sample.parent.name
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    overrides, loses, mistake = read_sample(sample)
    result = grade_notebook(build_submission(tmp_path, assignment, overrides), release)
    scores = item_scores(result)
    for item, (got, maximum) in scores.items():
        if item in loses:
            assert got < maximum, f"{mistake}: {item} kept all its points"
        else:
            assert got == maximum, f"{mistake}: {item} lost points it earned"
    reasons = [e.output for e in result.entries if e.status == "failed"]
    assert all(reasons), "every failed check says why"
    assert bool(reasons) == bool(loses)


def test_a_forbidden_route_is_named_in_the_feedback(tmp_path, release_01):
    overrides, _, _ = read_sample(SAMPLES / "01_corr2d" / "corr2d_cheats_through_getattr.py")
    result = grade_notebook(build_submission(tmp_path, "01_corr2d", overrides), release_01)
    rule = [e for e in result.entries if e.name == "01_corr2d/corr2d: from-scratch rule"]
    assert rule and "aten.convolution" in rule[0].output and "cell corr2d" in rule[0].output
    assert item_scores(result)["corr2d"][0] == 0


def test_hidden_feedback_shows_shapes_but_not_expected_values(tmp_path, release_01):
    overrides, _, _ = read_sample(SAMPLES / "01_corr2d" / "receptive_field_ignores_strides.py")
    result = grade_notebook(build_submission(tmp_path, "01_corr2d", overrides), release_01)
    hidden = [e for e in result.entries if e.name.startswith("01_corr2d/receptive_field: Stacks")][0]
    assert hidden.status == "failed"
    assert "receptive_field([" in hidden.output        # what was called
    assert "expected" in hidden.output                  # that it was wrong, in words
    assert "def " not in hidden.output and "ref_" not in hidden.output  # no case source


def test_results_are_json_in_the_gradescope_schema(solved_01):
    data = json.loads(json.dumps(results_json([solved_01])))
    assert set(data) >= {"score", "max_score", "tests", "output"}
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["name"].startswith("01_corr2d/")
        assert test["status"] in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-3)
    assert [m["name"] for m in data["manual"]] == ["01_corr2d/explain_transpose: written answer",
                                                   "01_corr2d/explain_flip: written answer"]
