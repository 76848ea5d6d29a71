"""Does every notebook carry the current rules cell, and does it say what the grader enforces, and nothing less?"""

from __future__ import annotations

import importlib.util
import re

import nbformat
import pytest
import torch

from autograder.grading import declarations as items
from autograder.grading import rules
from autograder.model import Route
from autograder.notebook import Cell
from autograder.release import rules_cell as handbook
from autograder.sandbox import process as sandbox
from autograder.student.base import StudentError
from autograder.student.sandboxed import Student
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, SOLUTIONS

HAS_SCIPY = importlib.util.find_spec("scipy") is not None
# scipy is imported when the cell loads, as a student would at the top of a cell: its functions still count.
PRELUDE = ("import functools\nimport itertools\nimport math\nimport operator\n\nimport numpy as np\n"
           + ("import scipy.ndimage\nimport scipy.signal\n" if HAS_SCIPY else "")
           + "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n")
EXAMPLES = [(name, line, True) for name, lines in handbook.FORBIDDEN for line in lines] + \
           [(name, line, False) for name, lines in handbook.ALLOWED for line in lines]
BANS = [(name, line, "item") for name, lines in handbook.ITEM_BANS for line in lines] + \
       [(name, line, "notebook") for name, lines in handbook.NOTEBOOK_BANS for line in lines]
LAYERS_AND_AUTOGRAD = rules.ItemRule(allow=frozenset({"convolution", "pooling", "autograd"}))   # 05_lenet's rule


@pytest.mark.parametrize("folder", [SOLUTIONS, ASSIGNMENTS], ids=["source", "release"])
@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_notebook_carries_the_current_rules_cell(folder, assignment):
    notebook = nbformat.read(folder / assignment / f"{assignment}.ipynb", as_version=4)
    assert handbook.cell_text(notebook) == handbook.text(assignment), (
        "the rules cell is stale: run `python -m autograder.release.rules_cell`, then nbgrader generate_assignment")
    assert notebook.cells[1].get("id") == handbook.CELL_ID, "the rules come right after the introduction"


def test_the_numbers_in_the_text_are_the_graders():
    text = handbook.text("01_corr2d")
    assert f"{items.PUBLIC_SHARE:.0%} for the checks you can see" in text
    assert f"{sandbox.Limits().call_seconds:g} s" in text and f"budget of {sandbox.Limits().budget_seconds:g} s" in text
    assert "`learn_kernel` may use autograd" in text
    assert "`pad2d` may not use `torch.nn.functional.pad`" in handbook.text("02_padding_stride_channels")
    assert "In this notebook" not in handbook.text("03_pooling")


def test_the_text_names_both_penalties_and_the_harmless_modules():
    text = handbook.text("01_corr2d")
    assert "**That item**" in text and "**The whole notebook**" in text
    for allowed in ("`operator`", "`operator.index`", "`math`", "`itertools`", "`functools`"):
        assert allowed in text, allowed


# -- the from-scratch rule: decided at run time, in a worker ---------------------------------------------------

@pytest.fixture(scope="module")
def examples():
    """Every example line of the text as a function in one worker: ``example_<n>()`` runs line n."""
    source = PRELUDE + "".join(
        f"def example_{n}():\n    x, k = torch.randn(1, 1, 4, 4), torch.randn(1, 1, 2, 2)\n"
        f"    a, b = torch.randn(3, 3), torch.randn(3, 3)\n    n, shape, self, name = 3, (2, 3), x, 'shape'\n"
        f"    {line}\n" for n, (_, line, _) in enumerate(EXAMPLES))
    with Student([Cell("examples", source)], sandbox.Limits(call_seconds=20, load_seconds=20)) as student:
        assert student.load.errors == {}
        yield source, student


@pytest.mark.parametrize("n", range(len(EXAMPLES)), ids=[line for _, line, _ in EXAMPLES])
def test_what_the_text_forbids_the_grader_forbids_and_what_it_allows_it_allows(examples, n):
    source, student = examples
    name, line, forbidden = EXAMPLES[n]
    if "scipy" in line and not HAS_SCIPY:
        pytest.skip("scipy is not installed")
    static, tampering = rules.scan(PRELUDE + line, "examples")
    try:
        ran = student.record(f"example_{n}").routes
    except StudentError as error:       # a route taken before the call failed still counts
        ran = error.record.routes
    broken = rules.violations(rules.ItemRule(), [*static, *ran])
    assert not tampering
    assert bool(broken) == forbidden, f"{name}: `{line}` took {broken or 'no forbidden route'}"
    if forbidden:   # the monitor sees it when it runs: the source alone is not what decides
        assert rules.violations(rules.ItemRule(), ran), f"{name}: `{line}` ran unseen"


@pytest.mark.parametrize("display, route", handbook.AUTOGRAD)
def test_the_autograd_the_text_names_is_forbidden_by_default(display, route):
    assert rules.violations(rules.ItemRule(), [Route(route, "cell")])
    assert not rules.violations(rules.ItemRule(allow=frozenset({"autograd"})), [Route(route, "cell")])
    assert torch.autograd.grad.__module__.startswith("torch.autograd")


# -- the static bans: each line the text gives scores what the text says ------------------------------------

@pytest.mark.parametrize("n", range(len(BANS)), ids=[line for _, line, _ in BANS])
def test_each_ban_the_text_names_scores_what_it_says(n):
    name, line, penalty = BANS[n]
    item, tampering = rules.scan(line, "corr2d")
    if penalty == "notebook":
        assert tampering, f"{name}: `{line}` is not flagged"
    else:
        assert item and not tampering, f"{name}: `{line}` gave {item}, {tampering}"
        # whatever the item is allowed: names computed at run time score it 0 also in 05_lenet
        assert rules.violations(rules.ItemRule(), item) and rules.violations(LAYERS_AND_AUTOGRAD, item)


# Each constant of autograder.grading.rules: the penalty its entries score, or None where it holds no ban.
BAN_SETS = {
    "TAMPER_MODULES": "notebook", "TAMPER_ATTRIBUTES": "notebook", "TAMPER_ON": "notebook",
    "OS_PROCESS_PREFIXES": "notebook", "TAMPER_NAMES": "notebook", "GRAPH_NODE_CALL": "notebook",
    "COMPUTED_NAME_BUILTINS": "item", "COMPUTED_NAME_GETTERS": "item", "COMPUTED_NAME_METHODS": "item",
    "CODE_FROM_TEXT_BUILTINS": "item", "INDIRECT_MODULES": "item", "INDIRECT_ATTRIBUTES": "item",
    "INDIRECT_ON": "item", "UNPICKLING_KEYWORDS": "item", "CLASS_FROM_TEXT": "item", "FORBIDDEN_ON": "item",
    "CATEGORIES": None, "FORBIDDEN_BY_DEFAULT": None, "AUTOGRAD_ROUTES": None, "WATCHED_OP": None,
    "NUMPY_CONVOLUTIONS": None, "SCIPY_CONVOLUTIONS": None, "SHARED_MODULE_NAMES": None,
}


def entries(constant: str) -> list[tuple[str, bool]]:
    """(how the text and a route name each entry, whether it is a prefix) of one ban set."""
    value = getattr(rules, constant)
    if constant == "OS_PROCESS_PREFIXES":
        return [(f"os.{prefix}", True) for prefix in value]
    if constant == "UNPICKLING_KEYWORDS":
        return [(f"{keyword}={not safe}", False) for keyword, safe in value.items()]
    if constant == "CLASS_FROM_TEXT":
        return [("type(name, bases, namespace)", False)]
    if constant == "GRAPH_NODE_CALL":
        return [(value, False)]
    return [(".".join(entry) if isinstance(entry, tuple) else entry, False) for entry in value]


def test_every_constant_of_the_rules_is_known_here():
    constants = {name for name in vars(rules) if name.isupper() and not name.startswith("_")}
    assert constants == set(BAN_SETS), "a new constant in autograder.grading.rules: say here whether it holds bans"


@pytest.mark.parametrize("constant", [name for name, penalty in BAN_SETS.items() if penalty])
def test_no_other_rule_exists_every_ban_of_the_grader_is_in_the_text(constant):
    """Each entry of each ban set is named in the text, among the bans of its penalty, and an example line
    there is flagged for it: a ban added to autograder.grading.rules without its words fails here."""
    penalty = BAN_SETS[constant]
    named = handbook.ITEM_BANS if penalty == "item" else handbook.NOTEBOOK_BANS
    words = "\n".join(name for name, _ in named)
    spans = re.findall(r"`[^`]*`", words)
    routes = []
    for _, lines in named:
        for line in lines:
            item, tampering = rules.scan(line, "corr2d")
            routes += [route.what for route in (item if penalty == "item" else tampering)]
    for entry, prefix in entries(constant):
        assert any(entry in span for span in spans), f"{constant}: the text does not name `{entry}`"
        pattern = re.compile(r"(?<!\w)" + re.escape(entry) + ("" if prefix else r"(?!\w)"))
        assert any(pattern.search(what) for what in routes), f"{constant}: no example of the text takes `{entry}`"
