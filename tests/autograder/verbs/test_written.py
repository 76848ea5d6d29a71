"""Do the README's written-answer steps work as written: does `written register` put a graded class in nbgrader's
gradebook in seconds without running a line of student code, and does `written merge` bring the scores and
comments given there into results.json, feedback.md, the gradebook and the published comment?"""

from __future__ import annotations

import csv
import hashlib
import json
import time
import warnings

import nbformat
import pytest

from autograder import cli
from autograder.model import Entry, NotebookResult
from autograder.notebook import read_release
from autograder.report import results as report
from tests.support import ASSIGNMENTS, build_submission

ASSIGNMENT = "01_corr2d"
RELEASE = read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
FLIP, TRANSPOSE = "explain_flip", "explain_transpose"
STUDENTS = [f"s{number:02d}" for number in range(10)]
TYPED = "The kernel is flipped on both axes, so $K'[i, j] = K[h-1-i, w-1-j]$.\n<img src=x onerror=alert(1)>"


def graded_results(student: str, fraction: float, folder) -> dict:
    """A results.json as grade-all writes it (the pipeline's fields), each item at ``fraction`` of its points."""
    path = folder / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    result = NotebookResult(str(path), ASSIGNMENT,
                            [Entry(ASSIGNMENT, item, "hidden: random shapes", points * fraction, points,
                                   "" if fraction == 1 else "corr2d(X 5x7, K 2x3) returned shape (5, 7)")
                             for item, points in RELEASE.item_points().items()])
    result.manual = [{"name": f"{ASSIGNMENT}/{cell.grade_id}: written answer", "assignment": ASSIGNMENT,
                      "grade_id": cell.grade_id, "max_score": cell.points} for cell in RELEASE.manual]
    data = report.results_json([result])
    report.write_json(data, folder / "gradebook" / student / "results.json")
    return data


def answer(path, grade_id: str, text: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = text
    nbformat.write(notebook, path)


def gradebook(root):
    from autograder.nbgrader.database import open_gradebook

    warnings.filterwarnings("ignore", message="Object of type <Submitted")
    return open_gradebook(f"sqlite:///{root / 'gradebook.db'}")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A class of ten graded into gradebook/ (results.json written by hand: nothing is graded here), then
    registered with the README's command from the course directory. s01 answers explain_flip; s02's corr2d
    cell would write a file and stop the kernel if anything ran it; s03's notebook is not a notebook; s04 was
    collected at a known time."""
    root = tmp_path_factory.mktemp("term")
    ran = root / "student-code-ran"
    for number, student in enumerate(STUDENTS):
        overrides = {"corr2d": f"open({str(ran)!r}, 'w').write('ran')\nraise SystemExit(3)"} if student == "s02" else {}
        build_submission(root / "submitted" / student, ASSIGNMENT, overrides)
        graded_results(student, (number % 3) / 2, root)
    answer(root / "submitted" / "s01" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", FLIP, TYPED)
    (root / "submitted" / "s03" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("not a notebook")
    (root / "submitted" / "s04" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-15T23:58:00+01:00")
    from autograder.verbs.collect import Collected, write_record

    write_record(root / "submitted", [Collected("s06", "org/cnn-s06", "c" * 40, notebooks=[ASSIGNMENT],
                                                flags=["late by 3 h: 10 % off"], late_seconds=10800, penalty=0.1)])
    release_hash = _hash(ASSIGNMENTS)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        started = time.monotonic()
        status = cli.main(["written", "register", "submitted"])
        seconds = time.monotonic() - started
    print(f"\nregistered {len(STUDENTS)} students in {seconds:.1f} s")
    return {"root": root, "status": status, "seconds": seconds, "ran": ran, "release_hash": release_hash}


def _hash(folder) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_registering_ten_students_takes_seconds_and_runs_no_student_code(course):
    assert course["status"] == 0
    assert course["seconds"] < 30, f"registration took {course['seconds']:.1f} s"
    assert not course["ran"].exists(), "a student's cell ran"
    assert _hash(ASSIGNMENTS) == course["release_hash"], "the release was touched"
    assert not (course["root"] / "source").exists() and not (course["root"] / "release").exists()


def test_the_formgrader_lists_every_student_and_submission(course):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    api = NbGraderAPI(CourseDirectory(root=str(course["root"])))      # what the formgrader's handlers call
    submissions = api.get_submissions(ASSIGNMENT)
    assert [s["student"] for s in submissions] == STUDENTS and all(s["autograded"] for s in submissions)
    notebooks = api.get_notebook_submissions(ASSIGNMENT, ASSIGNMENT)
    assert sorted(n["student"] for n in notebooks) == sorted(set(STUDENTS) - {"s03"})    # s03's has no page
    assert {s["student"]: s["timestamp"] for s in submissions}["s04"] == "2026-12-15T22:58:00"
    assert sorted(s["id"] for s in api.get_students()) == STUDENTS


def test_code_scores_are_the_results_files_and_an_untouched_answer_is_a_zero(course):
    with gradebook(course["root"]) as book:
        for student in STUDENTS:
            data = json.loads((course["root"] / "gradebook" / student / "results.json").read_text())
            notebook = book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            grades = {grade.name: grade for grade in notebook.grades}
            comments = {comment.name: comment for comment in notebook.comments}
            for item in RELEASE.item_points():
                expected = sum(t["score"] for t in data["tests"] if t["extra_data"]["item"] == item)
                assert grades[f"test_{item}"].auto_score == pytest.approx(expected), (student, item)
                assert not grades[f"test_{item}"].needs_manual_grade
            typed = student == "s01"
            assert grades[FLIP].auto_score == (None if typed else 0) and grades[FLIP].needs_manual_grade == typed
            assert comments[FLIP].auto_comment == (None if typed else "No response.")
            assert grades[TRANSPOSE].auto_score == 0 and not grades[TRANSPOSE].needs_manual_grade


def test_the_formgraders_page_is_the_students_notebook_unrun_and_inert(course):
    page = nbformat.read(course["root"] / "autograded" / "s01" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert page.metadata == release.metadata
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in page.cells}
    flip = cells[FLIP]
    assert flip.cell_type == "markdown" and flip.source.startswith("```") and "<img" in flip.source  # text, not HTML
    test = cells["test_corr2d"]
    assert test.outputs[0]["text"].startswith(f"{ASSIGNMENT}/corr2d: 2 of 4 points")
    assert all(not cell.get("outputs") or cell.metadata["nbgrader"]["grade_id"].startswith("test_")
               for cell in page.cells if cell.cell_type == "code")
    s02 = nbformat.read(course["root"] / "autograded" / "s02" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    corr2d = next(c for c in s02.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "corr2d")
    assert "SystemExit(3)" in corr2d.source and corr2d.outputs == []


def test_registering_again_adds_nothing_and_keeps_what_was_graded_by_hand(course, tmp_path):
    root = course["root"]
    with gradebook(root) as book:
        grade = book.find_grade(FLIP, ASSIGNMENT, ASSIGNMENT, "s01")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        book.find_comment(FLIP, ASSIGNMENT, ASSIGNMENT, "s01").manual_comment = "Good."
        book.db.commit()
        before = (len(book.students), len(book.find_assignment(ASSIGNMENT).submissions), len(book.db.query(
            type(grade)).all()))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert cli.main(["written", "register", "submitted"]) == 0
    with gradebook(root) as book:
        grade = book.find_grade(FLIP, ASSIGNMENT, ASSIGNMENT, "s01")
        assert (len(book.students), len(book.find_assignment(ASSIGNMENT).submissions),
                len(book.db.query(type(grade)).all())) == before
        assert grade.manual_score == 1.5 and not grade.needs_manual_grade
        assert book.find_comment(FLIP, ASSIGNMENT, ASSIGNMENT, "s01").manual_comment == "Good."
    # an answer that changed after it was graded is flagged for review; its score stays
    answer(root / "submitted" / "s01" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", FLIP, TYPED + " Also: stride.")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert cli.main(["written", "register", "submitted"]) == 0
    with gradebook(root) as book:
        grade = book.find_grade(FLIP, ASSIGNMENT, ASSIGNMENT, "s01")
        assert grade.manual_score == 1.5 and grade.needs_manual_grade


def test_merged_scores_and_comments_reach_results_feedback_the_gradebook_and_the_comment(course):
    from autograder.verbs.collect import Collected
    from autograder.verbs.publish import comment

    root = course["root"]
    with gradebook(root) as book:          # as the formgrader's handlers save a grade and a comment
        for student, score, text in (("s01", 1.5, "Both axes: right.\n```\n@ta see <b>this</b>"),
                                     ("s05", 2.0, None)):
            grade = book.find_grade(FLIP, ASSIGNMENT, ASSIGNMENT, student)
            grade.manual_score, grade.needs_manual_grade = score, False
            book.find_comment(FLIP, ASSIGNMENT, ASSIGNMENT, student).manual_comment = text
        book.db.commit()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert cli.main(["written", "merge", "gradebook"]) == 0
    data = json.loads((root / "gradebook" / "s01" / "results.json").read_text())
    manual = {entry["grade_id"]: entry for entry in data["manual"]}
    assert manual[FLIP]["status"] == "graded" and manual[FLIP]["score"] == 1.5
    assert manual[FLIP]["comment"].startswith("Both axes")
    assert manual[TRANSPOSE]["status"] == "unanswered" and manual[TRANSPOSE]["score"] == 0
    assert data["manual_score"] == 1.5 and data["manual_pending"] == 0
    assert data["total"] == pytest.approx(data["score"] + 1.5)
    assert "pending manual grading" not in data["output"]
    feedback = (root / "gradebook" / "s01" / "feedback.md").read_text()
    assert "| 01\\_corr2d/explain\\_flip | 1.5 / 2 | graded |" in feedback
    assert "| 01\\_corr2d/explain\\_transpose | 0 / 2 | no answer |" in feedback
    assert "````\nBoth axes: right.\n```\n@\u2060ta see <b>this</b>\n````" in feedback   # fenced, no ping
    instructor = (root / "gradebook" / "s01" / "feedback-instructor.md").read_text()
    assert "Both axes: right." in instructor and "| 01\\_corr2d/explain\\_flip | 1.5 / 2 | graded |" in instructor
    assert data["output"] != data["output_for_student"] and data["output"] not in feedback, "the student's copy"
    posted = comment(Collected("s01", "org/cnn-s01", "a" * 40, notebooks=[ASSIGNMENT]), data,
                     report.feedback_markdown("s01", data, for_student=True))
    assert "| 01\\_corr2d/explain\\_flip | 1.5 / 2 | graded |" in posted and "Both axes: right." in posted
    with open(root / "gradebook" / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    for student in STUDENTS:
        data = json.loads((root / "gradebook" / student / "results.json").read_text())
        row = rows[student]
        late = 0.9 if student == "s06" else 1.0       # collect's record stays on the rebuilt row
        assert float(row["total"]) == pytest.approx(late * data["total"], abs=1e-3)
        assert float(row["manual"]) == data["manual_score"]
        flip = next(entry for entry in data["manual"] if entry["grade_id"] == FLIP)
        assert row[f"{ASSIGNMENT}/{FLIP}"] == ("" if flip["score"] is None else f"{flip['score']:g}")
    assert rows["s05"][f"{ASSIGNMENT}/{FLIP}"] == "2" and rows["s02"][f"{ASSIGNMENT}/{FLIP}"] == "0"
    assert rows["s06"]["commit"] == "c" * 40 and rows["s06"]["flags"].startswith("collect: late by 3 h")
    assert not course["ran"].exists()


def test_a_submission_not_graded_yet_is_skipped_and_said(tmp_path, capsys):
    build_submission(tmp_path / "submitted" / "ann", ASSIGNMENT)
    build_submission(tmp_path / "submitted" / "ben", ASSIGNMENT)
    graded_results("ann", 1, tmp_path)
    status = cli.main(["written", "register", str(tmp_path / "submitted"), "--out", str(tmp_path / "gradebook")])
    assert status == 1 and "ben/01_corr2d: no" in capsys.readouterr().err
    with gradebook(tmp_path) as book:
        assert [s.student.id for s in book.find_assignment(ASSIGNMENT).submissions] == ["ann"]


def test_grade_all_with_the_database_merges_through_the_same_code(course, tmp_path):
    import shutil

    from autograder.report.gradebook import blank_row
    from autograder.verbs.written import merge_into

    with gradebook(course["root"]) as book:
        grade = book.find_grade(FLIP, ASSIGNMENT, ASSIGNMENT, "s05")
        grade.manual_score, grade.needs_manual_grade = 2.0, False
        book.db.commit()
    out = tmp_path / "out"
    shutil.copytree(course["root"] / "gradebook", out)
    rows = [blank_row(student, {ASSIGNMENT: RELEASE}) for student in ("s05", "s06", "nobody")]
    merge_into(out, rows, f"sqlite:///{course['root'] / 'gradebook.db'}")
    assert rows[0].written[f"{ASSIGNMENT}/{FLIP}"] == 2.0 and rows[1].written[f"{ASSIGNMENT}/{FLIP}"] == 0.0
    assert rows[2].manual_pending == sum(cell.points for cell in RELEASE.manual)
    assert json.loads((out / "s05" / "results.json").read_text())["manual_score"] == 2.0
