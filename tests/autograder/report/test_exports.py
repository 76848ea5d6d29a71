"""Do the class's grades reach other systems in their own formats: Canvas's gradebook import, Gradescope's
results files?"""

from __future__ import annotations

import csv
import json
import re

import pytest

from autograder.model import Entry, NotebookResult, Seed
from autograder.notebook import read_release
from autograder.report import exports
from autograder.report import results as report
from autograder.report.gradebook import blank_row
from tests.support import ASSIGNMENTS, build_submission, run_cli

FIRST, SECOND = "01_corr2d", "02_padding_stride_channels"

# Gradescope's autograder results format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
# every field it defines, at the top level and for a test.
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
                   "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


@pytest.fixture(scope="module")
def releases():
    return {name: read_release(ASSIGNMENTS / name / f"{name}.ipynb") for name in (FIRST, SECOND)}


def _row(student, releases, first=0.0, written=None, penalty=0.0, internal_error=False):
    row = blank_row(student, releases)
    row.scores[next(key for key in row.scores if key.startswith(FIRST))] = first
    for key, points in (written or {}).items():
        row.written[f"{FIRST}/{key}"] = points
    row.penalty, row.internal_error = penalty, internal_error
    return row


def _maxima(release):
    return sum(release.item_points().values()) + sum(cell.points for cell in release.manual)


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# -- Canvas -------------------------------------------------------------------------------------------------

def test_canvas_csv_has_canvas_columns_points_possible_and_each_assignments_points(tmp_path, releases):
    answer = releases[FIRST].manual[0].grade_id
    rows = [_row("ann", releases, 3.0, {answer: 1.0}, penalty=0.25), _row("bob", releases, 2.0),
            _row("eve", releases, internal_error=True)]
    assert exports.write_canvas(rows, tmp_path / "canvas.csv", ids={FIRST: "4321"}) == []
    header, possible, ann, bob, eve = _read(tmp_path / "canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{FIRST} (4321)", SECOND]
    assert possible == ["Points Possible", "", "", "", "", f"{_maxima(releases[FIRST]):g}",
                        f"{_maxima(releases[SECOND]):g}"], "automatic and written maxima together"
    assert ann == ["ann", "", "", "ann", "", "3", "0"], "(3 + 1 written) less a quarter for lateness"
    assert bob == ["bob", "", "", "bob", "", "2", "0"]
    assert eve == ["eve", "", "", "eve", "", "", ""], "a grading that failed imports nothing"


def test_a_roster_maps_our_ids_to_canvas_and_the_unlisted_are_named(tmp_path, releases):
    roster = tmp_path / "roster.csv"
    roster.write_text("student,github,name,canvas_id,sis_user_id,sis_login_id,section\n"
                      'ann,ann-gh,"Lovelace, Ada",1017,S-1,alovelace,CNN 2026\n'
                      "bob,bob-gh,,,,,CNN 2026\n", encoding="utf-8")
    mapping = exports.read_canvas_roster(roster)
    unlisted = exports.write_canvas([_row(name, releases) for name in ("ann", "bob", "cat", "=cmd")],
                                    tmp_path / "canvas.csv", mapping)
    assert unlisted == ["cat", "=cmd"]
    _, _, ann, bob, cat, cmd = _read(tmp_path / "canvas.csv")
    assert ann[:5] == ["Lovelace, Ada", "1017", "S-1", "alovelace", "CNN 2026"]
    assert bob[:5] == ["bob", "", "", "bob", "CNN 2026"], "no Canvas id on the roster: ours, as the login"
    assert cat[:5] == ["cat", "", "", "cat", ""]
    assert cmd[:5] == ["'=cmd", "", "", "'=cmd", ""], "never a spreadsheet formula"


@pytest.mark.parametrize("text, message", [
    ("github,name\nann,Ada\n", "no 'student' column"),
    ("student,name\nann,Ada\nann,Ada L.\n", "line 3: student ann is on the roster twice")])
def test_a_roster_that_cannot_be_used_says_why(tmp_path, text, message):
    (tmp_path / "roster.csv").write_text(text, encoding="utf-8")
    with pytest.raises(exports.ExportError, match=message):
        exports.read_canvas_roster(tmp_path / "roster.csv")
    with pytest.raises(exports.ExportError, match="nothing.csv"):
        exports.read_canvas_roster(tmp_path / "nothing.csv")


def test_a_canvas_assignment_id_is_a_number():
    assert exports.parse_canvas_assignment("01_corr2d=4321") == ("01_corr2d", "4321")
    for text in ("01_corr2d", "01_corr2d=abc", "=12"):
        with pytest.raises(ValueError, match="NAME=ID"):
            exports.parse_canvas_assignment(text)


def test_the_command_line_takes_the_export_options(tmp_path):
    from autograder.cli import build_parser

    args = build_parser().parse_args(["grade-all", "submitted", "--gradescope", "--canvas-roster", "r.csv",
                                      "--canvas-assignment", "01_corr2d=11", "--canvas-assignment", "02_x=12"])
    assert args.gradescope and args.canvas_assignment == [("01_corr2d", "11"), ("02_x", "12")]
    (tmp_path / "submitted").mkdir()
    bad = run_cli("grade-all", tmp_path / "submitted", "--canvas-roster", tmp_path / "missing.csv", timeout=120)
    assert bad.returncode == 2 and "missing.csv" in bad.stderr
    unknown = run_cli("grade-all", tmp_path / "submitted", "--canvas-assignment", "09_nothing=1", timeout=120)
    assert unknown.returncode == 2 and "no assignment 09_nothing" in unknown.stderr


# -- Gradescope ---------------------------------------------------------------------------------------------

SUBMITTED = "/tmp/course-x/submitted/ann/01_corr2d/01_corr2d.ipynb"
REPLAY = f"replay: python -m autograder grade {SUBMITTED} --seed 77"


def _graded() -> dict:
    first = NotebookResult(SUBMITTED, FIRST, seed=Seed(77, "student 'ann'"), isolation="namespaces; rlimits",
                           notes=["Test cell 'corr2d_tests' was edited; the original checks were used."])
    first.entries = [Entry(FIRST, "corr2d", "public checks (notebook)", 1.0, 1.0),
                     Entry(FIRST, "corr2d", "random shapes", 0.0, 3.0, f"returned shape (5, 7)\n{REPLAY}",
                           replay=REPLAY),
                     Entry(FIRST, "conv2d_strict", "from-scratch rule", 0.0, 0.0, "it used ...", True,
                           verdict="from-scratch", used=("aten.convolution.default",))]
    first.manual = [{"name": f"{FIRST}/explain_flip: written answer", "max_score": 2.0}]
    second = NotebookResult(SUBMITTED.replace(FIRST, SECOND), SECOND,
                            entries=[Entry(SECOND, "pad2d", "hidden", 2.0, 2.0)])
    return json.loads(json.dumps(report.results_json([first, second])))


def test_a_gradescope_file_follows_the_spec_and_holds_one_assignment_as_its_student_reads_it():
    result = exports.gradescope_results(_graded(), FIRST)
    assert set(result) <= GRADESCOPE_TOP and "score" in result
    assert result["visibility"] in VISIBILITY and result["stdout_visibility"] in VISIBILITY
    assert {result["output_format"], result["test_output_format"], result["test_name_format"]} == {"text"}
    assert result["score"] == 1.0 == sum(test["score"] for test in result["tests"])
    for test in result["tests"]:
        assert set(test) <= GRADESCOPE_TEST and {"name", "score", "max_score", "status", "output"} <= set(test)
        assert test["status"] in {"passed", "failed"} and test["visibility"] in VISIBILITY
        assert test["name"].startswith(f"{FIRST}/") and 0 <= test["score"] <= test["max_score"]
    assert [test["extra_data"]["verdict"] for test in result["tests"]] == ["", "", "from-scratch"]
    said = json.dumps(result)
    for secret in ("--seed", "seed", "isolation", "namespace", "/tmp", "replay"):
        assert secret not in said, secret
    assert "returned shape (5, 7)" in said and "was edited" in result["output"]
    assert "graded by hand, outside the autograder: 01_corr2d/explain_flip" in result["output"], \
        "the written answer is no test: it is listed as graded by hand"
    assert exports.gradescope_results(_graded(), SECOND)["score"] == 2.0


def test_gradescope_files_are_written_per_assignment_and_none_for_a_failed_grading(tmp_path):
    report.write_json(_graded(), tmp_path / "ann" / "results.json")
    report.write_json(report.results_json([], ["crashed"], internal_error=True), tmp_path / "eve" / "results.json")
    assert exports.write_gradescope(tmp_path, ["ann", "eve", "zed"]) == 2
    assert sorted(path.name for path in (tmp_path / "ann" / "gradescope").iterdir()) == [f"{FIRST}.json",
                                                                                        f"{SECOND}.json"]
    assert json.loads((tmp_path / "ann" / "gradescope" / f"{SECOND}.json").read_text())["score"] == 2.0
    assert not (tmp_path / "eve" / "gradescope").exists()


# -- end to end ---------------------------------------------------------------------------------------------

def test_grade_all_writes_the_exports_and_a_students_feedback_without_the_graders_details(tmp_path):
    """One student with a wrong receptive_field, graded with the hidden cases by the command line.

    ("seed" is looked for as a word: a check of learn_kernel, whose ``seed`` argument is the student's own,
    is titled "... from the seeded torch.rand start ...".)"""
    wrong = "def receptive_field(kernel_sizes, strides=None):\n    return len(kernel_sizes)\n"
    notebook = build_submission(tmp_path / "submitted" / "ann", FIRST, {"receptive_field": wrong})
    run = run_cli("grade-all", tmp_path / "submitted", "--jobs", "1", "--out", tmp_path / "out", "--gradescope",
                  "--canvas-assignment", f"{FIRST}=4321")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    student = (tmp_path / "out" / "ann" / "feedback.md").read_text()
    instructor = (tmp_path / "out" / "ann" / "feedback-instructor.md").read_text()
    seed = json.loads((tmp_path / "out" / "ann" / "results.json").read_text())["seeds"][0]["seed"]
    assert "**failed**" in student and "receptive\\_field: " in student
    assert not re.search(r"\bseed\b", student, re.I) and str(seed) not in student
    for secret in ("--seed", "isolation", "namespace", "/tmp", str(notebook), str(tmp_path)):
        assert secret not in student.lower(), secret
    assert f"--seed {seed}" in instructor and "isolation" in instructor
    header, possible, ann = _read(tmp_path / "out" / "canvas.csv")
    assert header[5:] == [f"{FIRST} (4321)"] and ann[:5] == ["ann", "", "", "ann", ""]
    gradebook = next(csv.DictReader(open(tmp_path / "out" / "gradebook.csv", newline="")))
    assert float(ann[5]) == float(gradebook["total"]) < float(possible[5]) == float(gradebook["total_max"])
    result = json.loads((tmp_path / "out" / "ann" / "gradescope" / f"{FIRST}.json").read_text())
    assert result["score"] == float(gradebook["automatic"]) and "--seed" not in json.dumps(result)


def test_written_points_reach_canvas_csv_with_its_roster_and_assignment_ids_kept(tmp_path, releases):
    """written merge's refresh: the points change, who each student is in Canvas does not."""
    roster = tmp_path / "roster.csv"
    roster.write_text('student,name,sis_login_id\nann,"Lovelace, Ada",alovelace\n', encoding="utf-8")
    rows = [_row("ann", releases, 3.0), _row("bob", releases, 2.0)]
    exports.write_canvas(rows, tmp_path / "canvas.csv", exports.read_canvas_roster(roster), {FIRST: "4321"})
    answer = releases[FIRST].manual[0].grade_id
    later = [_row("ann", releases, 3.0, {answer: 1.0}), _row("bob", releases, 2.0, {answer: 0.5})]
    assert exports.refresh_canvas(later, tmp_path / "canvas.csv")
    header, _, ann, bob = _read(tmp_path / "canvas.csv")
    assert header[5] == f"{FIRST} (4321)" and ann[:5] == ["Lovelace, Ada", "", "", "alovelace", ""]
    assert ann[5] == "4" and bob[5] == "2.5"
    assert not exports.refresh_canvas(later[:1], tmp_path / "canvas.csv"), "another class: written anew"
    assert _read(tmp_path / "canvas.csv")[2][:6] == ["ann", "", "", "ann", "", "4"]
