"""Grade a class: every student of nbgrader's ``submitted/`` folder, in parallel, into a gradebook.

``python -m autograder grade-all submitted/ --jobs 2`` writes, into ``--out`` (by default the folder
``gradebook`` beside SUBMITTED: ``submitted/`` -> ``gradebook/``, ``inbox/submitted/`` -> ``inbox/gradebook/``),
per student ``<out>/<student>/results.json`` (the schema of ``grade``), ``feedback.md`` (the student's: no
replay command, seed, path or wall of the grader's machine; ``publish`` posts the same) and
``feedback-instructor.md`` (all of it), with ``--gradescope`` also ``gradescope/<assignment>.json``; and for
the class ``<out>/gradebook.csv`` and ``<out>/canvas.csv`` (Canvas's gradebook import: see
:mod:`autograder.report.exports`). The gradebook is written again, whole and sorted, each time a student is
finished, so it always holds every student graded so far.

gradebook.csv has a row per student and the columns ``student``; a column per graded item
(``01_corr2d/corr2d``: automatic points) and per written answer (``01_corr2d/explain_flip``: points given by
hand, empty until then); ``automatic`` and ``automatic_max``; ``manual`` (written points so far),
``manual_pending`` (the maxima of answers not graded yet) and ``manual_max``; ``late_penalty`` (points: the
penalty fraction of collected.csv times automatic + manual, as nbgrader takes it off the total); ``total``
(automatic + manual - late_penalty) and ``total_max`` (automatic_max + manual_max); ``flags`` (from grading,
such as ``01_corr2d: corr2d breaks the from-scratch rule (used ...)``, and ``collect: ...``); ``seeds``
(``assignment:seed`` of the hidden inputs); ``commit`` (the commit collected, from collected.csv).

Students are graded by ``jobs`` judge processes forked from this one once it has imported
what grading needs (torch, pytest, nbformat), so no notebook pays for starting Python again.
They share one zygote, started here before them: each asks it for workers over a socket of its
own, and a judge that meets a fault of the grader's own goes on with a zygote of its own. Every
notebook still runs in a worker of its own, behind the same walls as ``grade``. A student whose
grading fails, or kills a judge process, gets a results file that says so and a flagged row; the
other students are not touched.

Interruptions lose nothing:

- SIGINT (Ctrl-C) or SIGTERM stops every judge, zygote and worker, leaves the gradebook of the students
  finished so far, prints one line and exits 130 or 143 (128 + the signal).
- Killed with SIGKILL, this process takes the others with it: judges and zygotes get SIGKILL from the kernel
  when their parent ends (``PR_SET_PDEATHSIG``), and so do each zygote's children and their workers.
- ``--resume`` goes on in the ``--out`` of an earlier run: every results.json carries a ``fingerprint`` (the
  grader's code, hidden cases and release notebooks, the submitted notebooks, public or hidden, the seeds);
  a student whose fingerprint is unchanged and whose results are not an internal error keeps them, and
  their row is rebuilt from them. ``--force`` deletes the earlier run's students and gradebook and grades
  everyone; without either, a ``--out`` that is not empty is refused.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from autograder.course import assignment_names
from autograder.judge import seeds
from autograder.notebook import Release
from autograder.pipeline import UsageError, find_notebooks, grade_paths, load_releases
from autograder.report import exports
from autograder.report import gradebook as book
from autograder.report import results as report
from autograder.report.gradebook import StudentRow
from autograder.sandbox import process as sandbox
from autograder.verbs.collect import Collected, onto_row, read_record


def students_of(submitted: Path) -> list[Path]:
    """The student folders of nbgrader's ``submitted/<student>/<assignment>/`` layout."""
    return sorted(path for path in Path(submitted).iterdir() if path.is_dir() and not path.name.startswith("."))


def shard_of(student: str, count: int) -> int:
    """Which of ``count`` shards (1 to count) grades ``student``: from the id alone, so a student's shard
    does not move when others join or leave the class."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> (2, 5); ValueError for anything else."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(f"a shard is I/N with 1 <= I <= N, such as 2/5; got {text!r}")
    return int(index), int(count)


def default_out(submitted: Path) -> Path:
    """The folder ``gradebook`` beside ``submitted``: ``submitted/`` -> ``gradebook/``, ``inbox/submitted/`` ->
    ``inbox/gradebook/``, so that the every-push round and the term each have their own."""
    submitted = Path(submitted)
    if submitted.name in ("", ".", ".."):
        submitted = submitted.resolve()
    return submitted.parent / "gradebook"


# -- what a grading depends on, for --resume ----------------------------------------------------------

GRADER_FILES = (".py", ".ini")      # this package's code and the judge's pytest configuration


def grader_digest(releases: dict[str, Release]) -> str:
    """sha256 of what decides a grading besides the notebook and its seed: this package's code (its hidden
    cases included; the course secret is left to the seeds), the release notebooks graded, and the deadlines."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in GRADER_FILES and path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(package).as_posix()}\0".encode() + path.read_bytes() + b"\0")
    for assignment, release in sorted(releases.items()):
        digest.update(f"release {assignment}\0".encode() + Path(release.path).read_bytes() + b"\0")
    digest.update(json.dumps(dataclasses.asdict(sandbox.Limits()), sort_keys=True).encode())
    return digest.hexdigest()


def fingerprint(folder: Path, releases: dict[str, Release], hidden: bool, grader: str,
                push: str | None = None) -> dict:
    """What one student's grading depends on, as results.json's ``fingerprint`` records it.

    ``grader``: :func:`grader_digest`. ``notebooks``: assignment -> sha256 of the submitted notebook's bytes.
    ``hidden``: graded with the hidden cases. ``seeds``: assignment -> the seed of its hidden inputs, which the
    student id and the course secret decide (an HMAC: it changes with the secret, and does not reveal it), and
    for a push's feedback (``push``, the commit) the commit too.
    """
    try:
        notebooks = find_notebooks(folder, releases)
    except (UsageError, OSError):
        notebooks = []
    hashes: dict[str, list[str]] = {}
    for path, assignment in notebooks:
        try:
            hashes.setdefault(assignment, []).append(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            hashes.setdefault(assignment, []).append("missing")
    return {"grader": grader,
            "notebooks": {assignment: " ".join(found) for assignment, found in sorted(hashes.items())},
            "hidden": hidden,
            "seeds": {assignment: seeds.for_notebook(folder / assignment, assignment, [], student=folder.name,
                                                     push=push).value
                      for assignment in sorted(hashes)}}


# -- one student --------------------------------------------------------------------------------------

def grade_student(folder: Path, releases: dict[str, Release], out: Path, hidden: bool = True,
                  grader: str | None = None, push: bool = False) -> StudentRow:
    """Grade every notebook of one student; write their results.json and feedback.md; return their row.

    ``push``: for a push's feedback (the every-push round): inputs from a seed of the collected commit, and the
    student's messages hold the hidden inputs back (``pipeline.grade_notebook``'s ``push``).
    """
    found = next((found for found in read_record(folder.parent) if found.student == folder.name), None)
    commit = (found.commit if found is not None else "") if push else None
    # Taken before the notebooks are read: a notebook changed meanwhile is graded again by --resume.
    stamp = fingerprint(folder, releases, hidden, grader or grader_digest(releases), commit)
    run = grade_paths([folder], releases, hidden=hidden, student=folder.name, push=commit)
    data = report.results_json(run.results, run.unusable)
    data["fingerprint"] = stamp
    if found is not None and found.penalty:       # late: the student's feedback says what it costs
        data = report.with_late(data, found.deadline, found.late_seconds, found.penalty)
    report.write_student(out / folder.name, data)
    return book.row_from_results(folder.name, data, releases)


def _crashed(folder: Path, releases: dict[str, Release], out: Path, why: str) -> StudentRow:
    """The row and results file of a student whose grading could not finish (no fingerprint: never resumed)."""
    problem = f"internal error of the autograder while grading {folder.name}; nothing was graded: {why}"
    data = report.results_json([], [problem], internal_error=True,
                               student_problems=["internal error of the autograder; nothing was graded yet"])
    report.write_student(out / folder.name, data)
    return book.row_from_results(folder.name, data, releases)


def _taken_over(folder: Path, releases: dict[str, Release], out: Path, expected: dict) -> StudentRow | None:
    """With --resume: the row of an earlier grading of this student whose fingerprint is ``expected`` and that
    is not an internal error, rebuilt from its results.json; None if the student is to be graded."""
    try:
        data = json.loads((out / folder.name / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("internal_error") or data.get("fingerprint") != expected:
        return None
    if not (out / folder.name / "feedback.md").is_file():
        report.write_student(out / folder.name, data)
    return book.row_from_results(folder.name, data, releases)


# -- the output folder ------------------------------------------------------------------------------

def _claim(out: Path, resume: bool, force: bool) -> None:
    """Make ``out`` ready: new or empty; an earlier run's with ``resume``; emptied of an earlier run's students
    and gradebook with ``force``. A folder that holds anything is refused otherwise (UsageError)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (resume or force):
        raise UsageError(f"--out {out} is not empty (an earlier run's gradebook?): --resume goes on with it, "
                         "grading only the students whose notebooks, grader or seeds changed; --force grades "
                         "everyone again and replaces it")
    if force and out.is_dir():
        for entry in out.iterdir():      # what grade-all writes, and nothing else
            if entry.is_dir() and not entry.is_symlink() and ((entry / "results.json").exists()
                                                                or (entry / "feedback.md").exists()):
                shutil.rmtree(entry)
            elif entry.name in ("gradebook.csv", "gradebook.csv.tmp"):
                entry.unlink()
    out.mkdir(parents=True, exist_ok=True)


# -- interruptions ------------------------------------------------------------------------------------

class Interrupted(BaseException):
    """SIGINT or SIGTERM reached grade-all: every process it started is gone, and the gradebook of the students
    finished so far is on disk. A BaseException, so that no ``except Exception`` on the way swallows it."""

    def __init__(self, number: int) -> None:
        super().__init__(signal.Signals(number).name)
        self.number = number
        self.graded = 0
        self.total = 0
        self.gradebook: Path | None = None

    def line(self) -> str:
        """The one line grade-all prints."""
        if self.gradebook is None:
            return "interrupted before any student was graded; nothing was written"
        return (f"interrupted: {self.graded} of {self.total} students graded; {self.gradebook} holds them; "
                "--resume goes on")


@contextlib.contextmanager
def _interruptible(stopped):
    """SIGINT and SIGTERM raise :class:`Interrupted` in this (main) thread; a judge forked meanwhile that has
    not yet set its own signals ends on them. Whatever ends the block early, every process started in it
    (judges, zygotes, workers and all below them) is killed first; then an interruption is handed to
    ``stopped``, with the signals still ignored."""
    owner = os.getpid()

    def interrupt(number, frame):
        if os.getpid() != owner:
            os._exit(128 + number)
        for each in (signal.SIGINT, signal.SIGTERM):   # a second Ctrl-C does not cut the cleaning short
            signal.signal(each, signal.SIG_IGN)
        raise Interrupted(number)

    before = sandbox.descendants()      # what the caller started: theirs to stop
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {number: signal.signal(number, interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except BaseException as error:
        _stop_everything(frozenset(before))
        if isinstance(error, Interrupted):
            stopped(error)
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _stop_everything(spare: frozenset[tuple[int, int]]) -> None:
    """Kill the judges (their own zygotes die with them), the shared zygote (its workers die with it), and
    whatever else is left below this process but ``spare``; return once all of it is gone."""
    theirs = {pid for pid, _ in spare}
    judges = [child for child in multiprocessing.active_children() if child.pid not in theirs]
    for judge in judges:
        judge.kill()
    for judge in judges:
        judge.join(sandbox.EXIT_GRACE_SECONDS)
    sandbox.stop_sharing()
    sandbox.kill_descendants(spare)


# -- the judge processes ----------------------------------------------------------------------------

_releases: dict[str, Release] = {}


def _start_judge(releases: dict[str, Release], threads: int, parent: int | None = None) -> None:
    """In each forked judge process: it dies with ``parent``, leaves Ctrl-C to it, takes its share of the CPUs
    and its slot of the zygote the judges share."""
    global _releases
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole process group: the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import torch

    _releases = releases
    torch.set_num_threads(threads)    # the judge's own references; workers always run sandbox.WORKER_THREADS
    sandbox.join()
    multiprocessing.util.Finalize(None, sandbox.stop, exitpriority=0)   # a judge leaves without running atexit


def _die_with(parent: int | None) -> None:
    """SIGKILL to this judge when ``parent`` ends, even by SIGKILL; at once if it has ended already.

    The kernel sends it when the thread that forked this process ends: in Python 3.11 a ProcessPoolExecutor
    with the fork context forks all its processes in its first ``submit``, here in the main thread, which ends
    only with the process."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _grade_in_judge(folder: Path, out: Path, hidden: bool, grader: str | None = None,
                    push: bool = False) -> StudentRow:
    try:
        return grade_student(folder, _releases, out, hidden, grader, push)
    except Exception:  # noqa: BLE001 - report it on this student's row
        return _crashed(folder, _releases, out, traceback.format_exc(limit=3))


# -- the class --------------------------------------------------------------------------------------

def grade_class(submitted: Path, release_dir: Path, out: Path, jobs: int = 1, hidden: bool = True,
                progress: bool = True, assignments: list[str] | None = None,
                nbgrader_db: str | None = None, shard: tuple[int, int] | None = None,
                resume: bool = False, force: bool = False, push: bool = False) -> list[StudentRow]:
    """Grade every student under ``submitted``; write their files and ``out/gradebook.csv``; return the rows.

    The assignments graded (and the gradebook's columns) are ``assignments``, by default those that at
    least one student submitted. ``nbgrader_db`` (a database URL) brings in the written answers' scores.
    ``shard`` (I, N): only the students of shard I of N (:func:`shard_of`); :func:`merge` joins the shards.
    ``out`` must be new or empty, unless ``resume`` (students whose :func:`fingerprint` is unchanged keep their
    results) or ``force`` (the earlier run's students and gradebook are deleted first). SIGINT and SIGTERM
    raise :class:`Interrupted` once everything started here is stopped and the gradebook is written.
    ``push``: feedback on each student's collected commit (:func:`grade_student`), not the final grading.
    """
    releases = load_releases(release_dir)
    folders = students_of(submitted)
    mine = (lambda student: shard_of(student, shard[1]) == shard[0]) if shard else (lambda student: True)
    folders = [folder for folder in folders if mine(folder.name)]
    present = {path.name for folder in folders for path in folder.iterdir() if path.is_dir()}
    chosen = list(assignments) if assignments else [name for name in releases if name in present] or list(releases)
    unknown = sorted(set(chosen) - set(releases))
    if unknown:
        raise UsageError(f"no release of {', '.join(unknown)} under {release_dir}")
    releases = {name: releases[name] for name in chosen}
    out = Path(out)
    gradebook = out / "gradebook.csv"
    rows: dict[str, StudentRow] = {}       # the students finished: graded, or taken over with --resume
    collected: dict[str, Collected] = {}
    claimed = False

    def finish(student: str, row: StudentRow) -> None:
        if student in collected:
            onto_row(row, collected[student])       # its flags, the commit taken, the late penalty
        rows[student] = row

    def write() -> None:
        book.write_gradebook([rows[name] for name in sorted(rows)], releases, gradebook)

    def stopped(stop: Interrupted) -> None:
        stop.graded, stop.total = len(rows), len(folders)
        if claimed:     # never over the gradebook of an earlier run that --out held before
            write()
            stop.gradebook = gradebook

    with _interruptible(stopped):
        _claim(out, resume, force)
        claimed = True
        collected.update((found.student, found) for found in read_record(Path(submitted)) if mine(found.student))
        grader = grader_digest(releases)
        pending = list(folders)
        if resume:
            pending = []
            for folder in folders:
                commit = (collected[folder.name].commit if folder.name in collected else "") if push else None
                row = _taken_over(folder, releases, out, fingerprint(folder, releases, hidden, grader, commit))
                if row is None:
                    pending.append(folder)
                else:
                    finish(folder.name, row)
            print(f"--resume: {len(rows)} of {len(folders)} students taken over from {out} (notebooks, grader and "
                  f"seeds unchanged); {len(pending)} to grade", flush=True)
        write()
        _grade(pending, releases, out, jobs, hidden, grader, progress, finish, write, push)
        for student in collected:    # on the roster, but nothing was collected: a row all the same
            if student not in rows:
                finish(student, book.row_from_results(student, {}, releases))
        ordered = [rows[name] for name in sorted(rows)]
        if nbgrader_db:     # the written answers' grades: into each results.json and feedback.md, and the rows
            from autograder.verbs.written import merge_into

            merge_into(out, ordered, nbgrader_db)
        book.write_gradebook(ordered, releases, gradebook)
    return ordered


def _grade(pending: list[Path], releases: dict[str, Release], out: Path, jobs: int, hidden: bool, grader: str,
           progress: bool, finish, write, push: bool = False) -> None:
    """Grade the ``pending`` students in ``jobs`` judge processes; ``finish`` each row and ``write`` the
    gradebook as each student is done."""
    if not pending:
        return
    jobs = max(1, jobs)
    _warm_up(jobs)
    bar = _bar(len(pending), progress)
    try:
        # A grading the grader could not finish (its own fault, or a judge process that died and broke its pool)
        # is never final: the student is graded once more in a fresh pool, and stays an internal error after that.
        for attempt in (1, 2):
            if not pending:
                break
            if attempt > 1:
                sandbox.share(jobs)    # fresh judges, a fresh zygote: no slot a dead judge left mid-request
            again = []
            context = multiprocessing.get_context("fork")
            threads = max(1, (os.cpu_count() or 1) // jobs)
            # Not a `with` block: leaving one waits for every judge to finish, where an interruption kills them.
            pool = concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_judge,
                                                          initargs=(releases, threads, os.getpid()))
            futures = {pool.submit(_grade_in_judge, folder, out, hidden, grader, push): folder
                       for folder in pending}
            for future in concurrent.futures.as_completed(futures):
                folder = futures[future]
                try:
                    row = future.result()
                except Exception as error:  # noqa: BLE001 - the judge process died
                    row = _crashed(folder, releases, out, f"{type(error).__name__}: {error}") if attempt == 2 else None
                if row is None or row.internal_error and attempt == 1:
                    again.append(folder)
                    continue
                finish(folder.name, row)
                write()
                bar.update(1)
            pool.shutdown()
            pending = again     # after the second attempt, none: every student has a row
    finally:
        bar.close()
    sandbox.stop_sharing()


def _warm_up(judges: int) -> None:
    """Start the zygote the judges will share (its ``import torch`` overlaps this process's), and import
    what grading needs once, here, so every forked judge process starts warm."""
    sandbox.share(judges)
    import nbformat  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401

    from autograder.judge import plugin  # noqa: F401


def _bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="students", unit="student", file=sys.stderr,
                disable=not enabled or not sys.stderr.isatty() and not os.environ.get("GITHUB_ACTIONS"))


# -- the verb ---------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    if not args.submitted.is_dir():
        print(f"usage: {args.submitted}: no such folder (expected nbgrader's submitted/<student>/<assignment>/)",
              file=sys.stderr)
        return 2
    out = args.out if args.out is not None else default_out(args.submitted)
    database = args.nbgrader_db
    if database is None and (args.submitted.resolve().parent / "gradebook.db").is_file():
        database = f"sqlite:///{args.submitted.resolve().parent / 'gradebook.db'}"
    try:                 # before an hour of grading: a roster that cannot be read is a usage error now
        roster = exports.read_canvas_roster(args.canvas_roster) if args.canvas_roster else None
        unknown = sorted({name for name, _ in args.canvas_assignment or []} - set(assignment_names(args.release)))
        if unknown:
            raise exports.ExportError(f"--canvas-assignment: no assignment {', '.join(unknown)} under {args.release}")
    except exports.ExportError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        rows = grade_class(args.submitted, args.release, out, jobs=args.jobs, hidden=not args.public_only,
                           assignments=args.assignments, nbgrader_db=database, shard=args.shard,
                           resume=args.resume, force=args.force, push=args.push)
    except UsageError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        for number in (signal.SIGINT, signal.SIGTERM):    # nothing is left to stop: no traceback now
            signal.signal(number, signal.SIG_IGN)
        print(stop.line(), file=sys.stderr, flush=True)
        return 128 + stop.number
    except KeyboardInterrupt:      # before grade_class took the signals over
        print(Interrupted(signal.SIGINT).line(), file=sys.stderr, flush=True)
        return 128 + signal.SIGINT
    seconds = time.monotonic() - started
    unlisted = exports.write_canvas(rows, out / exports.CANVAS, roster, dict(args.canvas_assignment or []))
    if unlisted:
        print(f"warning: not on the Canvas roster, matched by their id: {', '.join(unlisted)}", file=sys.stderr)
    if args.gradescope:
        exports.write_gradescope(out, [row.student for row in rows])
    # A shard compares only its own students' code: merge's report lists no pairs; class-report --submitted does.
    view(out, None if args.shard else args.submitted, args.release)
    book.github_class(rows, sum(rows[0].maxima.values()) if rows else 0.0)
    flagged = sum(1 for row in rows if row.flags)
    print(f"graded {len(rows)} students in {seconds:.1f} s with {args.jobs} job(s); {flagged} flagged")
    print(f"gradebook: {out / 'gradebook.csv'}, for Canvas {out / exports.CANVAS}; per student: "
          f"{out}/<student>/results.json, feedback.md, feedback-instructor.md"
          + (", gradescope/<assignment>.json" if args.gradescope else ""))
    return 1 if any(row.internal_error for row in rows) else 0


def run_merge(args: argparse.Namespace) -> int:
    try:
        students = book.merge(args.out, args.shards)
    except (OSError, ValueError) as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    print(f"merged {len(args.shards)} shards: {len(students)} students in {args.out / 'gradebook.csv'}")
    view(args.out, None, args.release)
    return 0


def view(out: Path, submitted: Path | None, release: Path) -> None:
    """The class's report.html (and with ``submitted``, similarity.csv): the grades stand without them."""
    from autograder.report import class_view

    try:
        page = class_view.write_report(out, submitted, release)
    except Exception as error:  # noqa: BLE001 - a view that fails loses no grade: say so and go on
        print(f"warning: {out / 'report.html'} was not written ({type(error).__name__}: {error}); "
              f"python -m autograder class-report {out} tries again", file=sys.stderr)
        return
    print(f"class view: {page}" + (f"; similarity of the code: {page.parent / 'similarity.csv'}" if submitted else ""))
