"""The class roster: one CSV format for ``collect`` and ``fetch --roster``, and for ``nbgrader db student import``.

    id,first_name,last_name,email,github,deadline
    alice,Alice,Liddell,alice@example.org,alice-gh,
    bob,Bob,,,bob-gh,2026-12-17T23:59:00+01:00

- the student id, the name nbgrader and the gradebook use, is the ``id`` column (nbgrader's) or ``student``;
  it becomes a folder name, so it holds no ``/`` or ``\\`` and does not start with ``.``; one row per id;
- the repository is a ``github`` username (GitHub Classroom's ``<org>/<prefix>-<username>``) or a ``url``
  (anything git can clone), used by the verbs that need one;
- ``deadline`` (optional, may be empty) is that student's own deadline (an extension), as ``collect`` reads it;
- other columns (nbgrader's ``first_name``, ``last_name``, ``email``...) are allowed and ignored.

The file may start with a byte-order mark (as spreadsheet programs write UTF-8), and its cells may be
separated by commas, semicolons (a spreadsheet in a locale with decimal commas) or tabs: the header line
says which.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ID_COLUMNS = ("id", "student")         # nbgrader's name first
SEPARATORS = (",", ";", "\t")


class RosterError(Exception):
    """A roster that cannot be used: its message names the file, the line and what was found there."""


@dataclass(frozen=True)
class Student:
    """One row of the roster: the id, where the repository is, the student's own deadline (a cell, as written)."""

    id: str
    line: int
    github: str = ""
    url: str = ""
    deadline: str = ""


@dataclass(frozen=True)
class Roster:
    path: Path
    columns: tuple[str, ...]
    students: tuple[Student, ...]

    def where(self, student: Student) -> str:
        """``roster.csv, line 3``: for messages about one row."""
        return f"{self.path}, line {student.line}"

    def repository(self, student: Student, org: str | None, prefix: str | None, base: str) -> str:
        """The student's repository: the ``url`` cell, else ``<base>/<org>/<prefix>-<github>.git``."""
        if student.url:
            return student.url
        if not (student.github and org and prefix):
            raise RosterError(f"{self.where(student)}: give a 'url', or a 'github' username with --org and --prefix")
        return f"{base.rstrip('/')}/{org}/{prefix}-{student.github}.git"

    def only(self, ids: list[str]) -> Roster:
        """The roster cut to the students ``ids`` names (in the roster's order); an id not on it is an error."""
        unknown = [name for name in dict.fromkeys(ids) if name not in {student.id for student in self.students}]
        if unknown:
            raise RosterError(f"{self.path} has no student {', '.join(map(repr, unknown))}")
        return Roster(self.path, self.columns, tuple(student for student in self.students if student.id in ids))


def separator(header: str) -> str:
    """The separator the header line uses most: a comma, a semicolon or a tab (a comma when it has none)."""
    counts = {mark: header.count(mark) for mark in SEPARATORS}
    best = max(SEPARATORS, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def safe_id(student: str) -> bool:
    """Can this id name a folder of ``submitted/`` (no path separator, not hidden, not ``.`` or ``..``)?"""
    return bool(student) and "/" not in student and "\\" not in student and not student.startswith(".")


def read_roster(path: Path) -> Roster:
    """Read and check the roster at ``path``; raise :class:`RosterError` naming the line of the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise RosterError(f"{path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise RosterError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}): save it as UTF-8 CSV") \
            from None
    mark = separator(text.splitlines()[0] if text else "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mark)
    header = next(reader, None)
    if not header:
        raise RosterError(f"{path} is empty: its first line names the columns, e.g. id,github")
    columns = tuple(name.strip().lower() for name in header)
    shown = ", ".join(repr(name) for name in columns)
    named = [name for name in ID_COLUMNS if name in columns]
    if not named:
        raise RosterError(f"{path}, line 1: no 'id' (or 'student') column among the columns found: {shown} "
                          f"(separated by {_separator_name(mark)})")
    if len(named) > 1:
        raise RosterError(f"{path}, line 1: both an 'id' and a 'student' column: keep one, the student id")
    students = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue                              # a blank line
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns):]):
            raise RosterError(f"{path}, line {reader.line_num}: {len(cells)} cells under {len(columns)} columns "
                              f"({shown}): a separator inside a cell needs quotes")
        row = {name: cell.strip() for name, cell in zip(columns, cells)}
        student = row.get(named[0], "")
        if not student:
            raise RosterError(f"{path}, line {reader.line_num}: no student id in the {named[0]!r} column "
                              f"(columns found: {shown})")
        if not safe_id(student):
            raise RosterError(f"{path}, line {reader.line_num}: the student id {student!r} cannot name a folder "
                              "(no '/' or '\\', no leading '.')")
        students.append(Student(student, reader.line_num, row.get("github", ""), row.get("url", ""),
                                row.get("deadline", "")))
    twice = sorted(name for name, count in Counter(student.id for student in students).items() if count > 1)
    if twice:
        raise RosterError(f"{path}: student id(s) {', '.join(twice)} appear on more than one row: one row each")
    return Roster(path, columns, tuple(students))


def _separator_name(mark: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs"}[mark]
