"""``python -m autograder new NN_name``: scaffold an assignment in its own folders, and nowhere else.

It writes, for one graded item (``relu``, to rename and rewrite), from ``release/scaffold.py``:

* ``solutions/NN_name/NN_name.ipynb``: the introduction, the rules cell
  (``release/rules_cell.py``), the setup cell with the helpers of
  ``release/setup_helpers.py``, the item's solution cell and its test cell
  (public checks, then the hidden-tests block that runs its cases), a summary
  and two optional exercises with their self-checks;
* ``autograder/cases/test_NN_name.py``: the ``Assignment`` declaration and
  hidden cases that the scaffold's own solution passes;
* ``tests/samples/NN_name/``: a README and sample wrong submissions;
* ``assignments/NN_name/``: the release, with ``nbgrader generate_assignment``.

Everything else (the tests, the grader, the template) discovers assignments
through ``autograder.course``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from autograder.course import COURSE, Course, is_assignment_name


class NewError(Exception):
    """The name is not an assignment's, or the assignment exists already: the command line exits 2."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("new", help="scaffold an assignment: its source notebook, hidden cases, "
                                   "sample folder and release")
    parser.add_argument("name", help="NN_lowercase_words, e.g. 07_attention")
    parser.add_argument("--no-release", action="store_true",
                        help="skip nbgrader generate_assignment (run it yourself later)")


def run(args: argparse.Namespace) -> int:
    try:
        written = scaffold(args.name, release=not args.no_release)
    except NewError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(COURSE.root) if path.is_relative_to(COURSE.root) else path}")
    print(f"next: write {args.name}'s content in its source notebook and cases, then run "
          "`python -m autograder.release.rules_cell` and "
          f"`nbgrader generate_assignment {args.name} --force --no-db`")
    return 0


def check_name(name: str, course: Course = COURSE) -> None:
    """Raise NewError unless ``name`` is a new assignment's name."""
    if not is_assignment_name(name):
        raise NewError(f"{name!r} is not an assignment name: two digits, an underscore, then lowercase words "
                       "joined by underscores (07_attention, 08_residual_networks)")
    taken = [str(path.relative_to(course.root)) for path in course.own_paths(name) if path.exists()]
    if taken:
        raise NewError(f"assignment {name} exists already ({', '.join(taken)}): choose another name")
    same_number = [other for other in course.assignment_ids() if other[:2] == name[:2]]
    if same_number:
        raise NewError(f"number {name[:2]} is taken by {same_number[0]}: choose another number")


def scaffold(name: str, course: Course = COURSE, release: bool = True) -> list[Path]:
    """Write the new assignment's files; return them (the release last, if made)."""
    import nbformat

    check_name(name, course)
    try:
        from autograder.release.scaffold import cases_source, notebook, sample_files
    except ImportError:
        raise NewError("new works in the instructor's repository: the student template has no scaffold") from None
    cases = course.cases_file(name)
    cases.parent.mkdir(parents=True, exist_ok=True)
    cases.write_text(cases_source(name), encoding="utf-8")
    samples = course.sample_folder(name)
    samples.mkdir(parents=True)
    for file_name, text in sample_files(name).items():
        (samples / file_name).write_text(text, encoding="utf-8")
    source = course.source(name)
    source.parent.mkdir(parents=True)
    nbformat.write(notebook(name), source)
    written = [source, cases, *sorted(samples.iterdir())]
    if release:
        written.append(generate_release(name, course))
    return written


def generate_release(name: str, course: Course = COURSE) -> Path:
    """``nbgrader generate_assignment NAME --force --no-db`` in the course's root (its nbgrader_config.py)."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    command = [str(nbgrader) if nbgrader.exists() else "nbgrader", "generate_assignment", name, "--force", "--no-db"]
    try:
        done = subprocess.run(command, cwd=course.root, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NewError(f"the source is written, but nbgrader could not make the release ({error}): "
                       f"run `{' '.join(command[1:])}` in {course.root}") from None
    if done.returncode != 0 or not course.release(name).is_file():
        raise NewError(f"the source is written, but nbgrader could not make the release:\n{done.stderr[-2000:]}")
    return course.release(name)
