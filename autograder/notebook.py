"""Read a submission and match its cells to the trusted release.

The release notebook (``assignments/NN_name/NN_name.ipynb``) says which cells
exist: setup cells (locked code the course provides), solution cells (where
students write), test cells (public checks plus nbgrader points) and written
answers; optional exercises (``exercise_*`` solution cells) are not graded and
never run. From a submission only the *source of the solution cells* is taken,
matched by nbgrader ``grade_id`` and, failing that, by cell id. Everything else
(setup code, checks, points) comes from the release, so editing a test cell or
its metadata in the submission changes nothing but a note in the feedback.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import EXERCISE_PREFIX, TEST_PREFIX

MAX_NOTEBOOK_BYTES = 100 << 20
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*$", re.S | re.M)


class NotebookError(Exception):
    """The file cannot be read as a notebook; the message says why."""


@dataclass(frozen=True)
class Cell:
    """Source code to run in the worker, in notebook order."""

    name: str
    source: str
    trusted: bool = False   # course code from the release (setup cells), not the student's


@dataclass(frozen=True)
class TestCell:
    item: str       # grade_id without the "test_" prefix, e.g. "corr2d"
    grade_id: str
    points: float
    source: str     # public checks (the release has no hidden block)


@dataclass(frozen=True)
class ManualCell:
    grade_id: str
    points: float


@dataclass
class Release:
    """The trusted description of one assignment, read from its release notebook."""

    assignment: str
    path: Path
    cells: list[dict]                       # ordered: {"kind", "grade_id", "id", "source"}
    tests: list[TestCell]
    manual: list[ManualCell]
    ids: frozenset[str] = frozenset()      # every cell id of the release


    @property
    def solution_ids(self) -> list[str]:
        return [c["grade_id"] for c in self.cells if c["kind"] == "solution"]

    @property
    def setup_source(self) -> str:
        return "\n\n".join(c["source"] for c in self.cells if c["kind"] == "setup")

    def item_points(self) -> dict[str, float]:
        return {test.item: test.points for test in self.tests}


@dataclass
class Submission:
    """What the judge takes from a student's notebook."""

    cells: list[Cell]                                   # to run, in order
    notes: list[str] = field(default_factory=list)      # feedback on the file itself
    elsewhere: dict[str, str] = field(default_factory=dict)   # name -> the unrun cell that defines it

    def hint(self, message: str) -> str:
        """For a NameError about a name defined in a cell the grader does not run: say which cell."""
        names = dict.fromkeys(re.findall(r"NameError: name '(\w+)' is not defined", message))
        return "\n".join(f"'{name}' is defined only in {self.elsewhere[name]}, which the grader does not run: "
                         "move it into the solution cell that uses it" for name in names if name in self.elsewhere)


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Load any notebook file, or raise NotebookError with a message a student can act on."""
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise NotebookError(f"{path}: the file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path}: {size >> 20} MiB is over the {MAX_NOTEBOOK_BYTES >> 20} MiB limit "
                            "(clear the outputs: Kernel > Restart & Clear Output)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a text file (is it really a notebook?)") from None
    try:
        raw = json.loads(text)
    except RecursionError:
        raise NotebookError(f"{path}: its JSON is nested too deeply to be a notebook") from None
    except json.JSONDecodeError as error:
        looks_like_python = path.suffix == ".py" or text.lstrip().startswith(("import", "def", "#"))
        hint = " It looks like Python source, not a notebook." if looks_like_python else ""
        raise NotebookError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}).{hint}") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise NotebookError(f"{path}: valid JSON, but not a Jupyter notebook (no 'cells')")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except RecursionError:
        raise NotebookError(f"{path}: its metadata is nested too deeply to be read") from None
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise NotebookError(f"{path}: not a readable notebook ({type(error).__name__}: {error})") from None
    return notebook


def read_release(path: Path) -> Release:
    notebook = read_notebook(path)
    cells, tests, manual = [], [], []
    for cell in notebook.cells:
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id", "")
        source = cell.source
        if meta.get("solution") and meta.get("grade"):
            manual.append(ManualCell(grade_id, float(meta.get("points", 0))))
            continue
        if cell.cell_type != "code" or not meta or grade_id.startswith(EXERCISE_PREFIX):
            continue
        if meta.get("solution"):
            cells.append({"kind": "solution", "grade_id": grade_id, "id": cell.get("id"), "source": source})
        elif meta.get("grade"):
            item = grade_id.removeprefix(TEST_PREFIX)
            tests.append(TestCell(item, grade_id, float(meta.get("points", 0)), source))
        elif meta.get("locked"):
            cells.append({"kind": "setup", "grade_id": grade_id, "id": cell.get("id"), "source": source})
    path = Path(path)
    ids = frozenset(cell.get("id") for cell in notebook.cells if cell.get("id"))
    return Release(path.stem, path, cells, tests, manual, ids)


def read_submission(path: Path, release: Release) -> Submission:
    """Match the submission's cells to the release; raise NotebookError if unreadable."""
    notebook = read_notebook(path)
    by_grade_id: dict[str, list[dict]] = {}
    by_cell_id: dict[str, dict] = {}
    for cell in notebook.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id:
            by_grade_id.setdefault(grade_id, []).append(cell)
        if cell.get("id"):
            by_cell_id.setdefault(cell["id"], cell)

    submission = Submission(cells=[])
    run_ids = set()
    if not by_grade_id:
        submission.notes.append("No nbgrader metadata found: cells were matched by cell id only.")
    for spec in release.cells:
        if spec["kind"] == "setup":
            submission.cells.append(Cell(spec["grade_id"] or "setup", spec["source"], trusted=True))
            continue
        cell = _find(spec, by_grade_id, by_cell_id, submission)
        if cell is None:
            submission.notes.append(
                f"Solution cell '{spec['grade_id']}' was not found (deleted, or its metadata "
                "changed): it cannot be graded.")
            continue
        if cell.cell_type != "code":
            submission.notes.append(f"Solution cell '{spec['grade_id']}' is no longer a code cell.")
            continue
        submission.cells.append(Cell(spec["grade_id"], cell.source))
        run_ids.add(id(cell))

    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code" and id(cell) not in run_ids:
            added = "" if cell.get("id") in release.ids else ", a cell you added"
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            where = f"the {ordinal(number)} cell from the top (`{first[:60]}`{added})"
            for name in defined_names(cell.source):
                submission.elsewhere.setdefault(name, where)
    for test in release.tests:
        copies = by_grade_id.get(test.grade_id, [])
        if copies and _public_part(copies[0].source) != _public_part(test.source):
            submission.notes.append(f"Test cell '{test.grade_id}' was edited; the original checks were used.")
    return submission


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st: how a cell is counted in a message."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def defined_names(source: str) -> list[str]:
    """Names a cell binds at its top level: functions, classes, assignments, imports."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(alias.asname or alias.name).split(".")[0] for alias in node.names]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]
    return names


def _public_part(source: str) -> str:
    """A test cell without its nbgrader hidden block (the source notebooks have one)."""
    return HIDDEN_BLOCK.sub("", source).strip()


def _find(spec: dict, by_grade_id: dict, by_cell_id: dict, submission: Submission) -> dict | None:
    candidates = by_grade_id.get(spec["grade_id"], [])
    if len(candidates) > 1:
        submission.notes.append(
            f"Solution cell '{spec['grade_id']}' appears {len(candidates)} times; the first one was graded.")
    if candidates:
        return candidates[0]
    return by_cell_id.get(spec["id"]) if spec["id"] else None
