"""Do the optional exercises' self-checks say "correct" to a right answer, and tell a wrong one and a skipped one?

Each check cell runs here, in this process, after the release's setup cell and the
instructor's solution cells, as it would in a student's kernel.
"""

from __future__ import annotations

import ast
import contextlib
import io

import nbformat
import pytest

from autograder.notebook import EXERCISE_PREFIX
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, SAMPLES, namespace, read_sample, solution_code

# A plausible mistake for every exercise: the body of its function here, or else a sample of
# tests/samples/<assignment>/ that replaces the exercise's cell (a new assignment's own folder).
WRONG = {
    "all_edges_kernel": "return torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, -1.0], [0.0, 0.0, 0.0]])",
    "same_output_kernel": "return torch.tensor([[0.0, 1.0], [-1.0, 0.0]])",
    "one_by_one_as_linear": "return linear(X.permute(1, 2, 0)).reshape(-1, X.shape[1], X.shape[2])",
    "strided_by_subsampling": "return corr2d_ps(X, K, padding)[stride - 1::stride, stride - 1::stride]",
    "avg_pool_as_conv": "return torch.nn.functional.conv2d(X[None, None], torch.ones(1, 1, k, k, dtype=X.dtype), "
                        "stride=k)[0, 0]",
    "global_avg_pool": "return X.amax(dim=(2, 3))",
    "min_pool": "return -pool2d(-X, pool_size, 'avg', stride=stride)",
    "dx_by_transpose": "return torch.nn.functional.conv_transpose2d(dout, w, stride=stride, padding=padding)",
    "global_avg_pool_backward": "return dout[:, :, None, None].expand(x_shape).clone()",
    "count_macs": "return count_parameters(net)",
    "confusion_matrix": "return torch.zeros(classes, classes, dtype=torch.int64)",
    "relu_max_variant": "return nn.Sequential(*[nn.ReLU() if isinstance(layer, nn.Sigmoid) else "
                        "nn.MaxPool2d(2, 2) if isinstance(layer, nn.AvgPool2d) else layer for layer in net])",
    "dilate_kernel": "return w.repeat_interleave(dilation, dim=2).repeat_interleave(dilation, dim=3)",
    "upsample2x": "return F.conv_transpose2d(x, torch.ones(x.shape[1], 1, 2, 2, dtype=x.dtype), stride=2, "
                  "groups=x.shape[1])",
}


def exercises() -> list[tuple[str, str, str]]:
    """(assignment, the exercise's grade_id, the source of the check cell that follows it)."""
    found = []
    for assignment in ASSIGNMENT_IDS:
        cells = nbformat.read(ASSIGNMENTS / assignment / f"{assignment}.ipynb", as_version=4).cells
        for index, cell in enumerate(cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.startswith(EXERCISE_PREFIX):
                found.append((assignment, grade_id, cells[index + 1].source))
    return found


EXERCISES = exercises()


def wrong_answer(assignment: str, grade_id: str, right: str) -> str:
    """The exercise's cell with a plausible mistake in it."""
    name = ast.parse(right).body[0].name
    if name in WRONG:
        return with_body(right, WRONG[name])
    samples = [read_sample(path)[0] for path in sorted((SAMPLES / assignment).glob("*.py"))]
    wrong = [replaced[grade_id] for replaced in samples if grade_id in replaced]
    assert wrong, f"{assignment}/{grade_id}: no wrong answer, in WRONG or as a sample that replaces {grade_id}"
    return wrong[0]


def run_check(assignment: str, answer: str, check: str) -> str:
    space = namespace(assignment)
    exec(compile(answer, "<answer>", "exec"), space)  # noqa: S102 - course code and planted mistakes
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(check, "<check>", "exec"), space)  # noqa: S102 - the release's check cell
    return out.getvalue().strip()


def with_body(source: str, body: str) -> str:
    """The exercise's function with its body replaced by ``body``."""
    function = ast.parse(source).body[0]
    head = source.splitlines()[: function.body[0].lineno - 1]    # signature and docstring
    return "\n".join(head + [f"    {body}"]) + "\n"


def test_every_notebook_has_two_or_three_exercises_each_followed_by_its_check():
    per_notebook = {a: sum(1 for e in EXERCISES if e[0] == a) for a in ASSIGNMENT_IDS}
    assert all(2 <= count <= 3 for count in per_notebook.values()), per_notebook
    assert all("self_check(" in check for _, _, check in EXERCISES)


@pytest.mark.parametrize("assignment, grade_id, check", EXERCISES, ids=[e[1] for e in EXERCISES])
def test_the_check_tells_a_right_answer_a_wrong_one_and_none(assignment, grade_id, check):
    right = solution_code(assignment)[grade_id]
    assert run_check(assignment, right, check).endswith(": correct")
    wrong = run_check(assignment, wrong_answer(assignment, grade_id, right), check)
    assert ": not yet." in wrong, wrong
    skipped = run_check(assignment, with_body(right, "raise NotImplementedError()"), check)
    assert skipped.endswith("not attempted yet (optional, not graded)"), skipped
