"""Fixtures shared by the project's tests: releases, solutions, built submissions."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder.course import COURSE
from autograder.notebook import read_release

ROOT = COURSE.root
ASSIGNMENTS = COURSE.assignments
SOLUTIONS = COURSE.solutions
SAMPLES = COURSE.samples
ASSIGNMENT_IDS = COURSE.assignment_ids()
# 05's load_data never tries the network in tests (or in the kernels and graders they start).
os.environ["CNN_COURSE_OFFLINE"] = "1"
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def solution_code(assignment: str) -> dict[str, str]:
    """grade_id -> the instructor's solution cell source, markers removed."""
    notebook = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: MARKERS.sub("", cell.source)
            for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")}


def build_submission(directory: Path, assignment: str, overrides: dict[str, str] | None = None,
                     solved: bool = True) -> Path:
    """A student's notebook: the release with solution cells filled in (and some replaced)."""
    notebook = nbformat.read(ASSIGNMENTS / assignment / f"{assignment}.ipynb", as_version=4)
    code = solution_code(assignment) if solved else {}
    code.update(overrides or {})
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in code and cell.metadata["nbgrader"].get("solution"):
            cell.source = code[grade_id]
    path = directory / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def read_sample(path: Path) -> tuple[dict[str, str], set[str], str]:
    """A sample wrong submission: '# replaces: X', '# loses: A B', '# mistake: ...' then code."""
    text = path.read_text()
    header = dict(re.findall(r"^# (replaces|loses|mistake):[ \t]*(.*)$", text, re.M))
    return {header["replaces"].strip(): text}, set(header["loses"].split()), header["mistake"].strip()


@pytest.fixture(scope="session")
def release_01():
    return read_release(ASSIGNMENTS / "01_corr2d" / "01_corr2d.ipynb")


# -- students' repositories: local bare git repositories ----------------------------------------------------

COMMIT_DATE = "2026-12-15T20:00:00+01:00"


def git(*args, cwd, date=None):
    env = dict(os.environ, GIT_AUTHOR_DATE=date or COMMIT_DATE, GIT_COMMITTER_DATE=date or COMMIT_DATE)
    subprocess.run(["git", "-c", "user.name=Student", "-c", "user.email=s@example.org", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, env=env, check=True, capture_output=True)


def student_repo(base: Path, name: str, commits, workflow: str | None = None, assignment: str = "01_corr2d") -> Path:
    """A bare repository ``base/<name>.git`` whose history is ``commits``: (date, solved) pairs, where solved is
    True, False (the blank release) or a dict of solution cells replaced (``build_submission``'s overrides).

    It holds the released workflow, or ``workflow`` (its text) in its place.
    """
    from autograder.verbs.collect import TEMPLATE

    work = base / "work" / name
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    released = (TEMPLATE / ".github" / "workflows" / "grade.yml").read_text()
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / ".github" / "workflows" / "grade.yml").write_text(workflow or released)
    for number, (date, solved) in enumerate(commits):
        if isinstance(solved, dict):
            build_submission(work / "assignments", assignment, overrides=solved)
        else:
            build_submission(work / "assignments", assignment, solved=solved)
        (work / "notes.txt").write_text(f"commit {number}")
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", f"work {number}", cwd=work, date=date)
    bare = base / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=base)
    return bare
