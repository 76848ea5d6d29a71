"""Written answers, graded by hand in nbgrader's formgrader: register the graded class there, then merge.

    python -m autograder written register SUBMITTED [--out GRADEBOOK] [--db URL] [--roster ROSTER]
    python -m autograder written merge GRADEBOOK [--db URL] [--submitted SUBMITTED]

``register`` records in nbgrader's gradebook (default: ``gradebook.db`` beside SUBMITTED, nbgrader's course
directory being the folder above it) every submission that ``grade-all`` graded into GRADEBOOK: the
assignments and their cells from the trusted release, the students (with a roster's names), the submissions
(with ``timestamp.txt``'s collect time), each test cell's score from the student's results.json, nbgrader's
automatic 0 for a written answer left as released, and the ``autograded/`` pages the formgrader shows. No
notebook is run: seconds for a class, where ``nbgrader autograde`` runs every notebook again. Registering
again updates; a score or comment given by hand stays (see ``autograder/nbgrader/register.py``).

``merge`` reads each written answer's score and comment from that database and writes them into every
student's results.json (``manual``: ``status``, ``score``, ``comment`` per answer; ``manual_score``,
``manual_pending``, ``total``), feedback.md (a "Graded by hand" section, which ``publish`` posts too) and
GRADEBOOK/gradebook.csv, rebuilt from the results files. It grades nothing and runs no student code.
``grade-all --nbgrader-db URL`` does the same merge after grading.

Neither ever calls ``nbgrader generate_assignment`` nor touches ``source/`` (``solutions/``) or the release.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.model import Mark
from autograder.nbgrader.database import course_directory, read_marks
from autograder.notebook import Release
from autograder.report import exports
from autograder.report import gradebook as book
from autograder.report import results as report

RESULTS = "results.json"
FEEDBACK = "feedback.md"


# -- merge --------------------------------------------------------------------------------------------------

def apply_marks(folder: Path, marks: dict[str, Mark]) -> dict | None:
    """A student's results.json and feedback.md (in ``folder``, named after the student) with the grades of
    their written answers in ``marks`` (theirs, from :func:`read_marks`); returns the new results, or None when
    there is no results.json."""
    path = Path(folder) / RESULTS
    if not path.is_file():
        return None
    data = report.with_manual(json.loads(path.read_text(encoding="utf-8")), marks)
    report.write_student(Path(folder), data)
    return data


def merge_into(out: Path, rows: list[book.StudentRow], database: str) -> None:
    """For ``grade-all --nbgrader-db``: the grades of nbgrader's ``database`` into the results.json and
    feedback.md of each of ``rows``' students under ``out``, and into their rows, from those files."""
    marks = read_marks(database)
    for row in rows:
        data = apply_marks(Path(out) / row.student, marks.get(row.student, {}))
        if data is not None:
            row.written.update({key: score for key, score in book.written_scores(data).items() if key in row.written})


@dataclass
class Merged:
    students: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)      # status -> written answers
    ignored: list[str] = field(default_factory=list)    # "alice: 01_corr2d/test_corr2d": scores typed for code
    unmatched: list[str] = field(default_factory=list)  # students whose results.json predates the answers' ids


def merge(gradebook: Path, database: str, release_dir: Path, submitted: Path | None = None) -> Merged:
    """Every student's results.json and feedback.md under ``gradebook`` with the grades of nbgrader's
    ``database``, and ``gradebook.csv`` rebuilt from them (its columns: the assignments it had, and those
    the results hold; students on ``submitted``'s collect record without results keep their empty rows)."""
    from autograder.verbs.collect import onto_row, read_record

    gradebook = Path(gradebook)
    marks = read_marks(database)
    merged = Merged()
    results: dict[str, dict] = {}
    for folder in sorted(path for path in gradebook.iterdir() if path.is_dir()):
        mine = marks.get(folder.name, {})
        data = apply_marks(folder, mine)
        if data is None:
            continue
        results[folder.name] = data
        for entry in data.get("manual", []):
            merged.counts[entry["status"]] = merged.counts.get(entry["status"], 0) + 1
        if any(not entry.get("grade_id") for entry in data.get("manual", [])):
            merged.unmatched.append(folder.name)
        written = book.written_scores(data)
        merged.ignored += [f"{folder.name}: {key}" for key, mark in mine.items()
                           if mark.status == "graded" and key not in written]
    merged.students = sorted(results)
    from autograder.pipeline import UsageError, load_releases

    try:
        releases = load_releases(release_dir)
    except UsageError:          # no release: the columns of the gradebook there, and no more
        releases = {}
    chosen = _columns(gradebook / "gradebook.csv", releases) | {
        notebook["assignment"] for data in results.values() for notebook in data.get("notebooks", [])}
    releases = {name: release for name, release in releases.items() if name in chosen}
    rows = {student: book.row_from_results(student, data, releases) for student, data in results.items()}
    for found in read_record(submitted) if submitted else []:    # as grade-all builds the class's rows
        rows.setdefault(found.student, book.row_from_results(found.student, {}, releases))
        onto_row(rows[found.student], found)
    ordered = [rows[name] for name in sorted(rows)]
    book.write_gradebook(ordered, releases, gradebook / "gradebook.csv")
    exports.refresh_canvas(ordered, gradebook / exports.CANVAS)     # the written points reach Canvas too
    return merged


def _columns(path: Path, releases: dict[str, Release]) -> set[str]:
    """The assignments that an existing gradebook.csv has columns for."""
    if not path.is_file():
        return set()
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    return {column.split("/", 1)[0] for column in header if column.split("/", 1)[0] in releases}


# -- the verb ---------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    return {"register": run_register, "merge": run_merge}[args.action](args)


def run_register(args: argparse.Namespace) -> int:
    from autograder.nbgrader.register import RegisterError, load_release_notebooks, register

    if not args.submitted.is_dir():
        print(f"usage: {args.submitted}: no such folder (expected nbgrader's submitted/<student>/<assignment>/)",
              file=sys.stderr)
        return 2
    if args.out is None:
        from autograder.verbs.grade_all import default_out

        args.out = default_out(args.submitted)
    if not args.out.is_dir():
        print(f"usage: {args.out}: no such folder (grade the class first: python -m autograder grade-all "
              f"{args.submitted} --out {args.out})", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        releases = load_release_notebooks(args.release)
        if not releases:
            print(f"usage: no release notebooks under {args.release}", file=sys.stderr)
            return 2
        done = register(args.submitted, args.out, releases, args.db, args.roster)
    except (RegisterError, OSError) as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - started
    for note in done.notes:
        print(f"note: {note}")
    for why in done.skipped:
        print(f"skipped: {why}", file=sys.stderr)
    print(f"registered {len(done.submissions)} submissions ({len(done.students)} students in the gradebook) in "
          f"{seconds:.1f} s, no notebook run: {done.database}")
    print(f"course directory: {done.root} (the formgrader's pages are in its autograded/ folder)")
    print(f"next: start Jupyter in {done.root} (.venv/bin/jupyter lab), open Nbgrader > Formgrader, grade the "
          f"written answers, then: python -m autograder written merge {args.out}")
    return 1 if done.skipped else 0


def run_merge(args: argparse.Namespace) -> int:
    if not args.gradebook.is_dir():
        print(f"usage: {args.gradebook}: no such folder (grade-all's --out)", file=sys.stderr)
        return 2
    submitted = args.submitted or args.gradebook.resolve().parent / "submitted"
    database = args.db or course_directory(submitted).db_url
    if database.startswith("sqlite:///") and not Path(database.removeprefix("sqlite:///")).is_file():
        print(f"usage: no nbgrader database at {database}: register the class first (python -m autograder "
              "written register SUBMITTED), or name it with --db", file=sys.stderr)
        return 2
    started = time.monotonic()
    merged = merge(args.gradebook, database, args.release, submitted if submitted.is_dir() else None)
    seconds = time.monotonic() - started
    counts = ", ".join(f"{merged.counts.get(status, 0)} {label}" for status, label in
                       (("graded", "graded by hand"), ("unanswered", "left blank (0)"), ("pending", "pending")))
    print(f"merged the written answers of {len(merged.students)} students from {database} in {seconds:.1f} s: "
          f"{counts}")
    print(f"gradebook: {args.gradebook / 'gradebook.csv'}; per student: {args.gradebook}/<student>/{RESULTS}, "
          f"{FEEDBACK}")
    from autograder.verbs.grade_all import view

    view(args.gradebook, None, args.release)      # its totals changed; similarity.csv stays as it was
    if merged.unmatched:
        print(f"note: the results of {', '.join(merged.unmatched)} were written by an older grader, without the "
              "written answers' ids: their answers stay pending until grade-all grades them again", file=sys.stderr)
    if merged.ignored:
        print("note: scores typed for automatically graded cells are ignored (the autograder's stand): "
              + "; ".join(merged.ignored), file=sys.stderr)
    return 0
