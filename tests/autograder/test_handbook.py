"""Does every notebook carry the current rules cell, and does it say what the grader enforces?"""

from __future__ import annotations

import nbformat
import pytest
import torch

from autograder import handbook, items, rules, sandbox
from autograder.notebook import Cell
from autograder.student import Student, StudentError
from tests.conftest import ASSIGNMENT_IDS, ASSIGNMENTS, SOLUTIONS

PRELUDE = "import numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
EXAMPLES = [(name, line, True) for name, lines in handbook.FORBIDDEN for line in lines] + \
           [(name, line, False) for name, lines in handbook.ALLOWED for line in lines]


@pytest.mark.parametrize("folder", [SOLUTIONS, ASSIGNMENTS], ids=["source", "release"])
@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_notebook_carries_the_current_rules_cell(folder, assignment):
    notebook = nbformat.read(folder / assignment / f"{assignment}.ipynb", as_version=4)
    assert handbook.cell_text(notebook) == handbook.text(assignment), (
        "the rules cell is stale: run `python -m autograder.handbook`, then nbgrader generate_assignment")
    assert notebook.cells[1].get("id") == handbook.CELL_ID, "the rules come right after the introduction"


def test_the_numbers_in_the_text_are_the_graders():
    text = handbook.text("01_corr2d")
    assert f"{items.PUBLIC_SHARE:.0%} for the checks you can see" in text
    assert f"{sandbox.Limits().call_seconds:g} s" in text and f"budget of {sandbox.Limits().budget_seconds:g} s" in text
    assert "`learn_kernel` may use autograd" in text
    assert "`pad2d` may not use `torch.nn.functional.pad`" in handbook.text("02_padding_stride_channels")
    assert "In this notebook" not in handbook.text("03_pooling")


@pytest.fixture(scope="module")
def examples():
    """Every example line of the text as a function in one worker: ``example_<n>()`` runs line n."""
    source = PRELUDE + "".join(
        f"def example_{n}():\n    x, k = torch.randn(1, 1, 4, 4), torch.randn(1, 1, 2, 2)\n"
        f"    a, b = torch.randn(3, 3), torch.randn(3, 3)\n    {line}\n" for n, (_, line, _) in enumerate(EXAMPLES))
    with Student([Cell("examples", source)], sandbox.Limits(call_seconds=20)) as student:
        yield source, student


@pytest.mark.parametrize("n", range(len(EXAMPLES)), ids=[line for _, line, _ in EXAMPLES])
def test_what_the_text_forbids_the_grader_forbids_and_what_it_allows_it_allows(examples, n):
    source, student = examples
    name, line, forbidden = EXAMPLES[n]
    static, tampering = rules.scan(PRELUDE + line, "examples")
    try:
        ran = student.record(f"example_{n}").routes
    except StudentError as error:       # a route taken before the call failed still counts
        ran = error.record.routes
    broken = rules.violations(rules.ItemRule(), [*static, *ran])
    assert not tampering
    assert bool(broken) == forbidden, f"{name}: `{line}` took {broken or 'no forbidden route'}"


@pytest.mark.parametrize("display, route", handbook.AUTOGRAD)
def test_the_autograd_the_text_names_is_forbidden_by_default(display, route):
    from autograder.records import Route

    assert rules.violations(rules.ItemRule(), [Route(route, "cell")])
    assert not rules.violations(rules.ItemRule(allow=frozenset({"autograd"})), [Route(route, "cell")])
    assert torch.autograd.grad.__module__.startswith("torch.autograd")
