"""Is a wrong answer ever taken for a forbidden route?

A submission whose functions return the wrong shape, the wrong dtype or raise
has made mistakes, not broken the from-scratch rule: it loses the points of the
checks it fails and is never told that it "used" convolution, padding or
autograd. The judge's own work on a wrong answer (the gradient check's
``torch.autograd.grad`` on an output of the wrong shape, which raises) once
counted as the student's route, and a wrong-shaped ``pad2d`` scored 0 "from
scratch".

Each solution notebook is handed in three times, once per mode, every graded
function rebound at the end of its cell (:data:`MANGLER`) so that the judge's
calls get a mangled answer: ``shape`` (every tensor or array in the result one
column short, or one dimension more), ``dtype`` (float64 <-> float32, integers to
float32 or int64, Python floats to ints and back) or ``raise`` (ValueError). The
student's own inner calls (Conv2D's forward calling corr2d) stay right, so each
item's answer is wrong in one way only. A returned ``nn.Module`` (lenet,
Conv2D) gets its ``forward`` mangled; raising happens at construction. The
mangling uses slicing, indexing and dtype conversion alone: nothing the
dispatch monitor or the tripwires watch.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import torch

from autograder.notebook import Cell
from autograder.sandbox.process import Limits
from autograder.student.base import StudentError
from autograder.student.sandboxed import Student
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, build_submission, solution_code

MODES = ("shape", "dtype", "raise")
MANGLER = '''

# -- the answers made wrong (tests/attacks/test_no_false_accusations.py) --
import functools as _functools

_MANGLE_MODE = {mode!r}
try:
    _MANGLE_DEPTH
except NameError:
    _MANGLE_DEPTH = [0]   # how deep in the student's own functions a call is (0: the judge's call)


def _mangle_value(value):
    """``value`` made wrong in this notebook's way, through lists, tuples and dicts."""
    import math

    import numpy as np
    import torch

    if isinstance(value, torch.nn.Module):
        value.forward = _mangle(value.forward)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)([_mangle_value(part) for part in value]) if type(value) in (list, tuple) else value
    if isinstance(value, dict):
        return {{key: _mangle_value(part) for key, part in value.items()}}
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if _MANGLE_MODE == "shape":
            return value[..., :-1] if value.ndim and value.shape[-1] > 1 else value[None]
        if isinstance(value, torch.Tensor):
            if value.is_complex():
                return value
            wanted = (torch.float32 if value.dtype == torch.float64 else torch.float64 if value.is_floating_point()
                      else torch.float32 if value.dtype == torch.int64 else torch.int64)
            return value.to(wanted)
        kind = value.dtype.kind
        wanted = (np.float32 if value.dtype == np.float64 else np.float64 if kind == "f"
                  else np.float32 if value.dtype == np.int64 else np.int64)
        return value.astype(wanted) if kind in "biuf" else value
    if isinstance(value, (bool, int, float)):
        if _MANGLE_MODE == "shape":
            return [value]
        if isinstance(value, bool) or (isinstance(value, float) and math.isfinite(value)):
            return int(value)
        return float(value) if isinstance(value, int) else value
    return value


def _mangle(function):
    """``function``, its answers to the judge made wrong; the student's own inner calls stay right."""
    @_functools.wraps(function, updated=())
    def mangled(*args, **kwargs):
        outermost = _MANGLE_DEPTH[0] == 0
        if outermost and _MANGLE_MODE == "raise":
            raise ValueError("mangled")
        _MANGLE_DEPTH[0] += 1
        try:
            value = function(*args, **kwargs)
        finally:
            _MANGLE_DEPTH[0] -= 1
        return _mangle_value(value) if outermost else value
    return mangled


'''
# What the grader writes when a route breaks the from-scratch rule (autograder/pipeline.py's score).
ACCUSATIONS = re.compile(r"from-scratch rule|grader tampering|This item scores 0: it used|"
                         r"the instructor's grading scores it 0|The whole notebook scores 0")


def mangled(source: str, mode: str) -> str:
    """A solution cell with every function and class it defines rebound to its mangled self."""
    names = [node.name for node in ast.parse(source).body
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    assert names, f"a solution cell that defines nothing:\n{source}"
    return source.rstrip() + MANGLER.format(mode=mode) + "".join(f"{name} = _mangle({name})\n" for name in names)


def item_scores(tests: list[dict]) -> dict[str, tuple[float, float]]:
    """item -> (points, maximum), over its entries."""
    scores: dict[str, tuple[float, float]] = {}
    for test in tests:
        item = test["name"].split(":", 1)[0]
        got, maximum = scores.get(item, (0.0, 0.0))
        scores[item] = (got + test["score"], maximum + test["max_score"])
    return scores


# -- the worker alone: the judge's backward on a wrong answer is not the student's route (fast) --------------

@pytest.fixture(scope="module", params=MODES)
def doubling(request):
    """``double(x) = 2 * x``, mangled in one mode, in a worker."""
    cell = Cell("double", mangled("def double(x):\n    return 2 * x\n", request.param))
    with Student([cell], Limits(call_seconds=5, load_seconds=5)) as student:
        yield request.param, student


def test_the_judges_gradient_check_of_a_wrong_answer_is_no_route_of_the_students(doubling):
    mode, student = doubling
    x, dout = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    if mode == "dtype":     # float32 out: the judge's backward runs, and its gradient comes back
        out, grads = student.grad("double", (x,), wrt=(0,), dout=dout)
        assert out.dtype == torch.float32 and grads[0].shape == x.shape
    else:                   # a raising call, or the judge's backward raising on a (2, 2) out for a (2, 3) dout
        with pytest.raises(StudentError, match="mangled" if mode == "raise" else "[Ss]hape"):
            student.grad("double", (x,), wrt=(0,), dout=dout)
    assert student.records[-1].routes == (), f"{mode}: the judge's own work was recorded as the student's route"


def test_the_mangler_takes_no_watched_route_itself():
    """The slow test below means something only if the mangling is innocent: shapes, dtypes, modules."""
    source = ("import numpy as np\nimport torch\n"
              "def answers(x):\n    return (x, [x.double(), x.long()], {'a': np.ones((2, 3)), 'b': (1, 2.5, True)})\n"
              "def net():\n    return torch.nn.Linear(3, 3)\n")
    for mode in ("shape", "dtype"):
        with Student([Cell("answers", mangled(source, mode))], Limits(call_seconds=5, load_seconds=5)) as student:
            student.record("answers", torch.ones(2, 3))
            student.net()(torch.ones(2, 3))
            assert [record.routes for record in student.records] == [(), (), ()], mode
            assert student.load.errors == {}, mode


# -- every graded item of every assignment, graded as a class (slow) ------------------------------------------

@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> Path:
    """Eighteen students, one per (mode, assignment), graded two at a time as ``grade-all --jobs 2`` does."""
    from autograder.verbs.grade_all import grade_class

    root = tmp_path_factory.mktemp("mangled")
    for mode in MODES:
        for assignment in ASSIGNMENT_IDS:
            cells = {grade_id: mangled(source, mode) for grade_id, source in solution_code(assignment).items()}
            build_submission(root / "submitted" / f"{mode}--{assignment}", assignment, cells)
    grade_class(root / "submitted", ASSIGNMENTS, root / "gradebook", jobs=2, progress=False)
    return root / "gradebook"


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_answer_is_never_a_from_scratch_verdict(gradebook, mode, assignment):
    data = json.loads((gradebook / f"{mode}--{assignment}" / "results.json").read_text())
    assert data["internal_error"] is False, data["output"]
    accused = [f"{test['name']}: {test['output']}" for test in data["tests"]
               if ACCUSATIONS.search(test["name"] + "\n" + test["output"])]
    assert not accused, f"{mode}-mangled {assignment} was accused:\n" + "\n".join(accused)
    assert not ACCUSATIONS.search(data["output"]), data["output"]
    scores = item_scores(data["tests"])
    assert scores and data["max_score"] > 0
    kept = [item for item, (got, maximum) in scores.items() if got >= maximum]
    if mode == "dtype":     # a check may rightly accept another dtype (an int count given as 61706.0)
        assert data["score"] < data["max_score"], f"{mode}: the mangling changed nothing"
    else:
        assert not kept, f"{mode}: these items kept every point, so the mangling missed them: {kept}"
