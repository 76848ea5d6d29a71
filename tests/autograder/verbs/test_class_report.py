"""Does ``class-report`` write a graded class's report.html and similarity.csv again from what is on disk?"""

from __future__ import annotations

import pytest

from autograder.cli import build_parser, main
from autograder.pipeline import load_releases
from autograder.report import class_view, similarity
from autograder.report import results as report
from autograder.report.gradebook import StudentRow, write_gradebook
from tests.support import ASSIGNMENTS, build_submission

ASSIGNMENT = "01_corr2d"
OWN = '''
def corr2d(X, K):
    rows, cols = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    if X.dim() != 2 or K.dim() != 2 or rows < 1 or cols < 1:
        raise ValueError("no")
    out = torch.zeros(rows, cols, dtype=torch.promote_types(X.dtype, K.dtype))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = (X[r:r + K.shape[0], c:c + K.shape[1]] * K).sum()
    return out
'''


@pytest.fixture
def graded(tmp_path):
    """A gradebook as grade-all writes it, for three students, and their notebooks (two hand in one answer)."""
    releases = {ASSIGNMENT: load_releases(ASSIGNMENTS)[ASSIGNMENT]}
    gradebook, submitted = tmp_path / "gradebook", tmp_path / "submitted"
    rows = []
    for student in ("ann", "ben", "cat"):
        row = StudentRow(student)
        for item, points in releases[ASSIGNMENT].item_points().items():
            row.scores[f"{ASSIGNMENT}/{item}"], row.maxima[f"{ASSIGNMENT}/{item}"] = points, points
        rows.append(row)
        report.write_json(report.results_json([]), gradebook / student / "results.json")
        build_submission(submitted / student, ASSIGNMENT, {"corr2d": OWN} if student != "cat" else {})
    write_gradebook(rows, releases, gradebook / "gradebook.csv")
    return gradebook, submitted


def similar_section(gradebook) -> str:
    page = (gradebook / class_view.REPORT).read_text(encoding="utf-8")
    return page[page.index('id="similarity"'):page.index('id="students"')]


def test_it_writes_the_page_and_the_similarity_of_the_submissions(graded, capsys):
    gradebook, submitted = graded
    assert main(["class-report", str(gradebook), "--submitted", str(submitted)]) == 0
    assert "class report:" in capsys.readouterr().out
    pair, = [pair for pair in similarity.read_csv(gradebook / class_view.SIMILARITY) if pair.item == "corr2d"]
    assert (pair.student_a, pair.student_b, pair.similarity) == ("ann", "ben", 1.0)
    assert "<td>ann</td>" in similar_section(gradebook)


def test_the_threshold_decides_which_pairs_the_page_lists(graded):
    gradebook, submitted = graded
    similarity.write_csv([similarity.Pair(ASSIGNMENT, "corr2d", "ann", "ben", 0.7, 0.65, 5, 5)],
                         gradebook / class_view.SIMILARITY)
    for threshold, listed in (("0.9", False), ("0.5", True)):
        assert main(["class-report", str(gradebook), "--threshold", threshold]) == 0
        assert ("<td>ann</td>" in similar_section(gradebook)) is listed


def test_a_missing_gradebook_folder_or_a_threshold_out_of_range_is_a_usage_error(graded, tmp_path):
    gradebook, _ = graded
    assert main(["class-report", str(tmp_path / "nowhere")]) == 2
    assert main(["class-report", str(gradebook), "--submitted", str(tmp_path / "nowhere")]) == 2
    assert main(["class-report", str(gradebook), "--threshold", "1.5"]) == 2
    assert main(["class-report", str(gradebook), "--threshold", "nan"]) == 2
    assert not (gradebook / class_view.REPORT).exists()


def test_the_help_names_the_default_threshold():
    verbs = next(action for action in build_parser()._actions if action.dest == "verb")
    threshold = next(action for action in verbs.choices["class-report"]._actions if action.dest == "threshold")
    assert f"default: {similarity.DEFAULT_THRESHOLD:g}" in threshold.help
