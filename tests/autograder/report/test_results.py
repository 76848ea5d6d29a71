"""Do results reach people and machines intact: results.json, the table, GitHub's summary?"""

from __future__ import annotations

import json

import pytest

from autograder.model import Entry, NotebookResult
from autograder.report import results as report
from autograder.report import terminal

WEAK = "WEAK: limits only, no namespaces on this machine"


def result(isolation: str = "namespaces (no network, own process tree); rlimits") -> NotebookResult:
    notebook = NotebookResult("sub/01_corr2d.ipynb", "01_corr2d", isolation=isolation)
    notebook.entries = [Entry("01_corr2d", "corr2d", "public checks (notebook)", 1.0, 1.0),
                        Entry("01_corr2d", "corr2d", "random shapes", 0.0, 3.0,
                              "corr2d(X 5x7, K 2x3) returned shape (5, 7)")]
    notebook.manual = [{"name": "01_corr2d/explain_flip: written answer", "max_score": 2.0}]
    return notebook


def test_results_json_follows_the_gradescope_schema_and_adds_up():
    data = json.loads(json.dumps(report.results_json([result()])))
    assert data["score"] == 1 and data["max_score"] == 4
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "extra_data"}
        assert test["status"] in {"passed", "failed"} and 0 <= test["score"] <= test["max_score"]
    assert [t["status"] for t in data["tests"]] == ["passed", "failed"]
    assert "pending manual grading: 01_corr2d/explain_flip" in data["output"]


def test_the_isolation_in_force_is_shown_in_the_file_and_the_table():
    data = report.results_json([result(WEAK)])
    assert data["isolation"] == [WEAK]
    assert f"isolation: {WEAK}" in terminal.table(data)


def test_the_table_shows_why_a_check_failed():
    text = terminal.table(report.results_json([result()]))
    assert "returned shape (5, 7)" in text and "total" in text and "1/4" in text


def test_inside_github_actions_a_summary_and_a_points_notice_are_written(tmp_path, monkeypatch, capsys):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report.github(report.results_json([result()]))
    assert "**Points 1/4**" in summary.read_text() and r"| 01\_corr2d/corr2d\: random shapes | 0/3 | ❌ |" in \
        summary.read_text()
    assert "::notice title=Autograder::Points 1/4" in capsys.readouterr().out


def test_the_results_file_is_written_whole(tmp_path):
    path = tmp_path / "deep" / "results.json"
    report.write_json(report.results_json([result()]), path)
    assert json.loads(path.read_text())["max_score"] == 4
    with pytest.raises(ValueError):
        report.write_json({"score": float("nan")}, path)
    assert json.loads(path.read_text())["max_score"] == 4, "a failed write leaves the old file whole"




def test_a_notebook_wide_entry_stays_under_its_assignment_in_feedback_and_status():
    from autograder.verbs import publish

    notebook = result()
    notebook.entries.append(Entry("01_corr2d", "", "grader tampering", 0.0, 0.0, "The whole notebook scores 0", True))
    assert [entry.name for entry in notebook.entries[1:]] == ["01_corr2d/corr2d: random shapes",
                                                              "01_corr2d: grader tampering"]
    data = report.results_json([notebook])
    assert [(test["extra_data"]["assignment"], test["extra_data"]["item"]) for test in data["tests"]][-2:] == \
        [("01_corr2d", "corr2d"), ("01_corr2d", "")], "item ids travel as fields, never parsed out of a name"
    page = report.feedback_markdown("mallory", data)
    headings = [line for line in page.splitlines() if line.startswith("## ") and ": " in line]
    assert headings == ["## 01\\_corr2d: 1 / 4"], "one section for the assignment, none for the tampering entry"
    assert "| the whole notebook: grader tampering | 0 / 0 | **failed** |" in page
    assert publish._by_assignment(data) == [("01_corr2d", (1.0, 4.0))]


# -- what the student reads, and what only the instructor does ---------------------------------------------

SUBMITTED = "/tmp/course-x/submitted/ann/01_corr2d/01_corr2d.ipynb"
REPLAY = f"replay: python -m autograder grade {SUBMITTED} --seed 4242"
SECRET_NOTE = ("No course secret is set (autograder/cases/course_secret or $AUTOGRADER_COURSE_SECRET): anyone with "
               "the hidden cases can tell which inputs a notebook will meet")


def failing_hidden_case() -> NotebookResult:
    """A notebook graded as the pipeline grades one: a failed hidden case that ends with its replay line, a
    seed, the walls in force, a note on the grader's machine and one on the student's notebook."""
    from autograder.model import Seed

    notebook = NotebookResult(SUBMITTED, "01_corr2d", isolation="namespaces (no network, own process tree); rlimits",
                              seed=Seed(4242, "student 'ann'"))
    notebook.entries = [Entry("01_corr2d", "corr2d", "public checks (notebook)", 1.0, 1.0),
                        Entry("01_corr2d", "corr2d", "random shapes", 0.0, 3.0,
                              f"corr2d(X 5x7, K 2x3) returned shape (5, 7)\n{REPLAY}", replay=REPLAY)]
    notebook.notes = [f"Could not read the notebook: {SUBMITTED}: the file is empty", SECRET_NOTE]
    notebook.instructor_only = [SECRET_NOTE]
    notebook.manual = [{"name": "01_corr2d/explain_flip: written answer", "max_score": 2.0}]
    return notebook


def test_the_students_output_leaves_out_seeds_walls_paths_and_the_graders_own_notes():
    data = report.results_json([failing_hidden_case()], [f"{SUBMITTED}: holds no assignment folder"])
    student = data["output_for_student"]
    for secret in ("--seed", "seed", "isolation", "namespace", "/tmp", SUBMITTED, "course_secret"):
        assert secret not in student, secret
    assert "01_corr2d.ipynb: holds no assignment folder" in student
    assert "Could not read the notebook: 01_corr2d.ipynb: the file is empty" in student
    assert "pending manual grading: 01_corr2d/explain_flip" in student
    for kept in ("--seed 4242", "isolation: namespaces", SUBMITTED, SECRET_NOTE):
        assert kept in data["output"], kept
    assert data["notebooks"][0]["notes"][1] == SECRET_NOTE, "the gradebook still flags it"
    assert data["notebooks"][0]["notes_for_student"] == ["Could not read the notebook: 01_corr2d.ipynb: the file is "
                                                         "empty"]


def test_a_student_problem_can_say_less_than_the_instructors():
    data = report.results_json([], ["Traceback (most recent call last):\n  File \"/srv/autograder/pipeline.py\""],
                               internal_error=True, student_problems=["internal error of the autograder"])
    assert data["output_for_student"] == "internal error of the autograder" and "/srv" in data["output"]


def test_grade_all_writes_the_students_feedback_and_the_instructors_copy(tmp_path):
    """Does feedback.md of a failing hidden case hold no replay, seed, wall or path, and the instructor's copy
    all of them; and does publish post the student's version?"""
    from autograder.verbs import publish
    from autograder.verbs.collect import Collected

    data = report.results_json([failing_hidden_case()])
    report.write_student(tmp_path / "ann", data)
    student = (tmp_path / "ann" / "feedback.md").read_text()
    instructor = (tmp_path / "ann" / "feedback-instructor.md").read_text()
    assert "returned shape (5, 7)" in student and "**failed**" in student and "explain\\_flip" in student
    for secret in ("--seed", "seed", "isolation", "namespace", "/tmp", SUBMITTED, str(tmp_path)):
        assert secret not in student.lower(), secret
    assert REPLAY in instructor and "isolation: namespaces" in instructor and SECRET_NOTE in instructor
    posted = publish.comment(Collected("ann", "org/ann", commit="a" * 40), data,
                             report.feedback_markdown("ann", data, for_student=True))
    assert "--seed" not in posted and "returned shape (5, 7)" in posted


def test_a_rules_verdict_travels_as_a_field():
    notebook = result()
    notebook.entries.append(Entry("01_corr2d", "corr2d", "from-scratch rule", 0.0, 0.0, "it used ...", True,
                                  verdict="from-scratch", used=("aten.convolution.default",)))
    extra = report.results_json([notebook])["tests"][-1]["extra_data"]
    assert extra["verdict"] == "from-scratch" and extra["used"] == ["aten.convolution.default"]
    assert report.results_json([result()])["tests"][0]["extra_data"]["verdict"] == ""


def test_written_answers_graded_by_hand_count_in_the_total_and_show_in_the_feedback():
    from autograder.model import Mark

    notebook = result()
    notebook.manual = [{"name": f"01_corr2d/{grade_id}: written answer", "assignment": "01_corr2d",
                        "grade_id": grade_id, "max_score": 2.0} for grade_id in ("explain_transpose", "explain_flip")]
    data = json.loads(json.dumps(report.results_json([notebook])))
    assert [(m["status"], m["score"], m["comment"]) for m in data["manual"]] == [("pending", None, None)] * 2
    assert (data["manual_score"], data["manual_pending"], data["total"], data["total_max_score"]) == (0, 4, 1, 8)
    marks = {"01_corr2d/explain_flip": Mark(1.5, "graded", "Right idea, but [click](https://x.example) @ta"),
             "01_corr2d/explain_transpose": Mark(0.0, "unanswered")}
    graded = report.with_manual(data, marks)
    assert data["manual"][0]["status"] == "pending", "the results given are left as they were"
    assert [(m["status"], m["score"]) for m in graded["manual"]] == [("unanswered", 0.0), ("graded", 1.5)]
    assert (graded["manual_score"], graded["manual_pending"], graded["total"], graded["score"]) == (1.5, 0, 2.5, 1)
    assert "pending manual grading" not in graded["output"] + graded["output_for_student"]
    assert report.with_manual(graded, marks) == graded, "merging again changes nothing"
    for page in (report.feedback_markdown("ann", graded), report.feedback_markdown("ann", graded, for_student=True)):
        assert "**Total: 2.5 / 8**" in page and "| 01\\_corr2d/explain\\_flip | 1.5 / 2 | graded |" in page
        assert "| 01\\_corr2d/explain\\_transpose | 0 / 2 | no answer |" in page
        assert "```\nRight idea, but [click](https://x.example) @\u2060ta\n```" in page   # text, no link, no ping
    again = report.with_manual(graded, {})                   # the database no longer has them: pending again
    assert again["manual_pending"] == 4 and "pending manual grading: 01_corr2d/explain_flip" in again["output"]
    assert "| 01\\_corr2d/explain\\_flip | – / 2 | not graded yet |" in report.feedback_markdown("ann", again)


def test_a_late_penalty_shows_in_the_results_and_the_students_feedback():
    data = report.with_late(report.results_json([result()]), "2026-12-15T23:59:00+01:00", 79260, 0.1)
    assert data["late"]["points"] == 0.1 and data["total"] == 1, "the total stays the points before it"
    text = report.feedback_markdown("dan", json.loads(json.dumps(data)), for_student=True)
    assert "**Late: 10% of the total off, -0.1 (the deadline was 2026" in text and "after it: 0.9 / 6**" in text
    assert "Late" not in report.feedback_markdown("ann", report.results_json([result()]), for_student=True)
