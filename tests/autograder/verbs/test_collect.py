"""Does collect take each student's last commit before the deadline (or in the late window), and say what it could
not take?

Students' repositories are local bare git repositories made here, with commit dates set by hand.
"""

from __future__ import annotations

import csv

import pytest

from autograder import cli
from autograder.verbs.collect import (
    CollectError,
    checked_assignments,
    collect,
    lateness_penalty,
    parse_deadline,
    parse_duration,
    read_record,
    time_zone,
)
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, COMMIT_DATE, build_submission, run_cli, student_repo

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


# -- the roster, the assignments, the students ----------------------------------------------------------------

def test_a_roster_in_nbgraders_format_saved_by_a_spreadsheet_is_collected(tmp_path):
    alice = student_repo(tmp_path / "github", "alice-repo", [(BEFORE, True)])
    roster = tmp_path / "roster.csv"              # a BOM, semicolons, nbgrader's id and name columns
    roster.write_text(f"id;first_name;last_name;email;url\nalice;Alice;Liddell;;{alice}\n", encoding="utf-8-sig")
    found = collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"])
    assert [(f.student, f.notebooks) for f in found] == [("alice", ["01_corr2d"])]


def test_a_roster_without_an_id_column_names_the_columns_it_found(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,github\nalice,alice\n")
    assert cli.main(["collect", str(roster), "--deadline", DEADLINE, "--into", str(tmp_path / "s")]) == 2
    assert "line 1: no 'id' (or 'student') column among the columns found: 'name', 'github'" in capsys.readouterr().err


def test_an_assignment_without_a_release_is_a_usage_error_that_names_the_known_ones(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,github\nalice,alice\n")
    code = cli.main(["collect", str(roster), "--deadline", DEADLINE, "--org", "o", "--prefix", "cnn", "--into",
                     str(tmp_path / "submitted"), "--assignments", "01_corr2d", "01_corr2", "07_resnet"])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("usage: no release of 01_corr2, 07_resnet under ")
    assert "the released assignments are " + ", ".join(ASSIGNMENT_IDS) in error
    assert not (tmp_path / "submitted").exists()


def test_checked_assignments_drop_repeats_and_default_to_every_release():
    assert checked_assignments(["02_padding_stride_channels", "01_corr2d", "02_padding_stride_channels"],
                               ASSIGNMENTS) == ["02_padding_stride_channels", "01_corr2d"]
    assert checked_assignments(None, ASSIGNMENTS) == ASSIGNMENT_IDS


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_collecting_one_student_again_keeps_the_other_rows_and_leaves_no_stale_notebook(classroom):
    tmp, roster, base = classroom
    submitted = tmp / "submitted"
    wanted = ["01_corr2d", "02_padding_stride_channels"]
    collect(roster, DEADLINE, submitted, wanted, org="course-org", prefix="cnn", base=base)
    before = read_csv(submitted / "collected.csv")
    (submitted / "alice" / "01_corr2d" / "notes.txt").write_text("left by hand")
    # an extension: alice's repository now holds 02 only (01 was deleted); a roster of one row
    moved = student_repo(tmp / "moved", "alice-new", [(AFTER, True)], assignment="02_padding_stride_channels")
    one = tmp / "one.csv"
    one.write_text(f"id,url,deadline\nalice,{moved},2026-12-17T12:00:00+01:00\n")
    found = collect(one, DEADLINE, submitted, wanted)
    assert [f.student for f in found] == ["alice"] and found[0].notebooks == ["02_padding_stride_channels"]
    assert not (submitted / "alice" / "01_corr2d").exists()              # the older commit's notebook is gone
    assert (submitted / "alice" / "02_padding_stride_channels" / "02_padding_stride_channels.ipynb").is_file()
    after = read_csv(submitted / "collected.csv")
    assert [row["student"] for row in after] == [row["student"] for row in before]   # same rows, same order
    assert after[1:] == before[1:]                                           # bob's late flag and all: kept
    assert after[0]["repository"] == str(moved) and after[0]["deadline"] == "2026-12-17T12:00:00+01:00"


def test_only_the_students_named_are_collected(classroom, capsys):
    tmp, roster, base = classroom
    submitted = tmp / "submitted"
    args = ["collect", str(roster), "--deadline", DEADLINE, "--org", "course-org", "--prefix", "cnn", "--base", base,
            "--into", str(submitted), "--assignments", "01_corr2d"]
    assert cli.main([*args, "--students", "bob", "alice"]) == 0
    assert "which keeps the rows" not in capsys.readouterr().out
    assert [row["student"] for row in read_csv(submitted / "collected.csv")] == ["alice", "bob"]
    assert sorted(p.name for p in submitted.iterdir() if p.is_dir()) == ["alice", "bob"]
    assert cli.main([*args, "--students", "erin"]) == 0
    assert "which keeps the rows of 2 other student(s)" in capsys.readouterr().out
    assert [row["student"] for row in read_csv(submitted / "collected.csv")] == ["alice", "bob", "erin"]
    assert cli.main([*args, "--students", "zoe"]) == 2
    assert "has no student 'zoe'" in capsys.readouterr().err


def test_a_student_with_nothing_now_loses_the_folder_collected_before(tmp_path):
    alice = student_repo(tmp_path / "github", "alice-repo", [(BEFORE, True)])
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,url\nalice,{alice}\n")
    collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"])
    roster.write_text(f"id,url\nalice,{tmp_path / 'nowhere.git'}\n")
    found = collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"])
    assert found[0].flags[0].startswith("no repository") and not (tmp_path / "submitted" / "alice").exists()


# -- deadlines: the student's own, a late window, a penalty, time zones ---------------------------------------

def test_a_deadline_in_the_roster_is_that_students_extension(classroom):
    tmp, roster, base = classroom
    roster.write_text("student,github,deadline\nalice,alice,\nbob,bob,2026-12-16T12:00:00+01:00\n")
    found = {f.student: f for f in collect(roster, DEADLINE, tmp / "submitted", ["01_corr2d"], org="course-org",
                                           prefix="cnn", base=base)}
    assert found["bob"].date.startswith("2026-12-16T09:00:00") and not found["bob"].flags   # the solved one
    assert found["bob"].deadline == "2026-12-16T12:00:00+01:00" and found["alice"].deadline == DEADLINE
    solved = build_submission(tmp / "solved", "01_corr2d")
    assert (tmp / "submitted" / "bob" / "01_corr2d" / "01_corr2d.ipynb").read_bytes() == solved.read_bytes()


def test_a_deadline_cell_that_cannot_be_read_names_its_line(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,url,deadline\nalice,a,\nbob,b,2026-12-16 12:00\n")
    with pytest.raises(CollectError, match=r"roster.csv, line 3: deadline '2026-12-16 12:00' has no time zone"):
        collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"])
    assert not (tmp_path / "submitted").exists()


LATE = "2026-12-17T00:59:00+01:00"            # 25 hours after DEADLINE
TOO_LATE = "2026-12-18T00:00:00+01:00"        # after a late window of 48 h


def test_a_commit_in_the_late_window_is_taken_with_its_penalty_and_a_later_one_is_not(tmp_path):
    repos = tmp_path / "github"
    alice = student_repo(repos, "alice", [(BEFORE, False), (LATE, True), (TOO_LATE, False)])
    bob = student_repo(repos, "bob", [(TOO_LATE, True)])
    carol = student_repo(repos, "carol", [(BEFORE, True)])
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,url\nalice,{alice}\nbob,{bob}\ncarol,{carol}\n")
    found = {f.student: f for f in collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"],
                                           late_window=parse_duration("48h"), late_penalty=10)}
    alice, bob, carol = found["alice"], found["bob"], found["carol"]
    assert alice.date.startswith("2026-12-17T00:59:00") and alice.late_seconds == 25 * 3600 and alice.penalty == 0.2
    assert alice.flags == ["late: 1 commit(s) dated after the late window (deadline + 2 d) were not collected",
                           "late by 1 d 1 h: 20 % off"]
    assert not bob.commit and "no commit dated before the late window (deadline + 2 d)" in bob.flags
    assert carol.late_seconds == 0 and carol.penalty == 0 and not carol.flags
    rows = read_csv(tmp_path / "submitted" / "collected.csv")
    assert list(rows[0]) == ["student", "repository", "commit", "commit_date", "deadline", "late_seconds", "penalty",
                             "notebooks", "flags"]
    assert (rows[0]["deadline"], rows[0]["late_seconds"], rows[0]["penalty"]) == (DEADLINE, "90000", "0.2")
    assert (rows[2]["late_seconds"], rows[2]["penalty"]) == ("0", "0")
    record = {f.student: f for f in read_record(tmp_path / "submitted")}
    assert (record["alice"].deadline, record["alice"].late_seconds, record["alice"].penalty) == (DEADLINE, 90000, 0.2)


def test_without_a_late_window_a_late_commit_is_not_taken(tmp_path):
    alice = student_repo(tmp_path / "github", "alice", [(BEFORE, False), (LATE, True)])
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,url\nalice,{alice}\n")
    found = collect(roster, DEADLINE, tmp_path / "submitted", ["01_corr2d"], late_penalty=10)[0]
    assert found.date.startswith(BEFORE[:19]) and found.late_seconds == 0 and found.penalty == 0


@pytest.mark.parametrize("hours, percent, penalty", [
    (0, 10, 0.0), (1 / 3600, 10, 0.1), (24, 10, 0.1), (25, 10, 0.2), (48, 10, 0.2), (49, 10, 0.3),
    (24 * 11, 10, 1.0), (24 * 3, 40, 1.0), (30, 0, 0.0), (1, 7.5, 0.075)])
def test_the_penalty_is_a_percentage_per_started_day_capped_at_all_points(hours, percent, penalty):
    assert lateness_penalty(hours * 3600, percent) == pytest.approx(penalty)


@pytest.mark.parametrize("text, hours", [("48h", 48), ("2d", 48), ("90m", 1.5), ("90min", 1.5), ("1d12h", 36),
                                         ("0", 0), (" 2 D ", 48), ("3600s", 1)])
def test_a_late_window_is_a_duration(text, hours):
    assert parse_duration(text).total_seconds() == hours * 3600


@pytest.mark.parametrize("text", ["2 days", "h", "-2h", "48", ""])
def test_a_late_window_that_is_no_duration_is_a_usage_error(text, tmp_path, capsys):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,url\nalice,a\n")
    assert cli.main(["collect", str(roster), "--deadline", DEADLINE, f"--late-window={text}"]) == 2
    assert "is not a duration" in capsys.readouterr().err


def test_a_late_penalty_is_a_percentage(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,url\nalice,a\n")
    assert cli.main(["collect", str(roster), "--deadline", DEADLINE, "--late-penalty", "150"]) == 2
    assert "a percentage from 0 to 100" in capsys.readouterr().err


def test_an_old_record_without_the_new_columns_still_reads(tmp_path):
    (tmp_path / "collected.csv").write_text("student,repository,commit,commit_date,notebooks,flags\n"
                                            "alice,o/r,abc,2026-12-15T20:00:00+01:00,01_corr2d,late: 1 commit(s)\n")
    (alice,) = read_record(tmp_path)
    assert (alice.commit, alice.notebooks, alice.flags) == ("abc", ["01_corr2d"], ["late: 1 commit(s)"])
    assert (alice.deadline, alice.late_seconds, alice.penalty) == ("", 0.0, 0.0)


def test_nbgrader_reads_the_commit_date_from_timestamp_txt(classroom):
    from datetime import datetime

    from nbgrader.coursedir import CourseDirectory

    tmp, roster, base = classroom
    collect(roster, DEADLINE, tmp / "submitted", ["01_corr2d"], org="course-org", prefix="cnn", base=base)
    folder = tmp / "submitted" / "alice" / "01_corr2d"
    assert CourseDirectory().get_existing_timestamp(str(folder)) == datetime(2026, 12, 15, 19, 0)   # UTC
    assert not (tmp / "submitted" / "dave").exists()


@pytest.mark.parametrize("deadline, zone, expected", [
    ("2026-12-15T23:59:00", "Europe/Berlin", "2026-12-15T23:59:00+01:00"),      # winter time
    ("2026-07-15T23:59:00", "Europe/Berlin", "2026-07-15T23:59:00+02:00"),      # summer time
    ("2026-12-15T23:59:00-05:00", "Europe/Berlin", "2026-12-15T23:59:00-05:00"),  # a written offset wins
    ("2026-12-15 23:59", "America/New_York", "2026-12-15T23:59:00-05:00")])
def test_a_local_deadline_is_read_in_its_named_time_zone(deadline, zone, expected):
    assert parse_deadline(deadline, time_zone(zone)).isoformat() == expected


def test_a_named_zone_applies_to_the_roster_too(classroom):
    tmp, roster, base = classroom
    roster.write_text("student,github,deadline\nalice,alice,\nbob,bob,2026-12-16T12:00:00\n")
    found = {f.student: f for f in collect(roster, "2026-12-15T23:59:00", tmp / "submitted", ["01_corr2d"],
                                           org="course-org", prefix="cnn", base=base, timezone="Europe/Berlin")}
    assert found["alice"].deadline == DEADLINE and found["bob"].deadline == "2026-12-16T12:00:00+01:00"


def test_an_unknown_zone_or_a_bare_date_is_a_usage_error(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,url\nalice,a\n")
    assert cli.main(["collect", str(roster), "--deadline", "2026-12-15T23:59:00", "--timezone", "Mars/Olympus"]) == 2
    assert "--timezone 'Mars/Olympus' is not a time zone name" in capsys.readouterr().err
    with pytest.raises(CollectError, match="'Europe' is not a time zone name"):
        time_zone("Europe")
    assert cli.main(["collect", str(roster), "--deadline", "2026-12-15T23:59:00", "--into", str(tmp_path / "s")]) == 2
    assert "has no time zone: add an offset" in capsys.readouterr().err and not (tmp_path / "s").exists()
    with pytest.raises(CollectError, match="has no time of day"):
        parse_deadline("2026-12-15", time_zone("UTC"))
