"""Record a graded class in nbgrader's gradebook without running any student code, so the formgrader lists it.

``nbgrader autograde`` records submissions by executing every notebook again (minutes per student); the
class is graded already (``grade-all``'s ``<gradebook>/<student>/results.json``). :func:`register` writes
what autograde would have written, through nbgrader's own API, from files alone:

- from the trusted release notebook (never from a submission, never by ``generate_assignment``): the
  assignment, its notebook and its grade, solution and source cells, as nbgrader's ``SaveCells`` does;
- the students (and a roster's names), and each submission with its collect time
  (``submitted/<student>/<assignment>/timestamp.txt``, as nbgrader reads it);
- each test cell's automatic score: the item's points in the student's results.json;
- each written answer's automatic score as nbgrader's ``SaveAutoGrades`` gives it: 0 (and the comment "No
  response.") when the cell is still the release's stub, by nbgrader's own checksum; otherwise none, so it
  waits for a person;
- ``autograded/<student>/<assignment>/<assignment>.ipynb``, the page the formgrader shows: the student's
  notebook, unexecuted, with the release's cell metadata and locked cells (nbgrader's ``OverwriteCells``), the
  outputs cleared, each test cell showing the autograder's report, and the student's own text made inert
  (Markdown shown as text, no notebook or cell metadata of theirs), so a page cannot run script in the
  grader's browser.

Registering again updates what is there: nothing is added twice, and a score or comment given by hand stays.
A written answer that was graded by hand and has changed since it was last registered is flagged for review.
Nothing here deletes or rewrites ``source/`` or the release.
"""

from __future__ import annotations

import copy
import csv
import json
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import TEST_PREFIX, assignment_names
from autograder.nbgrader.database import course_directory, open_gradebook
from autograder.nbgrader.parity import make_inert
from autograder.notebook import NotebookError, read_notebook

NO_RESPONSE = "No response."      # nbgrader's automatic comment on an answer left as released (SaveAutoGrades)
REPORT_LINES = 12                 # of each failed check's message, in a test cell's output


class RegisterError(Exception):
    """The gradebook cannot take this release or class; the message says why and what to do."""


@dataclass
class Registered:
    """What :func:`register` recorded, and what it left out (and why)."""

    root: Path                                                      # the course directory
    database: str
    students: list[str] = field(default_factory=list)               # every student the gradebook now knows of
    submissions: list[tuple[str, str]] = field(default_factory=list)   # (student, assignment)
    skipped: list[str] = field(default_factory=list)                # submissions not registered, with why
    notes: list[str] = field(default_factory=list)


@dataclass
class ReleaseNotebook:
    """A release notebook as nbgrader's gradebook describes it."""

    assignment: str
    notebook: nbformat.NotebookNode

    @property
    def name(self) -> str:
        return self.assignment      # one notebook per assignment, named after it

    def graded_cells(self) -> dict[str, nbformat.NotebookNode]:
        """grade_id -> cell, for every cell with nbgrader metadata, in notebook order."""
        return {_meta(cell)["grade_id"]: cell for cell in self.notebook.cells if _meta(cell).get("grade_id")}


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def load_release_notebooks(release_dir: Path) -> dict[str, ReleaseNotebook]:
    """Every release notebook under ``release_dir`` (``NN_name/NN_name.ipynb``)."""
    found = {}
    for name in assignment_names(release_dir):
        path = Path(release_dir) / name / f"{name}.ipynb"
        if path.is_file():
            found[name] = ReleaseNotebook(name, read_notebook(path))
    return found


# -- the assignment and its cells, from the release (nbgrader's SaveCells) --------------------------------------

def _cell_records(release: ReleaseNotebook) -> dict[str, dict[str, dict]]:
    """What nbgrader's SaveCells records of each kind of cell: kind -> grade_id -> fields."""
    from nbgrader import utils

    kinds: dict[str, dict[str, dict]] = {"grade": {}, "solution": {}, "task": {}, "source": {}}
    for grade_id, cell in release.graded_cells().items():
        meta = _meta(cell)
        if utils.is_grade(cell):
            kinds["grade"][grade_id] = {"max_score": float(meta["points"]), "cell_type": cell.cell_type}
        if utils.is_solution(cell):
            kinds["solution"][grade_id] = {}
        if utils.is_task(cell):
            kinds["task"][grade_id] = {"max_score": float(meta["points"]), "cell_type": cell.cell_type}
        if utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell) or utils.is_task(cell):
            kinds["source"][grade_id] = {"cell_type": cell.cell_type, "locked": utils.is_locked(cell),
                                         "source": cell.source, "checksum": meta.get("checksum")}
    return kinds


def record_release(gradebook, release: ReleaseNotebook) -> None:
    """The assignment, its notebook and its cells in the gradebook, as the release describes them.

    A notebook already there keeps its submissions and their grades when its cells are the same ones; with
    other cells it is replaced only while no submission refers to it (nbgrader's own rule).
    """
    from nbgrader.api import GradeCell, MissingEntry, SolutionCell, SourceCell, TaskCell

    kinds = _cell_records(release)
    gradebook.update_or_create_assignment(release.assignment)
    try:
        existing = gradebook.find_notebook(release.name, release.assignment)
    except MissingEntry:
        existing = None
    if existing is not None:
        before = {"grade": existing.grade_cells, "solution": existing.solution_cells, "task": existing.task_cells,
                  "source": existing.source_cells}
        if any({cell.name for cell in before[kind]} != set(kinds[kind]) for kind in kinds):
            if existing.submissions:
                raise RegisterError(
                    f"the gradebook's notebook {release.assignment} has other graded cells than the release "
                    f"and already holds {len(existing.submissions)} submission(s): nbgrader cannot change its "
                    "cells. Register into a new database (--db), or remove the assignment's submissions "
                    "from this one first")
            gradebook.remove_notebook(release.name, release.assignment)
            existing = None
    if existing is None:
        kernelspec = release.notebook.metadata.get("kernelspec", {})
        existing = gradebook.add_notebook(release.name, release.assignment, kernelspec=json.dumps(kernelspec))
    # nbgrader's update_or_create_*_cell, in one transaction rather than a commit per cell.
    for kind, model in (("grade", GradeCell), ("solution", SolutionCell), ("task", TaskCell), ("source", SourceCell)):
        there = {cell.name: cell for cell in getattr(existing, f"{kind}_cells")}
        for name, fields in kinds[kind].items():
            cell = there.get(name)
            if cell is None:
                gradebook.db.add(model(name=name, notebook=existing, **fields))
            else:
                for attribute, value in fields.items():
                    setattr(cell, attribute, value)
    gradebook.db.commit()


# -- the notebook the formgrader shows (nbgrader's sanitising steps, without the execution) --------------------

@dataclass
class Autograded:
    """The formgrader's copy of a submission and the automatic grades it carries."""

    notebook: nbformat.NotebookNode
    auto_scores: dict[str, float | None]      # grade_id -> nbgrader's auto_score
    auto_comments: dict[str, str | None]      # grade_id -> nbgrader's auto_comment (solution cells)
    answers: dict[str, str]                   # grade_id -> the written answer as shown (to see it change)


def autograded_notebook(submitted: nbformat.NotebookNode | None, release: ReleaseNotebook,
                        data: dict) -> Autograded:
    """The page the formgrader shows for one submission, and its automatic grades.

    ``submitted`` is the student's notebook (None when missing or unreadable: every answer then scores 0, as
    nbgrader scores a missing notebook); ``data`` the student's results.json, whose item points become the
    test cells' scores. Nothing of the notebook is run.
    """
    from nbgrader import utils

    ours = release.graded_cells()
    notebook = copy.deepcopy(submitted) if submitted is not None else copy.deepcopy(release.notebook)
    notebook.metadata = copy.deepcopy(release.notebook.metadata)       # none of the student's own
    notebook.nbformat, notebook.nbformat_minor = release.notebook.nbformat, release.notebook.nbformat_minor
    seen: set[str] = set()
    cells = []
    for old in notebook.cells:
        grade_id = _meta(old).get("grade_id")
        cell = _fresh(old)
        if grade_id in ours and grade_id not in seen:      # nbgrader's DeduplicateIds: the first one counts
            seen.add(grade_id)
            _overwrite(cell, ours[grade_id])
        cells.append(cell)
    notebook.cells = cells
    _restore_missing(notebook, ours, seen)

    # Automatic grades, on the cells as submitted (nbgrader's checksum of a stub is of the stub's text).
    scores = _item_points(data, release.assignment)
    auto_scores: dict[str, float | None] = {}
    auto_comments: dict[str, str | None] = {}
    answers: dict[str, str] = {}
    for cell in notebook.cells:
        if not _meta(cell).get("grade_id"):
            continue
        grade_id = _meta(cell)["grade_id"]
        untouched = submitted is None or _meta(cell).get("checksum") == utils.compute_checksum(cell)
        if utils.is_grade(cell):
            if utils.is_solution(cell):
                auto_scores[grade_id] = 0.0 if untouched else None
            elif cell.cell_type == "code":
                auto_scores[grade_id] = scores.get(grade_id.removeprefix(TEST_PREFIX), 0.0) if submitted else 0.0
            else:
                auto_scores[grade_id] = None
        if utils.is_solution(cell) or utils.is_task(cell):
            auto_comments[grade_id] = NO_RESPONSE if untouched and not utils.is_task(cell) else None
    release_text = {cell.source for cell in release.notebook.cells if cell.cell_type == "markdown"}
    for cell in notebook.cells:
        make_inert(cell, release_text)
        grade_id = _meta(cell).get("grade_id")
        if grade_id and utils.is_grade(cell) and utils.is_solution(cell):
            answers[grade_id] = cell.source
        elif grade_id and utils.is_grade(cell) and cell.cell_type == "code":
            item = grade_id.removeprefix(TEST_PREFIX)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text=_report(release.assignment, item, data))]
    _unique_ids(notebook)
    return Autograded(notebook, auto_scores, auto_comments, answers)


def _fresh(cell) -> nbformat.NotebookNode:
    """A cell with only its type and text from the submission: no output, attachment or metadata of the
    student's (a cell of an unknown type becomes raw text)."""
    source = cell.get("source", "")
    source = source if isinstance(source, str) else "".join(map(str, source)) if isinstance(source, list) else ""
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}.get(
        cell.get("cell_type"), nbformat.v4.new_raw_cell)
    fresh = make(source)
    if isinstance(cell.get("id"), str):
        fresh["id"] = cell["id"]            # checked by _unique_ids
    return fresh


def _overwrite(cell, release_cell) -> None:
    """nbgrader's OverwriteCells: the release's cell type and nbgrader metadata; a locked cell's release text."""
    from nbgrader import utils

    if cell.cell_type != release_cell.cell_type:
        cell.cell_type = release_cell.cell_type
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    cell.metadata = {"nbgrader": copy.deepcopy(_meta(release_cell))}
    if utils.is_locked(release_cell):
        cell.source = release_cell.source


def _restore_missing(notebook, ours: dict, present: set[str]) -> None:
    """Graded cells the student deleted come back as released (nbgrader's add_missing_cells), after the
    graded cell before them, so an answer deleted scores as one left blank."""
    from nbgrader import utils

    order = list(ours)
    for index, grade_id in enumerate(order):
        if grade_id in present or not utils.is_grade(ours[grade_id]):
            continue
        cell = copy.deepcopy(ours[grade_id])
        cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell["id"] = uuid.uuid4().hex[:8]
        before = [name for name in order[:index] if name in present]
        position = len(notebook.cells)
        if before:
            position = next(number + 1 for number, old in enumerate(notebook.cells)
                            if _meta(old).get("grade_id") == before[-1])
        elif order and present:
            position = 0
        notebook.cells.insert(position, cell)
        present.add(grade_id)


def _unique_ids(notebook) -> None:
    """Cell ids that nbformat accepts: a fresh one for any missing, malformed or repeated id."""
    seen = set()
    for cell in notebook.cells:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not 1 <= len(cell_id) <= 64 or cell_id in seen or \
                not all(char.isalnum() or char in "-_" for char in cell_id):
            cell_id = uuid.uuid4().hex[:8]
            cell["id"] = cell_id
        seen.add(cell_id)


def _item_points(data: dict, assignment: str) -> dict[str, float]:
    """item -> points of ``assignment`` in a results.json, summed as the gradebook's row sums them."""
    points: dict[str, float] = {}
    for test in data.get("tests", []) if data else []:
        extra = test.get("extra_data", {})
        if extra.get("assignment") == assignment and extra.get("item"):
            points[extra["item"]] = points.get(extra["item"], 0.0) + test["score"]
    return {item: round(value, 6) for item, value in points.items()}


def _report(assignment: str, item: str, data: dict) -> str:
    """A test cell's output: the item's checks in results.json, with their points and why they failed."""
    tests = [test for test in data.get("tests", []) if test["extra_data"].get("assignment") == assignment
             and test["extra_data"].get("item") in (item, "")]
    earned = sum(test["score"] for test in tests)
    possible = sum(test["max_score"] for test in tests)
    lines = [f"{assignment}/{item}: {earned:g} of {possible:g} points (python -m autograder grade-all; "
             "this notebook was not run)"]
    for test in tests:
        mark = "ok  " if test["status"] == "passed" else "FAIL"
        lines.append(f"  {mark} {test['name']} ({test['score']:g}/{test['max_score']:g})")
        if test["status"] != "passed" and test["output"]:
            replay = test["extra_data"].get("replay")
            message = [line for line in test["output"].splitlines() if line != replay]
            lines += [f"         {line}" for line in message[:REPORT_LINES]]
    return "\n".join(lines) + "\n"


# -- the class ---------------------------------------------------------------------------------------------

def read_roster(path: Path) -> dict[str, dict[str, str]]:
    """student -> the names nbgrader keeps (first_name, last_name, email, lms_user_id) from a CSV with an ``id``
    column (nbgrader's ``db student import``) or a ``student`` column (``collect``'s roster)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        column = next((name for name in ("id", "student") if name in (reader.fieldnames or [])), None)
        if column is None:
            raise RegisterError(f"{path}: a roster needs an 'id' or a 'student' column")
        return {row[column].strip(): {key: row[key].strip() for key in ("first_name", "last_name", "email",
                                                                        "lms_user_id") if (row.get(key) or "").strip()}
                for row in reader if (row.get(column) or "").strip()}


def register(submitted: Path, results: Path, releases: dict[str, ReleaseNotebook], database: str | None = None,
             roster: Path | None = None) -> Registered:
    """Record every submission under ``submitted`` (nbgrader's ``submitted/<student>/<assignment>/``) graded
    into ``results`` (``<results>/<student>/results.json``) in nbgrader's gradebook ``database`` (default: the
    course directory's, ``gradebook.db`` beside ``submitted``), and write the formgrader's
    ``autograded/<student>/<assignment>/`` notebooks beside ``submitted``.

    A submission without a results.json, or whose grading failed, is skipped (grade it first).
    """
    from nbgrader.utils import parse_utc

    coursedir = course_directory(submitted)
    database = database or coursedir.db_url
    done = Registered(Path(coursedir.root), database)
    names = read_roster(roster) if roster else {}
    folders = sorted(path for path in Path(submitted).iterdir() if path.is_dir() and not path.name.startswith("."))
    present = {path.name for folder in folders for path in folder.iterdir() if path.is_dir()}
    with open_gradebook(database, coursedir.course_id) as gradebook, warnings.catch_warnings():
        # nbgrader's add_submission builds its rows in a way SQLAlchemy warns about (nbgrader's own tests too).
        warnings.filterwarnings("ignore", message="Object of type <Submitted", category=Warning)
        for assignment, release in releases.items():
            if assignment in present:
                record_release(gradebook, release)
        for student, fields in names.items():
            gradebook.update_or_create_student(student, **fields)
        for folder in folders:
            student = folder.name
            gradebook.update_or_create_student(student, **names.get(student, {}))
            results_file = Path(results) / student / "results.json"
            data = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else None
            graded = {notebook["assignment"] for notebook in (data or {}).get("notebooks", [])}
            for assignment in sorted(path.name for path in folder.iterdir() if path.is_dir()):
                if assignment not in releases:
                    continue
                where = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
                if data is None:
                    done.skipped.append(f"{student}/{assignment}: no {results_file}; grade the class first "
                                        "(python -m autograder grade-all)")
                    continue
                if data.get("internal_error"):
                    done.skipped.append(f"{student}/{assignment}: the autograder could not grade it "
                                        f"({results_file}); grade it again first")
                    continue
                if assignment not in graded and (where / f"{assignment}.ipynb").exists():
                    done.skipped.append(f"{student}/{assignment}: not in {results_file}; grade it first")
                    continue
                timestamp = None
                if (where / "timestamp.txt").is_file():
                    try:
                        timestamp = parse_utc((where / "timestamp.txt").read_text(encoding="utf-8").strip() or None)
                    except (ValueError, OverflowError):
                        done.notes.append(f"{student}/{assignment}: timestamp.txt is not a time; none recorded")
                _submission(gradebook, coursedir, releases[assignment], student, where, data, timestamp, done)
                done.submissions.append((student, assignment))
        done.students = sorted(student.id for student in gradebook.students)
    return done


def _submission(gradebook, coursedir, release: ReleaseNotebook, student: str, where: Path, data: dict,
                timestamp, done: Registered) -> None:
    """One student's submission of one assignment: its gradebook rows and the formgrader's notebook."""
    notebook_file = where / f"{release.name}.ipynb"
    submitted = None
    if notebook_file.exists():
        try:
            submitted = read_notebook(notebook_file)
        except NotebookError as error:
            done.notes.append(f"{student}/{release.assignment}: {str(error).rstrip('.')}; every answer scores 0")
    page = autograded_notebook(submitted, release, data)
    target = Path(coursedir.format_path(coursedir.autograded_directory, student, release.assignment))
    before = _shown_answers(target / f"{release.name}.ipynb")
    gradebook.update_or_create_submission(release.assignment, student, timestamp=timestamp)
    notebook = gradebook.find_submission_notebook(release.name, release.assignment, student)
    comments = {comment.name: comment for comment in notebook.comments}
    for grade in notebook.grades:
        if grade.name not in page.auto_scores:
            continue
        grade.auto_score = page.auto_scores[grade.name]
        if grade.manual_score is not None:      # given by hand: to review again only if the answer changed
            changed = grade.name in page.answers and before.get(grade.name, page.answers[grade.name]) != \
                page.answers[grade.name]
            grade.needs_manual_grade = bool(grade.needs_manual_grade or changed)
        else:
            grade.needs_manual_grade = grade.auto_score is None
    for name, text in page.auto_comments.items():
        if name in comments:
            comments[name].auto_comment = text
    gradebook.db.commit()
    target.mkdir(parents=True, exist_ok=True)
    if submitted is not None:
        tmp = target / f".{release.name}.ipynb.tmp"
        nbformat.write(page.notebook, tmp)
        tmp.replace(target / f"{release.name}.ipynb")


def _shown_answers(path: Path) -> dict[str, str]:
    """grade_id -> written answer, as an earlier registration showed it (empty when there was none)."""
    try:
        notebook = read_notebook(path)
    except NotebookError:
        return {}
    return {_meta(cell)["grade_id"]: cell.source for cell in notebook.cells
            if _meta(cell).get("grade_id") and _meta(cell).get("grade") and _meta(cell).get("solution")}
