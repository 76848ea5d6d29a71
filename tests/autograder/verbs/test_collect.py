"""Does collect take each student's last commit before the deadline, and say what it could not take?

Students' repositories are local bare git repositories made here, with commit dates set by hand.
"""

from __future__ import annotations

import csv

import pytest

from autograder import cli
from autograder.verbs.collect import CollectError, collect, parse_deadline
from tests.support import ASSIGNMENTS, COMMIT_DATE, build_submission, run_cli, student_repo

DEADLINE = "2026-12-15T23:59:00+01:00"
BEFORE = COMMIT_DATE
AFTER = "2026-12-16T09:00:00+01:00"


@pytest.fixture
def classroom(tmp_path):
    base = tmp_path / "github"
    (base / "course-org").mkdir(parents=True)
    student_repo(base / "course-org", "cnn-alice", [(BEFORE, True)])
    student_repo(base / "course-org", "cnn-bob", [(BEFORE, False), (AFTER, True)])
    student_repo(base / "course-org", "cnn-dave", [(AFTER, True)])
    faked = "on: push\njobs: {fake: {runs-on: ubuntu-latest, steps: [{run: echo Points 99/99}]}}\n"
    elsewhere = student_repo(tmp_path / "elsewhere", "erin-repo", [(BEFORE, True)], workflow=faked)
    roster = tmp_path / "roster.csv"
    roster.write_text("student,github,url\nalice,alice,\nbob,bob,\ncarol,carol,\ndave,dave,\n"
                      f"erin,,{elsewhere}\n")
    return tmp_path, roster, str(base)


def test_the_last_commit_before_the_deadline_is_collected(classroom):
    tmp, roster, base = classroom
    wanted = ["01_corr2d", "02_padding_stride_channels"]
    found = {f.student: f for f in collect(roster, DEADLINE, tmp / "submitted", wanted, org="course-org",
                                           prefix="cnn", base=base)}
    submitted = tmp / "submitted"
    assert sorted(p.name for p in submitted.iterdir() if p.is_dir()) == ["alice", "bob", "erin"]
    solved = build_submission(tmp / "solved", "01_corr2d")
    assert (submitted / "alice" / "01_corr2d" / "01_corr2d.ipynb").read_bytes() == solved.read_bytes()
    assert not (submitted / "alice" / "02_padding_stride_channels").exists()      # not in her repository
    assert found["alice"].notebooks == ["01_corr2d"] and not found["alice"].flags
    assert found["bob"].flags == ["late: 1 commit(s) dated after the deadline were not collected"]
    assert found["bob"].date.startswith("2026-12-15T20:00:00")
    assert found["carol"].flags[0].startswith("no repository") and not found["carol"].commit
    assert "no commit dated before the deadline" in found["dave"].flags and found["dave"].flags[0].startswith("late")
    assert found["erin"].notebooks == ["01_corr2d"]
    assert found["erin"].flags == [".github/workflows/grade.yml was changed"]
    with open(submitted / "collected.csv", newline="") as handle:
        record = {row["student"]: row for row in csv.DictReader(handle)}
    assert record["bob"]["commit"] == found["bob"].commit and "late" in record["bob"]["flags"]
    assert record["carol"]["repository"].endswith("course-org/cnn-carol.git")


def test_the_collected_notebook_is_the_committed_one(classroom):
    tmp, roster, base = classroom
    collect(roster, DEADLINE, tmp / "submitted", ["01_corr2d"], org="course-org", prefix="cnn", base=base)
    bob = (tmp / "submitted" / "bob" / "01_corr2d" / "01_corr2d.ipynb").read_bytes()
    blank = tmp / "blank"
    build_submission(blank, "01_corr2d", solved=False)
    assert bob == (blank / "01_corr2d" / "01_corr2d.ipynb").read_bytes()     # the late, solved one is not taken


@pytest.mark.parametrize("deadline, message", [("tomorrow", "not an ISO 8601 time"),
                                               ("2026-12-15T23:59:00", "has no time zone")])
def test_a_deadline_needs_a_date_and_a_time_zone(deadline, message):
    with pytest.raises(CollectError, match=message):
        parse_deadline(deadline)


def test_a_roster_row_without_a_repository_is_a_usage_error(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student,github\nalice,alice\n")
    with pytest.raises(CollectError, match="line 2: give a 'url', or a 'github' username with --org"):
        collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"])
    run = run_cli("collect", roster, "--deadline", DEADLINE, "--into", tmp_path / "s", timeout=120)
    assert run.returncode == 2 and "give a 'url'" in run.stderr


def test_collected_students_are_graded_and_the_missing_ones_have_rows(classroom):
    from autograder.verbs.grade_all import grade_class

    tmp, roster, base = classroom
    collect(roster, DEADLINE, tmp / "submitted", ["01_corr2d"], org="course-org", prefix="cnn", base=base)
    rows = {row.student: row for row in grade_class(tmp / "submitted", ASSIGNMENTS, tmp / "out", jobs=2,
                                                       hidden=False, progress=False)}
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin"]
    assert rows["alice"].automatic > 0 and rows["bob"].automatic == 0 and rows["carol"].automatic == 0
    assert rows["bob"].flags[0].startswith("collect: late") and rows["carol"].flags[0].startswith("collect: no repo")
    assert "01_corr2d: no submission" in rows["carol"].flags


@pytest.mark.parametrize("url", ["--upload-pack=touch {marker}", "-utouch {marker}", "ext::sh -c touch% {marker}"])
def test_a_roster_url_cannot_run_a_command(tmp_path, url):
    marker = tmp_path / "pwned"
    url = url.format(marker=marker)
    alice = student_repo(tmp_path / "github", "alice-repo", [(BEFORE, True)])
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as handle:
        csv.writer(handle).writerows([["student", "url"], ["alice", alice], ["mallory", url]])
    found = {f.student: f for f in collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"])}
    assert not marker.exists()
    assert found["mallory"].flags[0].startswith("no repository: ") and not found["mallory"].commit
    if url.startswith("-"):
        assert f"repository '{url}' does not exist" in found["mallory"].flags[0]     # git took it as a repository
    assert found["alice"].notebooks == ["01_corr2d"]


def test_a_student_id_on_two_rows_of_the_roster_is_a_usage_error(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("student,github\nalice,alice\nbob,bob\nalice,alice2\ncarol,carol\n")
    code = cli.main(["collect", str(roster), "--deadline", DEADLINE, "--org", "o", "--prefix", "cnn",
                     "--into", str(tmp_path / "submitted")])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("usage: ") and "student id(s) alice appear on more than one row" in error
    assert not (tmp_path / "submitted").exists()
