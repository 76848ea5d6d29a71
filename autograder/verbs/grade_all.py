"""Grade a class: every student of nbgrader's ``submitted/`` folder, in parallel, into a gradebook.

``python -m autograder grade-all submitted/ --jobs 2 --out gradebook/`` writes, per student,
``<out>/<student>/results.json`` (the schema of ``grade``) and ``<out>/<student>/feedback.md``, and
for the class ``<out>/gradebook.csv``: a row per student, a column per graded item.

Students are graded by ``jobs`` judge processes forked from this one once it has imported
what grading needs (torch, pytest, nbformat), so no notebook pays for starting Python again.
They share one zygote, started here before them: each asks it for workers over a socket of its
own, and a judge that meets a fault of the grader's own goes on with a zygote of its own. Every
notebook still runs in a worker of its own, behind the same walls as ``grade``. A student whose
grading fails, or kills a judge process, gets a results file that says so and a flagged row; the
other students are not touched.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import multiprocessing
import multiprocessing.util
import os
import sys
import time
import traceback
from pathlib import Path

from autograder.notebook import Release
from autograder.pipeline import UsageError, grade_paths, load_releases
from autograder.report import gradebook as book
from autograder.report import results as report
from autograder.report.gradebook import StudentRow
from autograder.sandbox import process as sandbox
from autograder.verbs.collect import read_record


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


def grade_student(folder: Path, releases: dict[str, Release], out: Path, hidden: bool = True) -> StudentRow:
    """Grade every notebook of one student; write their results.json and feedback.md; return their row."""
    run = grade_paths([folder], releases, hidden=hidden, student=folder.name)
    data = report.results_json(run.results, run.unusable)
    _write(out / folder.name, data)
    return book.row_from_results(folder.name, data, releases)


def _write(folder: Path, data: dict) -> None:
    """A student's results.json and feedback.md."""
    report.write_json(data, folder / "results.json")
    (folder / "feedback.md").write_text(report.feedback_markdown(folder.name, data), encoding="utf-8")


def _crashed(folder: Path, releases: dict[str, Release], out: Path, why: str) -> StudentRow:
    """The row and results file of a student whose grading could not finish."""
    problem = f"internal error of the autograder while grading {folder.name}; nothing was graded: {why}"
    data = report.results_json([], [problem], internal_error=True)
    _write(out / folder.name, data)
    return book.row_from_results(folder.name, data, releases)


# -- the judge processes ----------------------------------------------------------------------

_releases: dict[str, Release] = {}


def _start_judge(releases: dict[str, Release], threads: int) -> None:
    """In each forked judge process: its share of the CPUs, and its slot of the zygote the judges share."""
    import torch

    global _releases
    _releases = releases
    torch.set_num_threads(threads)    # the judge's own references; workers always run sandbox.WORKER_THREADS
    sandbox.join()
    multiprocessing.util.Finalize(None, sandbox.stop, exitpriority=0)   # a judge leaves without running atexit


def _grade_in_judge(folder: Path, out: Path, hidden: bool) -> StudentRow:
    try:
        return grade_student(folder, _releases, out, hidden)
    except Exception:  # noqa: BLE001 - report it on this student's row
        return _crashed(folder, _releases, out, traceback.format_exc(limit=3))


def grade_class(submitted: Path, release_dir: Path, out: Path, jobs: int = 1, hidden: bool = True,
                progress: bool = True, assignments: list[str] | None = None,
                nbgrader_db: str | None = None, shard: tuple[int, int] | None = None) -> list[StudentRow]:
    """Grade every student under ``submitted``; write their files and ``out/gradebook.csv``; return the rows.

    The assignments graded (and the gradebook's columns) are ``assignments``, by default those that at
    least one student submitted. ``nbgrader_db`` (a database URL) brings in the written answers' scores.
    ``shard`` (I, N): only the students of shard I of N (:func:`shard_of`); :func:`merge` joins the shards.
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
    out.mkdir(parents=True, exist_ok=True)
    _warm_up(max(1, jobs))
    rows: dict[str, StudentRow] = {}
    bar = _bar(len(folders), progress)
    pending = list(folders)
    # A grading the grader could not finish (its own fault, or a judge process that died and broke its pool)
    # is never final: the student is graded once more in a fresh pool, and stays an internal error after that.
    for attempt in (1, 2):
        if not pending:
            break
        if attempt > 1:
            sandbox.share(max(1, jobs))    # fresh judges, a fresh zygote: no slot a dead judge left mid-request
        context = multiprocessing.get_context("fork")
        threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
        with concurrent.futures.ProcessPoolExecutor(max(1, jobs), mp_context=context, initializer=_start_judge,
                                                    initargs=(releases, threads)) as pool:
            futures = {pool.submit(_grade_in_judge, folder, out, hidden): folder for folder in pending}
            for future in concurrent.futures.as_completed(futures):
                folder = futures[future]
                try:
                    rows[folder.name] = future.result()
                except Exception as error:  # noqa: BLE001 - the judge process died
                    if attempt == 2:
                        rows[folder.name] = _crashed(folder, releases, out, f"{type(error).__name__}: {error}")
                    continue
                if not rows[folder.name].internal_error or attempt == 2:
                    bar.update(1)
        pending = [folder for folder in pending if folder.name not in rows or rows[folder.name].internal_error]
        if attempt == 1:
            for folder in pending:
                rows.pop(folder.name, None)
    sandbox.stop_sharing()
    for folder in pending:
        if folder.name not in rows:
            rows[folder.name] = _crashed(folder, releases, out, "its judge process died twice")
    bar.close()
    collected = {found.student: found.flags for found in read_record(Path(submitted)) if mine(found.student)}
    for student in collected:    # on the roster, but nothing was collected: a row all the same
        if student not in rows:
            rows[student] = book.blank_row(student, releases)
    for student, flags in collected.items():
        rows[student].flags[:0] = [f"collect: {flag}" for flag in flags]
    ordered = [rows[name] for name in sorted(rows)]
    if nbgrader_db:     # the written answers' grades: into each results.json and feedback.md, and the rows
        from autograder.verbs.written import merge_into

        merge_into(out, ordered, nbgrader_db)
    book.write_gradebook(ordered, releases, out / "gradebook.csv")
    return ordered


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
    database = args.nbgrader_db
    if database is None and (args.submitted.resolve().parent / "gradebook.db").is_file():
        database = f"sqlite:///{args.submitted.resolve().parent / 'gradebook.db'}"
    started = time.monotonic()
    try:
        rows = grade_class(args.submitted, args.release, args.out, jobs=args.jobs, hidden=not args.public_only,
                           assignments=args.assignments, nbgrader_db=database, shard=args.shard)
    except UsageError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - started
    book.github_class(rows, sum(rows[0].maxima.values()) if rows else 0.0)
    flagged = sum(1 for row in rows if row.flags)
    print(f"graded {len(rows)} students in {seconds:.1f} s with {args.jobs} job(s); {flagged} flagged")
    print(f"gradebook: {args.out / 'gradebook.csv'}; per student: {args.out}/<student>/results.json, feedback.md")
    return 1 if any(row.internal_error for row in rows) else 0


def run_merge(args: argparse.Namespace) -> int:
    try:
        students = book.merge(args.out, args.shards)
    except (OSError, ValueError) as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    print(f"merged {len(args.shards)} shards: {len(students)} students in {args.out / 'gradebook.csv'}")
    return 0
