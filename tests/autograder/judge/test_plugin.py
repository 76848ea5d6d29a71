"""Does the judge run the public checks and hidden cases, and say plainly what failed?

The student here is ``LocalStudent`` over a namespace built in this process (the
instructor's solution, or a wrong one): the judge's logic without a worker.
"""

from __future__ import annotations

import pytest

from autograder.judge import plugin as judge
from autograder.notebook import read_release
from autograder.student.kernel import LocalStudent
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, namespace


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_solution_passes_every_public_and_hidden_case(assignment):
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    cases = judge.run_cases(release, LocalStudent(namespace(assignment)))
    assert {case.item for case in cases} == set(release.item_points())
    assert {case.public for case in cases} == {True, False}
    assert [(case.item, case.title, case.output) for case in cases if not case.passed] == []


def test_a_wrong_answer_fails_with_shapes_but_without_expected_values_or_case_source(release_01):
    wrong = {"corr2d": "def corr2d(X, K):\n    return X[: X.shape[0] - K.shape[0] + 1, : X.shape[1] - K.shape[1] + 1]"
                       " * K.sum()\n"}
    cases = judge.run_cases(release_01, LocalStudent(namespace("01_corr2d", wrong)), items={"corr2d"})
    failed = [case for case in cases if not case.passed]
    assert failed and all(case.output for case in failed)
    hidden = next(case for case in failed if case.title.startswith("Random float32"))
    assert "corr2d(X" in hidden.output and "max abs error" in hidden.output
    assert "tensor([" not in hidden.output and "ref_" not in hidden.output and "def " not in hidden.output


def test_only_the_asked_items_run_and_public_checks_can_be_left_out(release_01):
    cases = judge.run_cases(release_01, LocalStudent(namespace("01_corr2d")), items={"receptive_field"},
                            public=False)
    assert cases and {case.item for case in cases} == {"receptive_field"} and not any(c.public for c in cases)


def test_the_declaration_is_read_from_the_cases_file():
    declared = judge.declaration("01_corr2d")
    assert declared.items[0] == "corr2d" and "autograd" in declared.rule("learn_kernel").allow
    assert judge.declaration("99_not_an_assignment") is None


@pytest.mark.parametrize("body, message", [
    ("@item('no_such_item')\ndef test_x(student):\n    pass\n", "does not declare"),
    ("def test_untagged(student):\n    pass\n", "tagged with no item"),
])
def test_a_case_with_an_unknown_or_missing_item_stops_the_judge(tmp_path, monkeypatch, release_01, body, message):
    (tmp_path / "test_01_corr2d.py").write_text(
        "from autograder.grading.declarations import Assignment\n"
        "ASSIGNMENT = Assignment('01_corr2d', ['corr2d'])\nitem = ASSIGNMENT.item\n" + body)
    monkeypatch.setattr(judge, "CASES", tmp_path)
    with pytest.raises(RuntimeError, match=message):
        judge.run_cases(release_01, LocalStudent({}), public=False)


def hidden_inputs(release, seed: int) -> list:
    """What the hidden corr2d cases hand to a (correct) corr2d under ``seed``."""
    space = namespace("01_corr2d")
    seen, correct = [], space["corr2d"]

    def corr2d(X, K):
        seen.append((X.clone(), K.clone()))
        return correct(X, K)

    space["corr2d"] = corr2d
    cases = judge.run_cases(release, LocalStudent(space), items={"corr2d"}, public=False, seed=seed)
    assert cases and all(case.passed for case in cases)
    return seen


def test_a_regrade_meets_the_same_hidden_inputs_and_another_student_other_ones(release_01):
    from autograder.judge import seeds

    alice, bob = (seeds.for_notebook("01_corr2d.ipynb", "01_corr2d", [], student=name).value
                  for name in ("alice", "bob"))
    first, again, other = (hidden_inputs(release_01, seed) for seed in (alice, alice, bob))
    assert len(first) == len(again) > 20
    assert all(X.equal(X2) and K.equal(K2) for (X, K), (X2, K2) in zip(first, again))
    differ = [not (X.shape == X2.shape and X.equal(X2)) for (X, _), (X2, _) in zip(first, other)]
    assert sum(differ) > len(differ) // 2, "two students should meet mostly different hidden inputs"
