"""The "Rules and scoring" cell that every notebook carries, written from the grader's own settings.

One source: the text below is filled in from the numbers the grader enforces
(the public share, the deadlines) and from each assignment's declared rule
exceptions, so it cannot drift from them. ``python -m autograder.handbook``
writes the cell into every source notebook under ``solutions/``; nbgrader then
carries it into the release. ``tests/release`` checks that each release holds
the current text, and ``tests/autograder/test_handbook.py`` that the routes the
text forbids and allows are the ones the grader's rule forbids and allows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from autograder import items, rules, sandbox

CELL_ID = "rules-and-scoring"

# (what the text names, lines of code that take that route): the test runs the grader's scan over each line.
FORBIDDEN = [
    ("`torch.nn.functional`'s `conv*`, `conv_transpose*`, `*pool*`, `unfold` and `fold`",
     ["F.conv2d(x, k)", "F.conv_transpose2d(x, k)", "F.max_pool2d(x, 2)", "F.avg_pool2d(x, 2)",
      "F.unfold(x, 2)", "F.fold(x, (4, 4), 2)"]),
    ("`torch.conv*` and `torch.*pool*`", ["torch.conv2d(x, k)", "torch.max_pool2d(x, 2)"]),
    ("`torch.ops.aten.*` and `torch._C._nn.*`",
     ["torch.ops.aten.convolution(x, k, None, [1], [0], [1], False, [0], 1)", "torch._C._nn.im2col(x, 2, 1, 0, 1)"]),
    ("the modules `nn.Conv*`, `nn.*Pool*`, `nn.Unfold` and `nn.Fold`",
     ["nn.Conv2d(1, 1, 3)", "nn.MaxPool2d(2)", "nn.AvgPool2d(2)", "nn.Unfold(2)", "nn.Fold(4, 2)"]),
    ("scipy and numpy convolutions", ["import scipy.signal", "np.convolve(a, b)", "np.correlate(a, b)"]),
]
ALLOWED = [
    ("`Tensor.unfold` (the tensor method)", ["x.unfold(0, 2, 1)"]),
    ("`as_strided`", ["x.as_strided((2, 2), (1, 1))"]),
    ("`einsum`", ["torch.einsum('ij,ij->', a, b)"]),
    ("`matmul`", ["a @ b", "torch.matmul(a, b)"]),
    ("`torch.nn.functional.pad`", ["F.pad(x, (1, 1, 1, 1))"]),
]
# (what the text names, the route the worker reports when it runs): autograd is seen at run time.
AUTOGRAD = [("`.backward()`", "Tensor.backward"), ("`torch.autograd`", "torch.autograd.grad")]
CATEGORY_WORDS = {
    "convolution": "a ready-made convolution or im2col",
    "pooling": "a ready-made pooling",
    "padding": "`torch.nn.functional.pad` or any other ready-made padding",
    "autograd": "autograd",
    "indirection": "names computed at run time",
}

TEXT = """\
## Rules and scoring

*Every notebook of the course has this cell; it states what the grader enforces.*

**What runs.** The grader runs the course's locked cells and the cells of the graded functions (where a
`raise NotImplementedError()` stub stood), in notebook order, and nothing else: no demo, test cell or optional
exercise. Put the helpers and imports your functions need *inside those cells*: a name defined only in another
cell, or in a cell you added, does not exist when grading (the feedback names that cell). Graded functions may
call each other; a mistake in one then costs points in both.

**Points.** An item's points are in its test cell: {public} for the checks you can see there, {hidden} for
hidden checks on random shapes, dtypes and edge cases, split by weight. The visible points count only if at
least one hidden check of the item passes. The hidden inputs are drawn from a seed of your own (your student
id, else your notebook), recorded in the results: grading again meets the same inputs. Written answers are
graded by hand.

**From scratch.** No ready-made convolution, pooling or im2col, by any route (an alias, `getattr`...):
{forbidden}. No autograd ({autograd}) inside a graded function. Allowed: indexing and
slicing, {allowed}.{exceptions}

**What scores 0.** Breaking the from-scratch rule: that item. Reaching into the grader (frames, `gc`,
`ctypes`, `inspect`, `builtins`, `sys.modules`, torch's dispatch machinery): the whole notebook.

**Time.** A cell gets {load:g} s to run and a call of a graded function {call:g} s. Calls that run out of time
use up a budget of {budget:g} s per notebook, after which each call gets {spent:g} s; a function that ran out
of time is not called again.

**GPU.** Where the grader has CUDA, some checks pass CUDA tensors: create new tensors on the input's device
(`device=X.device`). CUDA has no integer `matmul` or `einsum`, so for integer inputs use products and sums.
"""


def _names(pairs: list[tuple[str, object]], last: str = "and") -> str:
    names = [name for name, _ in pairs]
    return ", ".join(names[:-1]) + f" {last} " + names[-1]


def exceptions(assignment: str) -> str:
    """This notebook's departures from the default rule, as its cases file declares them."""
    from autograder import judge

    declared = judge.declaration(assignment)
    items = declared.items if declared else ()
    lines = []
    shared = declared.rule(items[0]).allow if items else frozenset()
    everywhere = sorted(shared) if shared and all(declared.rule(item).allow == shared for item in items) else []
    if everywhere:   # one exception for every item: say it once
        words = [CATEGORY_WORDS[category] for category in everywhere]
        listed = f"{', '.join(words[:-1])} and {words[-1]}" if len(words) > 1 else words[0]
        lines.append(f"every graded function may use {listed}: the task is to build with them.")
    for item in items:
        rule = declared.rule(item)
        for category in [] if everywhere else sorted(rule.allow):
            lines.append(f"`{item}` may use {CATEGORY_WORDS[category]}: the task asks for it.")
        for category in sorted(rule.forbid - rules.FORBIDDEN_BY_DEFAULT):
            lines.append(f"`{item}` may not use {CATEGORY_WORDS[category]}: writing it is the task.")
    return "".join(f"\n- In this notebook, {line}" for line in lines)


def text(assignment: str) -> str:
    """The cell's Markdown for one assignment."""
    share = items.PUBLIC_SHARE
    return TEXT.format(
        public=f"{share:.0%}", hidden=f"{1 - share:.0%}", forbidden="; ".join(name for name, _ in FORBIDDEN),
        autograd=_names(AUTOGRAD, "or"), allowed=_names(ALLOWED),
        exceptions=exceptions(assignment), load=sandbox.LOAD_SECONDS, call=sandbox.CALL_SECONDS,
        budget=sandbox.BUDGET_SECONDS, spent=sandbox.SPENT_CALL_SECONDS).strip()


def cell_text(notebook: nbformat.NotebookNode) -> str | None:
    """The rules cell's text in a notebook, or None."""
    found = [cell.source for cell in notebook.cells if cell.get("id") == CELL_ID]
    return found[0] if found else None


def write(path: Path) -> bool:
    """Put the current rules cell into one source notebook (after its first cell); True if it changed."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    wanted = text(path.stem)
    if cell_text(notebook) == wanted:
        return False
    notebook.cells = [cell for cell in notebook.cells if cell.get("id") != CELL_ID]
    cell = nbformat.v4.new_markdown_cell(wanted)
    cell["id"] = CELL_ID
    notebook.cells.insert(1, cell)
    nbformat.write(notebook, path)
    return True


def main(solutions: Path) -> int:
    changed = [path for path in sorted(Path(solutions).glob("[0-9][0-9]_*/[0-9][0-9]_*.ipynb")) if write(path)]
    for path in changed:
        print(f"updated the rules cell of {path}: regenerate its release with nbgrader generate_assignment")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "solutions"))
