"""The class's grades for other systems: Canvas's gradebook import, and Gradescope's results files.

**canvas.csv** is laid out for Canvas's gradebook import (Grades > Import; Canvas Instructor Guide, "How do I
import grades in the Gradebook?"), which reads back the layout of Canvas's own gradebook export. The columns
are those a university's guide to that import lists (https://teaching.resources.osu.edu/toolsets/carmencanvas/
guides/calculating-final-grades/import-csv-file-carmen-grades: a student name or Canvas ID or SIS User ID,
the SIS Login ID, the Section, then the assignments; a column that names no existing assignment makes a new
one), with the export's ``Points Possible`` row under the header::

    Student,ID,SIS User ID,SIS Login ID,Section,01_corr2d (4321),02_padding_stride_channels
    Points Possible,,,,,15,14
    "Lovelace, Ada",1017,,ada,CNN 2026,13.5,12

- ``Student`` (a name, for people), ``ID`` (Canvas's user id), ``SIS User ID``, ``SIS Login ID`` and
  ``Section`` say who a row is; Canvas matches the row to its student by one of the ids. They come from
  ``--canvas-roster``, a CSV with our ``student`` id and any of ``name``, ``canvas_id``, ``sis_user_id``,
  ``sis_login_id`` and ``section``. A student the roster does not list (every student, without one) is
  ``Student`` = ``SIS Login ID`` = our id: nbgrader's ids are most often the campus logins Canvas knows.
- A column per assignment, named ``<assignment> (<Canvas assignment id>)`` where ``--canvas-assignment
  NAME=ID`` gives the id (the number in the assignment's Canvas address), which updates that assignment;
  named ``<assignment>`` alone otherwise, which Canvas imports as a new assignment.
- The ``Points Possible`` row: each assignment's maximum, automatic and written points together.
- A student's cell: the assignment's automatic points and the written points graded so far, less the late
  penalty's share of them (the fraction of gradebook.csv's ``late_penalty``, applied to each assignment).
  A student whose grading failed (an internal error) gets empty cells: nothing to import for them yet.
- Rows are in the order of gradebook.csv, one per row of it (so ``merge`` joins shards' files by position),
  and every text cell is written as gradebook.csv writes it, never a spreadsheet formula (an id that starts
  with ``= + - @`` gets a ``'`` first: map such ids through the roster).

**gradescope/<assignment>.json**, per student (``grade-all --gradescope``), follows Gradescope's autograder
results format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the top-level ``score``,
``output``, ``output_format``, ``test_output_format``, ``test_name_format``, ``visibility`` and
``stdout_visibility``, and ``tests`` with each check's ``name``, ``score``, ``max_score``, ``status``,
``output``, ``visibility`` and ``extra_data``. Only that assignment's checks, with the student's messages
(no replay command, seed or grader path); the written answers are not tests there, and ``output`` lists
them as graded by hand. Gradescope applies its own late policy, so no penalty is taken off. A student
whose grading failed gets no file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.report.results import csv_cell, student_output, write_json

if TYPE_CHECKING:
    from autograder.report.gradebook import StudentRow

CANVAS = "canvas.csv"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
ROSTER_COLUMNS = ("name", "canvas_id", "sis_user_id", "sis_login_id", "section")
GRADESCOPE = "gradescope"


class ExportError(Exception):
    """A roster or assignment id that cannot be used; the CLI exits 2."""


def _round(value: float) -> float:
    return round(value + 0.0, 4)


# -- Canvas ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CanvasStudent:
    """Who a student is in Canvas: the first five columns of its gradebook."""

    name: str
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    @classmethod
    def of(cls, student: str) -> CanvasStudent:
        """A student no roster lists: our id as the name and the SIS Login ID."""
        return cls(student, sis_login_id=student)

    def cells(self) -> list[str]:
        return [self.name, self.canvas_id, self.sis_user_id, self.sis_login_id, self.section]


def read_canvas_roster(path: Path) -> dict[str, CanvasStudent]:
    """Our student id -> who they are in Canvas, from a CSV with a ``student`` column and any of
    :data:`ROSTER_COLUMNS`. A row without any Canvas id gets our id as its SIS Login ID."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            lines = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ExportError(f"{path}: {getattr(error, 'strerror', None) or error}") from None
    if "student" not in columns:
        raise ExportError(f"{path}: no 'student' column (our student ids, beside any of {', '.join(ROSTER_COLUMNS)})")
    roster: dict[str, CanvasStudent] = {}
    for number, line in enumerate(lines, 2):
        student = (line.get("student") or "").strip()
        if not student:
            continue
        if student in roster:
            raise ExportError(f"{path}, line {number}: student {student} is on the roster twice")
        found = {column: (line.get(column) or "").strip() for column in ROSTER_COLUMNS}
        if not (found["canvas_id"] or found["sis_user_id"] or found["sis_login_id"]):
            found["sis_login_id"] = student
        found["name"] = found["name"] or student
        roster[student] = CanvasStudent(**found)
    return roster


def parse_canvas_assignment(text: str) -> tuple[str, str]:
    """``"01_corr2d=4321"`` -> ("01_corr2d", "4321"): an assignment and its id in Canvas."""
    name, _, number = text.partition("=")
    if not (name.strip() and number.strip().isdigit()):
        raise ValueError(f"a Canvas assignment is NAME=ID with the number of its Canvas address, such as "
                         f"01_corr2d=4321; got {text!r}")
    return name.strip(), number.strip()


def canvas_table(rows: list[StudentRow], roster: dict[str, CanvasStudent] | None = None,
                 ids: dict[str, str] | None = None) -> list[list[str]]:
    """The cells of canvas.csv (see the module's docstring): header, Points Possible, a row per student."""
    roster, ids = roster or {}, ids or {}
    assignments = rows[0].assignments() if rows else []
    header = [*CANVAS_COLUMNS, *(f"{name} ({ids[name]})" if name in ids else name for name in assignments)]
    possible = [POINTS_POSSIBLE, "", "", "", "",
                *(f"{rows[0].assignment_points(name)[1]:g}" for name in assignments)]
    table = [header, possible]
    for row in rows:
        who = roster.get(row.student) or CanvasStudent.of(row.student)
        points = ["" if row.internal_error else f"{row.assignment_points(name)[0]:g}" for name in assignments]
        table.append([*who.cells(), *points])
    return table


def write_canvas(rows: list[StudentRow], path: Path, roster: dict[str, CanvasStudent] | None = None,
                 ids: dict[str, str] | None = None) -> list[str]:
    """Write canvas.csv; return the students a given roster does not list (they are matched by our id)."""
    _write_csv(path, canvas_table(rows, roster, ids))
    return [row.student for row in rows if roster is not None and row.student not in roster]


def refresh_canvas(rows: list[StudentRow], path: Path) -> bool:
    """canvas.csv again with the points of ``rows`` (once the written answers are graded), keeping who each
    student is in Canvas and the assignments' columns as ``grade-all`` wrote them (its --canvas-roster and
    --canvas-assignment). Returns False where that cannot be kept (no canvas.csv, or another class in it): the
    file is then written anew, each student by our id."""
    fresh = canvas_table(rows)
    old: list[list[str]] = []
    if Path(path).is_file():
        with open(path, newline="", encoding="utf-8") as handle:
            old = list(csv.reader(handle))
    if len(old) != len(fresh) or not old or len(old[0]) != len(fresh[0]):
        _write_csv(path, fresh)
        return False
    keep = len(CANVAS_COLUMNS)        # the old cells are escaped already; the new ones are numbers
    _write_csv(path, [old[0], fresh[1], *(mine[:keep] + new[keep:] for mine, new in zip(old[2:], fresh[2:]))],
               escape=False)
    return True


def merge_canvas(out: Path, shards: Iterable[tuple[Path, list[str]]], students: list[str]) -> None:
    """Join the shards' canvas.csv (each with its gradebook.csv's students, in their order) into
    ``out/canvas.csv``, its rows in the order of ``students``. Nothing when no shard wrote one."""
    shards = list(shards)
    missing = [str(shard / CANVAS) for shard, _ in shards if not (shard / CANVAS).is_file()]
    if len(missing) == len(shards):
        return
    if missing:
        raise ValueError(f"{', '.join(missing)}: missing, while other shards wrote a {CANVAS}")
    head: list[list[str]] | None = None
    by_student: dict[str, list[str]] = {}
    for shard, names in shards:
        with open(shard / CANVAS, newline="", encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        if head is not None and table[:2] != head:
            raise ValueError(f"{shard / CANVAS} has other columns or points possible than the first shard's")
        head = table[:2]
        if len(table) - 2 != len(names):
            raise ValueError(f"{shard / CANVAS} has {len(table) - 2} students, its gradebook.csv {len(names)}")
        by_student.update(zip(names, table[2:]))
    _write_csv(Path(out) / CANVAS, [*head, *(by_student[student] for student in students)], escape=False)


def _write_csv(path: Path, table: list[list[str]], escape: bool = True) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([csv_cell(cell) for cell in line] if escape else line for line in table)
    tmp.replace(path)


# -- Gradescope -----------------------------------------------------------------------------------

def gradescope_results(data: dict, assignment: str) -> dict:
    """One assignment of a student's results.json (:func:`autograder.report.results.results_json`) in
    Gradescope's autograder results format, as the student may read it."""
    tests = [{
        "name": test["name"],
        "score": test["score"],
        "max_score": test["max_score"],
        "status": test["status"],
        "output": student_output(test),
        "visibility": "visible",
        "extra_data": {"item": test["extra_data"]["item"], "verdict": test["extra_data"].get("verdict", "")},
    } for test in data.get("tests", []) if test["extra_data"]["assignment"] == assignment]
    notes = [note for notebook in data.get("notebooks", []) if notebook["assignment"] == assignment
             for note in notebook.get("notes_for_student", [])]
    written = [f"graded by hand, outside the autograder: {manual['name']} ({manual['max_score']:g} points)"
               for manual in data.get("manual", []) if manual["name"].startswith(f"{assignment}/")]
    return {
        "score": _round(sum(test["score"] for test in tests)),
        "output": "\n".join([*notes, *written]),
        "output_format": "text",           # never HTML or Markdown: the notes quote the student's own text
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(out: Path, students: Iterable[str]) -> int:
    """``out/<student>/gradescope/<assignment>.json`` for every assignment each student's results.json
    graded; none for a student without one, or whose grading failed. Returns the number of files."""
    written = 0
    for student in students:
        results = Path(out) / student / "results.json"
        if not results.is_file():
            continue
        data = json.loads(results.read_text(encoding="utf-8"))
        if data.get("internal_error"):
            continue
        for assignment in dict.fromkeys(notebook["assignment"] for notebook in data.get("notebooks", [])):
            write_json(gradescope_results(data, assignment), Path(out) / student / GRADESCOPE / f"{assignment}.json")
            written += 1
    return written
