"""Do the hidden cases, the releases and the instructor's notebooks name the same items, and read the same forms?"""

from __future__ import annotations

import re

import nbformat
import pytest

from autograder.judge import plugin as judge
from autograder.notebook import read_release
from autograder.student.kernel import LocalStudent
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, RUN_HIDDEN, SOLUTIONS


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


# -- 05_lenet: the checks read layers and weights in order, whatever their names or spellings ---------------------

def lenet_source(first="nn.Conv2d(1, 6, kernel_size=5, padding=2)", pool="nn.AvgPool2d(kernel_size=2, stride=2)",
                 fc1="nn.Linear(400, 120)", fc2="nn.Linear(120, 84)") -> str:
    """A lenet() cell whose layers are named, as one Sequential of an OrderedDict."""
    return f'''from collections import OrderedDict


def lenet():
    return nn.Sequential(OrderedDict([
        ("c1", {first}), ("s1", nn.Sigmoid()), ("p1", {pool}),
        ("c3", nn.Conv2d(6, 16, 5)), ("s3", nn.Sigmoid()), ("p3", {pool}), ("flat", nn.Flatten()),
        ("f5", {fc1}), ("s5", nn.Sigmoid()), ("f6", {fc2}), ("s6", nn.Sigmoid()), ("out", nn.Linear(84, 10))]))
'''


NAMED_SPELLINGS = {
    "named layers": lenet_source(),
    "same padding, pooling by a pair": lenet_source('nn.Conv2d(1, 6, 5, padding="same")', "nn.AvgPool2d((2, 2))"),
    "pairs everywhere": lenet_source("nn.Conv2d(1, 6, (5, 5), padding=(2, 2))", "nn.AvgPool2d(2, stride=(2, 2))"),
    "no stride": lenet_source("nn.Conv2d(1, 6, [5, 5], padding=[2, 2], stride=1)", "nn.AvgPool2d(2)"),
}


def lenet_cases(source: str) -> list:
    from tests.support import namespace

    release = read_release(ASSIGNMENTS / "05_lenet" / "05_lenet.ipynb")
    return judge.run_cases(release, LocalStudent(namespace("05_lenet", {"lenet": source})), items={"lenet"})


@pytest.mark.parametrize("source", NAMED_SPELLINGS.values(), ids=NAMED_SPELLINGS)
def test_a_lenet_with_named_layers_and_other_spellings_passes_every_lenet_check(source):
    cases = lenet_cases(source)
    assert {case.public for case in cases} == {True, False}
    assert [(case.title, case.output) for case in cases if not case.passed] == []


@pytest.mark.parametrize("source, words", [
    (lenet_source(fc1="nn.Linear(400, 100)", fc2="nn.Linear(100, 84)"),
     ["its parameter 4 (f5.weight) has shape (100, 400)", "the weight of layer 7 (Linear)", "(120, 400)"]),
    (lenet_source(first="nn.Conv2d(1, 6, 5, padding=2, bias=False)"),
     ["holds 9 tensors (c1.weight (6, 1, 5, 5), c3.weight", "LeNet-5's holds 10",
      "layer 0 (Conv2d): weight (6, 1, 5, 5), bias (6,); layer 3"]),
])
def test_a_lenet_of_the_wrong_shape_fails_naming_its_own_parameter(source, words):
    failed = {case.title: case.output for case in lenet_cases(source) if not case.passed}
    computes = failed.get("With its own weights, lenet() computes what LeNet-5 computes, for batches of 1 and 5 "
                          "images", "")
    assert all(word in computes for word in words), failed


def test_the_release_and_the_hidden_cases_read_layer_sizes_alike():
    import importlib.util

    from torch import nn

    release = read_release(ASSIGNMENTS / "05_lenet" / "05_lenet.ipynb")
    setup: dict = {}
    exec(compile(release.setup_source, "<setup>", "exec"), setup)  # noqa: S102 - course code
    spec = importlib.util.spec_from_file_location("hidden_05_lenet", judge.cases_file("05_lenet"))
    hidden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hidden)
    keys = ["kernel_size", "stride", "padding"]
    alike = [  # each group: spellings of one layer
        [nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(1, 6, (5, 5), padding=(2, 2)), nn.Conv2d(1, 6, 5, padding="same")],
        [nn.Conv2d(2, 3, 3), nn.Conv2d(2, 3, [3, 3], padding="valid"), nn.Conv2d(2, 3, 3, stride=(1, 1))],
        [nn.AvgPool2d(2), nn.AvgPool2d((2, 2)), nn.AvgPool2d(2, stride=(2, 2)), nn.AvgPool2d([2, 2], 2, 0)],
    ]
    different = [nn.Conv2d(1, 6, 5, padding=1), nn.Conv2d(1, 6, 4, padding="same"), nn.AvgPool2d(2, stride=1),
                 nn.Conv2d(1, 6, 3, padding="same", dilation=2)]
    seen = []
    for layer in [layer for group in alike for layer in group] + different:
        ours, theirs = setup["size_settings"](layer, keys), hidden.size_settings(layer, keys)
        assert ours == theirs, layer
        seen.append(ours)
    for group in alike:
        forms = [setup["size_settings"](layer, keys) for layer in group]
        assert all(form == forms[0] for form in forms), forms
    assert seen[0] == {"kernel_size": (5, 5), "stride": (1, 1), "padding": (2, 2)}
    assert seen[-4]["padding"] == (1, 1) and seen[-3]["padding"] == "same" and seen[-1]["padding"] == (2, 2)
    assert seen[-2]["stride"] == (1, 1) != seen[-5]["stride"]


def test_a_named_lenet_with_same_padding_keeps_every_lenet_point_when_graded(tmp_path):
    from autograder.pipeline import grade_notebook
    from tests.support import build_submission

    release = read_release(ASSIGNMENTS / "05_lenet" / "05_lenet.ipynb")
    source = NAMED_SPELLINGS["same padding, pooling by a pair"]
    result = grade_notebook(build_submission(tmp_path, "05_lenet", {"lenet": source}), release)
    lenet = [entry for entry in result.entries if entry.item == "lenet"]
    assert len(lenet) >= 2 and [e.output for e in lenet if e.status != "passed"] == []
    assert sum(e.score for e in lenet) == sum(e.max_score for e in lenet) == release.item_points()["lenet"]
    assert result.score == result.max_score, [e.output for e in result.entries if e.status != "passed"]
