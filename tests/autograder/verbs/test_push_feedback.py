"""The game of push feedback: a student who hard-codes what their pushes' feedback revealed gains nothing.

A push's feedback (``grade-all --push``) draws its hidden inputs from a seed of the pushed commit, never the final
grading's, and shows the student the kind of each hidden input, not its value. Here a student whose
``receptive_field`` ignores the strides reads their feedback, hard-codes the right answer for every call it
revealed, and is graded finally. The same game played on feedback without these protections (the final
grading's seed, every value shown) does gain points: the test can tell the two apart.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from autograder.cases.test_01_corr2d import ref_receptive_field
from autograder.verbs.grade_all import grade_class
from tests.support import ASSIGNMENTS, SAMPLES, build_submission, read_sample

STUDENT = "gabe"
CALL = re.compile(r"receptive_field\((\[[\d, ]*\])(?:, strides=(\[[\d, ]*\]|None))?\)")
SAMPLE, _, _ = read_sample(SAMPLES / "01_corr2d" / "receptive_field_ignores_strides.py")
# The sample, with every input check the docstring asks for: its one mistake is ignoring the strides.
WRONG = {"receptive_field": SAMPLE["receptive_field"].replace(
    "    return 1 + sum(",
    "    if min([*kernel_sizes, *(strides or [])], default=1) < 1:\n"
    "        raise ValueError(\"sizes and strides are at least 1\")\n"
    "    return 1 + sum(")}


def hard_coding(revealed: set[tuple[tuple[int, ...], tuple[int, ...] | None]]) -> str:
    """The wrong receptive_field, with the right answer for every call in ``revealed`` written in."""
    known = {key: ref_receptive_field(list(key[0]), None if key[1] is None else list(key[1])) for key in revealed}
    return (WRONG["receptive_field"].replace("def receptive_field(", "def _guess(") +
            f"\n\n_KNOWN = {known!r}\n\n"
            "def receptive_field(kernel_sizes, strides=None):\n"
            "    key = (tuple(kernel_sizes), None if strides is None else tuple(strides))\n"
            "    return _KNOWN[key] if key in _KNOWN else _guess(kernel_sizes, strides)\n")


def graded(root: Path, name: str, source: str, commit: str = "", push: bool = False) -> dict:
    """``STUDENT``'s results.json from ``grade-all`` (``--push`` for a push's feedback) of a class of one."""
    submitted = root / name / "submitted"
    build_submission(submitted / STUDENT, "01_corr2d", {"receptive_field": source})
    with open(submitted / "collected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "repository", "commit"])
        writer.writerow([STUDENT, f"class/{STUDENT}", commit])
    grade_class(submitted, ASSIGNMENTS, root / name / "gradebook", jobs=1, progress=False, push=push)
    # The class's folder, which the grader's notes name, as one name: two classes' results compare byte for byte.
    return json.loads((root / name / "gradebook" / STUDENT / "results.json").read_text()
                      .replace(json.dumps(str(root / name))[1:-1], "CLASS"))


def points(data: dict) -> float:
    return sum(test["score"] for test in data["tests"] if test["extra_data"]["item"] == "receptive_field")


def revealed(data: dict) -> set:
    """Every receptive_field call whose arguments the student's messages show."""
    found = set()
    for test in data["tests"]:
        for kernels, strides in CALL.findall(test["output"]):
            found.add((tuple(json.loads(kernels)), None if strides in ("", "None") else tuple(json.loads(strides))))
    return found


@pytest.fixture(scope="module")
def pushes(tmp_path_factory):
    root = tmp_path_factory.mktemp("pushes")
    return root, [graded(root, f"push-{number}", WRONG["receptive_field"], commit, push=True)
                  for number, commit in enumerate(["3f1c2ab", "9e07d45"])]


def test_a_push_draws_its_own_inputs_and_the_final_grading_others(pushes, tmp_path):
    root, feedback = pushes
    final = graded(tmp_path, "final", WRONG["receptive_field"])
    seeds = [data["seeds"][0] for data in [*feedback, final]]
    assert len({seed["seed"] for seed in seeds}) == 3, "each push, and the final grading, has a seed of its own"
    assert "push of commit 3f1c2ab" in seeds[0]["from"] and "push" not in seeds[2]["from"]
    again = graded(tmp_path, "again", WRONG["receptive_field"], "3f1c2ab", push=True)
    assert again == feedback[0], "grading the same commit again gives the same results, byte for byte"


def test_push_feedback_shows_the_kind_of_each_hidden_input_and_the_instructor_the_value(pushes):
    _, feedback = pushes
    failed = [test for test in feedback[0]["tests"] if test["status"] == "failed" and
              test["extra_data"]["item"] == "receptive_field" and "public checks" not in test["name"]]
    assert failed and not revealed(feedback[0]) - revealed({"tests": [t for t in feedback[0]["tests"]
                                                                      if "public checks" in t["name"]]})
    assert any("receptive_field(a list of" in test["output"] for test in failed), [t["output"] for t in failed]
    assert all(CALL.search(test["extra_data"]["output_full"]) for test in failed), "the instructor sees the call"


def test_hard_coding_what_the_pushes_revealed_gains_nothing_in_the_final_grading(pushes, tmp_path):
    _, feedback = pushes
    seen = set().union(*map(revealed, feedback))
    honest = points(graded(tmp_path, "honest", WRONG["receptive_field"]))
    gamed = points(graded(tmp_path, "gamed", hard_coding(seen)))
    assert gamed == honest
    # The control: the same game, played on feedback that shows the final grading's inputs, pays.
    exposed = graded(tmp_path, "exposed", WRONG["receptive_field"])
    assert revealed(exposed) - seen, "feedback without the protections shows inputs the pushes' did not"
    assert points(graded(tmp_path, "exposed-gamed", hard_coding(revealed(exposed)))) > honest


def test_the_final_grade_does_not_depend_on_how_many_times_the_student_pushed(tmp_path):
    once = graded(tmp_path, "once", WRONG["receptive_field"], "3f1c2ab")
    thrice = graded(tmp_path, "thrice", WRONG["receptive_field"], "77aa010")
    assert once["seeds"] == thrice["seeds"] and once["tests"] == thrice["tests"]
