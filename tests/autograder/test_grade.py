"""Does grading give each submission the score it earned, and say why?"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from autograder.grade import grade_notebook
from autograder.report import results_json
from tests.conftest import SAMPLES, SOLUTIONS, build_submission, read_sample


def item_scores(result) -> dict[str, tuple[float, float]]:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for entry in result.entries:
        item = entry.name.split(":")[0].split("/")[1]
        totals[item][0] += entry.score
        totals[item][1] += entry.max_score
    return {item: (round(s, 6), round(m, 6)) for item, (s, m) in totals.items()}


@pytest.fixture(scope="module")
def solved_01(tmp_path_factory, release_01):
    path = build_submission(tmp_path_factory.mktemp("solved"), "01_corr2d")
    return grade_notebook(path, release_01)


def test_a_correct_submission_scores_full_marks(solved_01, release_01):
    assert solved_01.max_score == pytest.approx(sum(release_01.item_points().values()))
    failed = [(e.name, e.output) for e in solved_01.entries if e.status != "passed"]
    assert not failed
    assert solved_01.score == pytest.approx(solved_01.max_score)


def test_the_instructor_solution_notebook_scores_full_marks(release_01):
    result = grade_notebook(SOLUTIONS / "01_corr2d" / "01_corr2d.ipynb", release_01)
    assert result.score == pytest.approx(result.max_score)
    assert not any("edited" in note for note in result.notes), result.notes


def test_the_blank_release_scores_zero_without_crashing(release_01):
    result = grade_notebook(release_01.path, release_01)
    assert result.max_score == pytest.approx(sum(release_01.item_points().values()))
    assert result.score == 0
    assert all("NotImplementedError" in e.output for e in result.entries if e.max_score), \
        [e.output for e in result.entries]


def test_every_item_has_public_and_hidden_cases(solved_01, release_01):
    names = [e.name for e in solved_01.entries]
    for item in release_01.item_points():
        mine = [n for n in names if n.startswith(f"01_corr2d/{item}:")]
        assert any("public checks" in n for n in mine), item
        assert len([n for n in mine if "public checks" not in n]) >= 1, item


def test_public_checks_carry_at_most_a_quarter_of_each_item(solved_01):
    for item, (_, maximum) in item_scores(solved_01).items():
        public = sum(e.max_score for e in solved_01.entries
                     if e.name.startswith(f"01_corr2d/{item}: public"))
        assert public <= maximum / 4 + 1e-9, item


SAMPLE_FILES = sorted((SAMPLES / "01_corr2d").glob("*.py"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_a_sample_loses_exactly_the_items_it_gets_wrong(sample, tmp_path, release_01, solved_01):
    overrides, loses, mistake = read_sample(sample)
    result = grade_notebook(build_submission(tmp_path, "01_corr2d", overrides), release_01)
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
