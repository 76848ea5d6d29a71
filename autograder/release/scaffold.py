"""The content of a new assignment's files, for ``python -m autograder new``: one graded item, ``relu``.

Instructor material like the solutions it holds: the student template leaves this file out
(``release/repository.py``).
"""

from __future__ import annotations

from autograder.course import EXERCISE_PREFIX, INTRO_CELL_ID, NBGRADER_SCHEMA, SETUP_GRADE_ID, hidden_id, item_test_id

ITEM = "relu"
POINTS = 2
SETUP_IMPORTS = "import math\n\nimport numpy as np\nimport torch\n"


# -- the source notebook ---------------------------------------------------------------------------------------

def setup_source() -> str:
    """The setup cell: the imports, then every helper of release/setup_helpers.py exactly as written there."""
    from autograder.release.rules_cell import helper_sources

    return SETUP_IMPORTS + "\n\n" + "\n\n\n".join(helper_sources().values())


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    """A cell's nbgrader metadata, as every notebook of the course writes it."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": NBGRADER_SCHEMA,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def notebook(name: str):
    """The source notebook of a new assignment (nbgrader's source format, cell ids as in the course)."""
    import nbformat

    from autograder.release import rules_cell

    v4 = nbformat.v4

    def markdown(cell_id: str, text: str, **meta):
        cell = v4.new_markdown_cell(text.strip(), metadata=meta)
        cell["id"] = cell_id
        return cell

    def code(cell_id: str, text: str, **meta):
        cell = v4.new_code_cell(text.strip(), metadata=meta)
        cell["id"] = cell_id
        return cell

    number, title = name[:2], name[3:].replace("_", " ").capitalize()
    cells = [
        markdown(INTRO_CELL_ID, INTRO.format(number=number, title=title, item=ITEM, points=POINTS)),
        markdown(rules_cell.CELL_ID, rules_cell.text(name)),
        code(SETUP_GRADE_ID, setup_source(), **_meta(SETUP_GRADE_ID, locked=True)),
        markdown("sec1-task", TASK),
        code(ITEM, SOLUTION, **_meta(ITEM, solution=True)),
        code(item_test_id(ITEM), PUBLIC_CHECKS.format(hidden=hidden_id(name, ITEM)),
             **_meta(item_test_id(ITEM), grade=True, locked=True, points=POINTS)),
        markdown("summary", SUMMARY),
        markdown("exercises", EXERCISES),
    ]
    for exercise, (intro, answer, check) in EXERCISE_CELLS.items():
        slug = exercise.removeprefix(EXERCISE_PREFIX).replace("_", "-")
        cells += [markdown(f"ex-{slug}", intro), code(exercise, answer, **_meta(exercise, solution=True)),
                  code(f"ex-{slug}-check", check)]
    made = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    made.nbformat_minor = 5
    return made


INTRO = """
# Assignment {number}: {title}

*A scaffold made by `python -m autograder new`: replace this introduction, the item and the exercises with the
assignment's own.*

| Item | You write | Points |
|---|---|---|
| `{item}` | the rectified linear unit, element by element | {points} |

**How to work.**
- Replace each `raise NotImplementedError()` with your code. Keep the names, signatures and docstrings.
- Every graded function is followed by a test cell. The checks you can see are a sample: when grading, hidden
  checks with random shapes, `float64` inputs and edge cases run as well. Passing the visible checks is
  necessary, not sufficient.
- **Rules and scoring**, the next cell, says what the grader runs, how the points are split, which ready-made operations
  are forbidden, and the time limits. It is the same in every notebook.
- Conventions for every function: inputs are never modified; the result has the input's dtype and lives on the
  input's device; impossible sizes raise `ValueError` with a message.
- Before you submit, run *Kernel → Restart & Run All*. The whole notebook runs in well under a minute on a laptop.
"""

TASK = r"""
## 1. The rectified linear unit

The nonlinearity between the layers of most CNNs is the rectified linear unit,

$$\operatorname{relu}(x) = \max(x, 0),$$

applied to every entry of a tensor on its own: negative entries become $0$ and the others stay as they are.

### Your task: `relu`
Write `relu(X)` for a floating-point tensor `X` of any shape. Return a new tensor of the same shape, dtype and
device; leave `X` unchanged.
"""

SOLUTION = '''
def relu(X: torch.Tensor) -> torch.Tensor:
    """The rectified linear unit, entry by entry.

    Inputs:
    - X: floating-point tensor, any shape.

    Returns:
    - Y: shape, dtype and device of X, with Y = max(X, 0) at every entry. X is not modified.
    """
    ### BEGIN SOLUTION
    return torch.where(X > 0, X, torch.zeros_like(X))
    ### END SOLUTION
'''

PUBLIC_CHECKS = '''
# Negative, zero and positive entries: the negatives become 0, the others stay.
X = torch.tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
check_close(relu(X), torch.tensor([[0.0, 0.0, 0.0], [0.5, 1.0, 3.0]]), "relu(X 2x3)")
check_close(X, torch.tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]]), "X after the call (relu must not modify its input)")

# Does float64 stay float64, for a 1-D input?
X = torch.tensor([-1.0, 2.0, -3.0], dtype=torch.float64)
check_close(relu(X), torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64), "relu(X float64 of shape (3,))")

### BEGIN HIDDEN TESTS
from autograder.nbgrader.kernel import run_hidden
run_hidden("{hidden}", globals())
### END HIDDEN TESTS
'''

SUMMARY = """
## Summary

- `relu` keeps the positive entries of a tensor and sets the others to $0$, entry by entry.

Next: the following notebook of the course.
"""

EXERCISES = """
## Optional exercises (not graded)

For practice: nothing here counts toward your score, and the grader never runs these cells. Each exercise has a
cell that checks your answer and tells you what is still wrong; an exercise you skip just says so.
"""

EXERCISE_CELLS = {
    "exercise_leaky_relu": (
        r"""
### Exercise 1: leaky ReLU

A leaky ReLU lets a little of the negative side through: $\max(x, 0) + s \min(x, 0)$ for a small slope $s$.
Write `leaky_relu(X, slope)`.
""",
        '''
def leaky_relu(X: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """max(X, 0) + slope * min(X, 0), entry by entry."""
    ### BEGIN SOLUTION
    return torch.where(X > 0, X, slope * X)
    ### END SOLUTION
''',
        '''
def check_leaky_relu():
    torch.manual_seed(0)
    X = torch.randn(4, 5, dtype=torch.float64)
    check_close(leaky_relu(X, 0.1), torch.nn.functional.leaky_relu(X, 0.1), "leaky_relu(X (4, 5), 0.1)")


self_check("Exercise 1 (leaky_relu)", check_leaky_relu)
'''),
    "exercise_relu_grad": (
        r"""
### Exercise 2: the derivative of ReLU

Write `relu_grad(X)`: the derivative of `relu` at every entry of `X`, $1$ where $x > 0$ and $0$ elsewhere (at
$x = 0$ too, as PyTorch takes it), in the dtype of `X`.
""",
        '''
def relu_grad(X: torch.Tensor) -> torch.Tensor:
    """d relu(x) / dx at every entry of X: 1 where x > 0, else 0; the dtype of X."""
    ### BEGIN SOLUTION
    return (X > 0).to(X.dtype)
    ### END SOLUTION
''',
        '''
def check_relu_grad():
    torch.manual_seed(0)
    X = torch.cat([torch.randn(10, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)])
    check_close(relu_grad(X), (X > 0).double(), "relu_grad(X of shape (12,), with two zeros)")


self_check("Exercise 2 (relu_grad)", check_relu_grad)
'''),
}


# -- the hidden cases and the samples --------------------------------------------------------------------------

def cases_source(name: str) -> str:
    return f'''"""Hidden cases of {name}. Instructor material: never shipped to students."""

import torch

from autograder.cases.common import rng
from autograder.grading.declarations import Assignment
from autograder.judge import expect

ASSIGNMENT = Assignment("{name}", ["{ITEM}"])
item = ASSIGNMENT.item


def ref_relu(X):
    return X.clamp_min(0)


@item("{ITEM}", weight=2)
def test_relu_random_shapes_and_dtypes(student):
    """Random shapes of 1 to 4 axes, float32 and float64: negatives become 0, the rest stay, the dtype is kept"""
    r = rng()
    for _ in range(10):
        shape = tuple(r.randint(1, 6) for _ in range(r.randint(1, 4)))
        for dtype in (torch.float32, torch.float64):
            X = torch.randn(shape, dtype=dtype)
            expect.close(f"relu(X {{shape}} {{dtype}})", student.call("relu", X), ref_relu(X))


@item("{ITEM}")
def test_relu_leaves_its_input_alone(student):
    """The input is not modified (and the result is still right)"""
    X = torch.randn(5, 4)
    call = student.record("relu", X)
    expect.close("relu(X 5x4)", call.value, ref_relu(X))
    expect.unchanged(call)
'''


def sample_files(name: str) -> dict[str, str]:
    """tests/samples/NAME/: a README and wrong submissions in the samples' format."""
    return {
        "README.md": f"""# Sample wrong submissions of {name}

Each file is one plausible mistake, graded by `tests/autograder/test_pipeline.py` (slow tier):

    # replaces: the grade_id of the solution cell it replaces
    # loses: the items it must lose points on (none for an optional exercise)
    # mistake: what is wrong, in a sentence
    <the cell's code>

A sample that replaces an exercise's cell is the wrong answer that `tests/release/test_exercises.py` feeds
that exercise's self-check.
""",
        "relu_absolute_value.py": """# replaces: relu
# loses: relu
# mistake: returns the absolute value, so negative entries come back positive instead of 0
def relu(X):
    return X.abs()
""",
        "exercise_leaky_relu_slope_on_positives.py": """# replaces: exercise_leaky_relu
# loses:
# mistake: scales the positive side by the slope as well
def leaky_relu(X, slope=0.01):
    return torch.where(X > 0, slope * X, X)
""",
        "exercise_relu_grad_one_at_zero.py": """# replaces: exercise_relu_grad
# loses:
# mistake: takes the derivative at 0 to be 1
def relu_grad(X):
    return (X >= 0).to(X.dtype)
""",
    }
