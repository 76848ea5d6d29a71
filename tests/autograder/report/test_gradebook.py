"""Is the gradebook row of a student the one their results.json says, and is the CSV safe to open?"""

from __future__ import annotations

import csv
import json
import os
import sys

import pytest

from autograder.nbgrader.database import read_marks
from autograder.notebook import read_release
from autograder.report import results as report
from autograder.report.gradebook import StudentRow, blank_row, merge, row_from_results, write_gradebook
from tests.support import ASSIGNMENTS

ASSIGNMENT = "01_corr2d"


@pytest.fixture(scope="module")
def release_01():
    return read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def test_the_gradebook_csv_quotes_flags_and_totals(tmp_path):
    release = read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    row = StudentRow("o'brien, jr", {f"{ASSIGNMENT}/corr2d": 1.5}, flags=['edited "test" cell', "late; 2 days"],
                     seeds={ASSIGNMENT: 7})
    write_gradebook([row], {ASSIGNMENT: release}, tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert line["student"] == "o'brien, jr" and line[f"{ASSIGNMENT}/corr2d"] == "1.5"
    assert line[f"{ASSIGNMENT}/Conv2D"] == "0" and line["automatic"] == "1.5"
    assert line["flags"] == 'edited "test" cell; late; 2 days' and line["seeds"] == f"{ASSIGNMENT}:7"


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")   # nbgrader's own add_submission
def test_written_answers_graded_in_nbgrader_are_merged_and_the_rest_stay_pending(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic


    release = read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    written = [cell.grade_id for cell in release.manual]
    database = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(database) as gradebook:      # what nbgrader's autograde and formgrader leave behind
        gradebook.update_or_create_assignment(ASSIGNMENT)
        gradebook.update_or_create_notebook(ASSIGNMENT, ASSIGNMENT)
        for cell in release.manual:
            gradebook.update_or_create_grade_cell(cell.grade_id, ASSIGNMENT, ASSIGNMENT, max_score=cell.points,
                                                  cell_type="markdown")
        for student in ("alice", "bob"):
            gradebook.add_student(student)
            gradebook.add_submission(ASSIGNMENT, student)
        gradebook.find_grade(written[0], ASSIGNMENT, ASSIGNMENT, "alice").manual_score = 1.5
        gradebook.find_grade(written[1], ASSIGNMENT, ASSIGNMENT, "bob").auto_score = 0    # left as released
        gradebook.db.commit()
    rows = {name: blank_row(name, {ASSIGNMENT: release}) for name in ("alice", "bob", "carol")}  # carol: unknown
    marks = read_marks(database)      # what `written merge` and grade-all --nbgrader-db put in the results files
    for row in rows.values():
        row.written.update({key: mark.score for key, mark in marks.get(row.student, {}).items() if key in row.written})
    total = sum(cell.points for cell in release.manual)
    assert rows["alice"].manual == 1.5 and rows["alice"].manual_pending == total - release.manual[0].points
    assert rows["bob"].manual == 0 and rows["bob"].written[f"{ASSIGNMENT}/{written[1]}"] == 0     # graded: 0
    assert rows["bob"].manual_pending == total - release.manual[1].points
    assert rows["carol"].manual_pending == total
    write_gradebook(list(rows.values()), {ASSIGNMENT: release}, tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="") as handle:
        alice = next(csv.DictReader(handle))
    assert alice[f"{ASSIGNMENT}/{written[0]}"] == "1.5" and alice[f"{ASSIGNMENT}/{written[1]}"] == ""
    assert alice["manual"] == "1.5" and alice["total"] == "1.5"


def test_merging_shards_joins_their_rows_and_refuses_a_student_twice(tmp_path):

    release = read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for shard, students in (("a", ["zoe", "adam"]), ("b", ["mia", "=cmd"]), ("c", ["adam"])):
        rows = [StudentRow(name, {f"{ASSIGNMENT}/corr2d": 1.0}) for name in students]
        write_gradebook(rows, {ASSIGNMENT: release}, tmp_path / shard / "gradebook.csv")
        for name in students:
            (tmp_path / shard / name).mkdir()
            (tmp_path / shard / name / "results.json").write_text(f'{{"from": "{shard}"}}')
    assert merge(tmp_path / "all", [tmp_path / "a", tmp_path / "b"]) == ["=cmd", "adam", "mia", "zoe"]
    with open(tmp_path / "all" / "gradebook.csv", newline="") as handle:     # still no formula for a spreadsheet
        assert [row["student"] for row in csv.DictReader(handle)] == ["'=cmd", "adam", "mia", "zoe"]
    assert '"b"' in (tmp_path / "all" / "mia" / "results.json").read_text()
    assert '"b"' in (tmp_path / "all" / "=cmd" / "results.json").read_text()
    with pytest.raises(ValueError, match="student adam appears in two shards"):
        merge(tmp_path / "again", [tmp_path / "a", tmp_path / "c"])


def test_no_gradebook_cell_is_a_spreadsheet_formula(tmp_path, release_01):
    ids = ['=HYPERLINK("http://x","y")', "@SUM(1)", "-2+3", "+A1", "\tx", "'quoted", "plain"]
    rows = [StudentRow(student, {"01_corr2d/corr2d": 1.5}, flags=["=1+1", "late"]) for student in ids]
    write_gradebook(rows, {"01_corr2d": release_01}, tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [line["student"] for line in table] == ['\'=HYPERLINK("http://x","y")', "'@SUM(1)", "'-2+3", "'+A1", "'\tx",
                                                   "''quoted", "plain"]
    assert [report.csv_text(line["student"]) for line in table] == ids      # the ids, to find their folders
    assert table[0]["flags"] == "'=1+1; late" and table[0]["01_corr2d/corr2d"] == "1.5"   # numbers stay numbers
    assert report.csv_cell("-2") == "-2" and report.csv_cell("1e-3") == "1e-3"


def test_a_row_is_what_the_results_file_says(release_01):
    from autograder.model import Entry, NotebookResult, Seed

    items = list(release_01.item_points())
    graded = NotebookResult("submitted/ann/01_corr2d/01_corr2d.ipynb", ASSIGNMENT,
                            [Entry(ASSIGNMENT, items[0], "hidden: a", 1.5, 2.0, ""),
                             Entry(ASSIGNMENT, items[0], "public: b", 0.5, 0.5, ""),
                             Entry(ASSIGNMENT, items[1], "hidden: c", 0.0, 1.0, "wrong", failed=True)],
                            notes=["cell 7 called os._exit\nmore", ""], seed=Seed(12, "secret"))
    data = json.loads(json.dumps(report.results_json([graded], ["02_x.ipynb: not a notebook"])))   # as on disk
    row = row_from_results("ann", data, {ASSIGNMENT: release_01})
    assert row.scores[f"{ASSIGNMENT}/{items[0]}"] == 2.0 and row.scores[f"{ASSIGNMENT}/{items[1]}"] == 0.0
    assert set(row.scores) == set(row.maxima) == {f"{ASSIGNMENT}/{item}" for item in items}
    assert row.flags == [f"{ASSIGNMENT}: cell 7 called os._exit", "02_x.ipynb: not a notebook"]
    assert row.seeds == {ASSIGNMENT: 12} and not row.internal_error
    assert row.manual_pending == sum(cell.points for cell in release_01.manual) > 0
    tampered = NotebookResult("t.ipynb", ASSIGNMENT, [Entry(ASSIGNMENT, "", "grader tampering", 0, 0, "x", True,
                                                            verdict="tampering", used=("import gc",))])
    row = row_from_results("tom", report.results_json([tampered]), {ASSIGNMENT: release_01})
    assert row.flags == [f"{ASSIGNMENT}: grader tampering, the notebook scores 0 (used import gc)"]
    assert row.automatic == 0
    crashed = report.results_json([], ["crashed"], internal_error=True)
    nothing = row_from_results("eve", crashed, {ASSIGNMENT: release_01})
    assert nothing.internal_error and nothing.flags == [f"{ASSIGNMENT}: no submission", "crashed"]


# -- the columns: maxima with the written answers, the late penalty, the commit -----------------------------

def test_the_header_of_a_01_class(tmp_path, release_01):
    write_gradebook([], {ASSIGNMENT: release_01}, tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="") as handle:
        header = next(csv.reader(handle))
    items = [f"{ASSIGNMENT}/{item}" for item in release_01.item_points()]
    written = [f"{ASSIGNMENT}/{cell.grade_id}" for cell in release_01.manual]
    assert header == ["student", *items, *written, "automatic", "automatic_max", "manual", "manual_pending",
                      "manual_max", "late_penalty", "total", "total_max", "flags", "seeds", "commit"]


def test_the_late_penalty_takes_its_fraction_of_the_total_with_the_written_answers(tmp_path, release_01):
    """Is a 10 % penalty 10 % of automatic + written points, and are the maxima those of both?"""
    row = blank_row("ann", {ASSIGNMENT: release_01})
    items, written = list(row.scores), list(row.written)
    row.scores[items[0]] = 3.0
    row.written[written[0]] = 1.0
    row.commit, row.penalty = "0123456789abcdef0123456789abcdef01234567", 0.1
    on_time = StudentRow("bob", {items[0]: 3.0})
    write_gradebook([row, on_time], {ASSIGNMENT: release_01}, tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="") as handle:
        ann, bob = list(csv.DictReader(handle))
    automatic_max = sum(release_01.item_points().values())
    manual_max = sum(cell.points for cell in release_01.manual)
    assert ann["automatic"] == "3" and ann["manual"] == "1" and ann["late_penalty"] == "0.4" and ann["total"] == "3.6"
    assert float(ann["manual_max"]) == manual_max > 0 and float(ann["automatic_max"]) == automatic_max
    assert float(ann["total_max"]) == automatic_max + manual_max
    assert ann["commit"] == row.commit and bob["commit"] == ""
    assert bob["late_penalty"] == "0" and bob["total"] == "3"
    assert row.assignment_points(ASSIGNMENT) == (3.6, automatic_max + manual_max)


def test_a_from_scratch_verdict_is_a_flag_of_its_item(release_01):
    from autograder.model import Entry, NotebookResult

    graded = NotebookResult("a.ipynb", ASSIGNMENT, [
        Entry(ASSIGNMENT, "corr2d", "hidden: a", 0.0, 2.0, "scored 0: 01_corr2d/corr2d breaks the from-scratch rule"),
        Entry(ASSIGNMENT, "corr2d", "from-scratch rule", 0.0, 0.0, "This item scores 0: it used ...", True,
              verdict="from-scratch", used=("aten.convolution.default", "aten.unfold.default")),
        Entry(ASSIGNMENT, "Conv2D", "hidden: b", 0.0, 1.0, "wrong", failed=True)])
    row = row_from_results("ann", json.loads(json.dumps(report.results_json([graded]))), {ASSIGNMENT: release_01})
    assert row.flags == [f"{ASSIGNMENT}: corr2d breaks the from-scratch rule (used aten.convolution.default, "
                         "aten.unfold.default)"], "from the marker alone: a wrong answer is no verdict"


def test_a_results_file_from_before_the_markers_still_flags_tampering(release_01):
    old = {"tests": [{"name": f"{ASSIGNMENT}: grader tampering", "score": 0, "max_score": 0, "status": "failed",
                      "output": "x", "extra_data": {"assignment": ASSIGNMENT, "item": "", "replay": ""}}],
           "notebooks": [{"assignment": ASSIGNMENT, "path": "t.ipynb", "notes": []}]}
    assert row_from_results("tom", old, {ASSIGNMENT: release_01}).flags == \
        [f"{ASSIGNMENT}: grader tampering, the notebook scores 0"]


def test_merging_shards_joins_their_canvas_files_in_the_gradebooks_order(tmp_path, release_01):
    from autograder.report.exports import write_canvas

    everyone = []
    for shard, students in (("a", ["zoe", "adam"]), ("b", ["mia", "=cmd"])):
        rows = [blank_row(name, {ASSIGNMENT: release_01}) for name in sorted(students)]
        for row in rows:
            row.scores[f"{ASSIGNMENT}/corr2d"] = float(len(row.student))
        write_gradebook(rows, {ASSIGNMENT: release_01}, tmp_path / shard / "gradebook.csv")
        write_canvas(rows, tmp_path / shard / "canvas.csv")
        everyone += rows
    write_canvas(sorted(everyone, key=lambda row: row.student), tmp_path / "whole.csv")
    merge(tmp_path / "all", [tmp_path / "a", tmp_path / "b"])
    assert (tmp_path / "all" / "canvas.csv").read_text() == (tmp_path / "whole.csv").read_text()
    (tmp_path / "b" / "canvas.csv").unlink()
    with pytest.raises(ValueError, match="missing, while other shards wrote"):
        merge(tmp_path / "again", [tmp_path / "a", tmp_path / "b"])


def test_grade_all_takes_the_commit_and_the_late_penalty_from_collected_csv(tmp_path, monkeypatch):
    """Do a class's rows get collect's commit and penalty, whether collected.csv has a penalty column or not?"""
    from dataclasses import dataclass

    from autograder.verbs import grade_all
    from autograder.verbs.collect import Collected

    @dataclass
    class Late(Collected):                   # collect's record once it knows deadlines
        penalty: float = 0.0

    (tmp_path / "submitted").mkdir()
    record = [Late("ann", "org/ann", "a" * 40, notebooks=[ASSIGNMENT], flags=["late"], penalty=0.25),
              Collected("bob", "org/bob", "b" * 40), Collected("cat", "org/cat")]
    monkeypatch.setattr(grade_all, "read_record", lambda submitted: record)
    monkeypatch.setattr(grade_all, "_warm_up", lambda judges: None)        # nobody to grade: no zygote
    rows = grade_all.grade_class(tmp_path / "submitted", ASSIGNMENTS, tmp_path / "out", assignments=[ASSIGNMENT],
                                 progress=False)
    assert [(row.student, row.commit, row.penalty) for row in rows] == \
        [("ann", "a" * 40, 0.25), ("bob", "b" * 40, 0.0), ("cat", "", 0.0)]
    assert rows[0].flags == ["collect: late", f"{ASSIGNMENT}: no submission"]   # collected, yet nothing there
    with open(tmp_path / "out" / "gradebook.csv", newline="") as handle:
        assert [line["commit"] for line in csv.DictReader(handle)] == ["a" * 40, "b" * 40, ""]


def test_the_written_answers_in_a_row_are_the_scores_its_results_file_holds(release_01):
    from autograder.model import Mark, NotebookResult

    graded = NotebookResult("ann.ipynb", ASSIGNMENT)
    graded.manual = [{"name": f"{ASSIGNMENT}/{cell.grade_id}: written answer", "assignment": ASSIGNMENT,
                      "grade_id": cell.grade_id, "max_score": cell.points} for cell in release_01.manual]
    first, second = (f"{ASSIGNMENT}/{cell.grade_id}" for cell in release_01.manual)
    data = report.with_manual(report.results_json([graded]), {first: Mark(1.5, "graded", "ok")})
    row = row_from_results("ann", data, {ASSIGNMENT: release_01})
    assert row.written == {first: 1.5, second: None} and row.manual == data["manual_score"] == 1.5
    assert row.manual_pending == data["manual_pending"] == release_01.manual[1].points
