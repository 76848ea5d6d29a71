"""Do results reach people and machines intact: results.json, the table, GitHub's summary?"""

from __future__ import annotations

import json

import pytest

from autograder.model import Entry, NotebookResult
from autograder.report import results as report

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
    assert f"isolation: {WEAK}" in report.table(data)


def test_the_table_shows_why_a_check_failed():
    text = report.table(report.results_json([result()]))
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
