"""Does one roster format serve collect, fetch and nbgrader, and does each unusable roster say what it found?"""

from __future__ import annotations

import pytest

from autograder.roster import RosterError, read_roster, separator

NBGRADER = "id,first_name,last_name,email,github,deadline\nalice,Alice,Liddell,alice@example.org,alice-gh,\n" \
           "bob,Bob,,,bob-gh,2026-12-17T23:59:00+01:00\n"


def roster(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_nbgraders_own_columns_are_read_and_the_others_ignored(tmp_path):
    read = read_roster(roster(tmp_path, NBGRADER))
    assert [(s.id, s.github, s.url, s.deadline) for s in read.students] == [
        ("alice", "alice-gh", "", ""), ("bob", "bob-gh", "", "2026-12-17T23:59:00+01:00")]
    assert read.columns == ("id", "first_name", "last_name", "email", "github", "deadline")


def test_the_student_column_still_names_the_id(tmp_path):
    read = read_roster(roster(tmp_path, "student,url\nalice,/repos/alice.git\n"))
    assert read.students[0].id == "alice" and read.students[0].url == "/repos/alice.git"


@pytest.mark.parametrize("text, encoding", [
    (NBGRADER, "utf-8-sig"),                                              # a spreadsheet's UTF-8 with a BOM
    (NBGRADER.replace(",", ";"), "utf-8-sig"),                             # ... in a locale with decimal commas
    (NBGRADER.replace(",", "\t"), "utf-8"),
    (NBGRADER.replace("\n", "\r\n"), "utf-8"),
], ids=["bom", "semicolons-and-bom", "tabs", "crlf"])
def test_a_byte_order_mark_and_other_separators_read_the_same(tmp_path, text, encoding):
    read = read_roster(roster(tmp_path, text, encoding))
    assert [(s.id, s.github, s.deadline) for s in read.students] == [
        ("alice", "alice-gh", ""), ("bob", "bob-gh", "2026-12-17T23:59:00+01:00")]


def test_the_separator_is_the_one_the_header_uses():
    assert separator("id;github") == ";" and separator("id\tgithub") == "\t" and separator("id,github") == ","
    assert separator("id") == "," and separator('"last, first";id;github') == ";"


def test_a_missing_id_column_names_the_columns_found_and_the_line(tmp_path):
    with pytest.raises(RosterError, match=r"roster.csv, line 1: no 'id' \(or 'student'\) column among the columns "
                                          r"found: 'name', 'github' \(separated by semicolons\)"):
        read_roster(roster(tmp_path, "name;github\nAlice;alice\n"))


def test_an_empty_id_names_its_line_and_the_columns(tmp_path):
    with pytest.raises(RosterError, match=r"line 3: no student id in the 'id' column \(columns found: 'id', "
                                          r"'github'\)"):
        read_roster(roster(tmp_path, "id,github\nalice,alice\n,bob\n"))


@pytest.mark.parametrize("student", ["../carol", "a/b", ".hidden", "..", "c\\d"])
def test_an_id_that_cannot_name_a_folder_is_refused(tmp_path, student):
    with pytest.raises(RosterError, match="line 2: the student id .* cannot name a folder"):
        read_roster(roster(tmp_path, f"id,github\n{student},x\n"))


def test_a_student_on_two_rows_is_an_error_and_blank_lines_are_not(tmp_path):
    assert [s.line for s in read_roster(roster(tmp_path, "id,github\n\nalice,a\n\nbob,b\n")).students] == [3, 5]
    with pytest.raises(RosterError, match=r"student id\(s\) alice appear on more than one row"):
        read_roster(roster(tmp_path, "id,github\nalice,a\nbob,b\nalice,c\n"))


def test_more_cells_than_columns_is_an_error_that_says_why(tmp_path):
    with pytest.raises(RosterError, match="line 2: 3 cells under 2 columns .*needs quotes"):
        read_roster(roster(tmp_path, "id;github\nalice;a;b\n"))


def test_both_id_columns_or_none_at_all(tmp_path):
    with pytest.raises(RosterError, match="both an 'id' and a 'student' column"):
        read_roster(roster(tmp_path, "id,student,github\na,a,a\n"))
    with pytest.raises(RosterError, match="is empty"):
        read_roster(roster(tmp_path, ""))
    with pytest.raises(RosterError, match="No such file"):
        read_roster(tmp_path / "missing.csv")


def test_the_repository_is_the_url_or_the_classroom_name(tmp_path):
    read = read_roster(roster(tmp_path, "id,github,url\nalice,alice-gh,\nerin,,/elsewhere/erin.git\ncarol,,\n"))
    alice, erin, carol = read.students
    assert read.repository(alice, "org", "cnn", "https://github.com/") == "https://github.com/org/cnn-alice-gh.git"
    assert read.repository(erin, None, None, "https://github.com") == "/elsewhere/erin.git"
    with pytest.raises(RosterError, match="line 4: give a 'url', or a 'github' username with --org and --prefix"):
        read.repository(carol, "org", "cnn", "https://github.com")
    with pytest.raises(RosterError, match="line 2: give a 'url'"):
        read.repository(alice, None, "cnn", "https://github.com")


def test_only_some_students(tmp_path):
    read = read_roster(roster(tmp_path, NBGRADER))
    assert [s.id for s in read.only(["bob"]).students] == ["bob"]
    with pytest.raises(RosterError, match="has no student 'zoe'"):
        read.only(["bob", "zoe"])
