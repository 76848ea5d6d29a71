"""The student template repository, built from this one: what students get, and nothing else.

It holds the released notebooks (all, or the ones named), the grader without
``autograder/cases/`` (the hidden cases, the assignments' declarations and the
course secret stay with the instructor), the packaging files that let
``pip install -e .`` work, and the files of ``student-template/`` (its README
and the workflow that grades the public checks on every push).
``tests/release/test_leaks.py`` checks that it carries no solution line of any
assignment.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from autograder.course import COURSE, Course

PACKAGING = ("pyproject.toml", "environment.yml")
# cases/: the hidden cases, the declarations, the course secret; scaffold.py: a new assignment's solution
NEVER = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "cases", "scaffold.py")


def build(dest: Path, assignments: Iterable[str] | None = None, course: Course = COURSE) -> Path:
    """Write the student template into ``dest`` (which must not exist yet); return it.

    ``assignments`` are released ones, a repeat counting once (in the order first named); an unknown name is a
    ``ValueError``. Whatever stops the build (an error, Ctrl-C) removes ``dest``: no half-built template is left.
    """
    dest = Path(dest)
    released = course.released_ids()
    chosen = released if assignments is None else list(dict.fromkeys(assignments))
    unknown = [name for name in chosen if name not in released]
    if unknown:
        raise ValueError(f"no release of {', '.join(unknown)} under {course.assignments}; the released assignments "
                         f"are {', '.join(released) or 'none'}")
    dest.mkdir(parents=True)
    try:
        for name in chosen:
            shutil.copytree(course.assignments / name, dest / "assignments" / name, ignore=NEVER)
        shutil.copytree(course.package, dest / "autograder", ignore=NEVER)
        for name in PACKAGING:
            shutil.copy2(course.root / name, dest / name)
        shutil.copytree(course.template, dest, dirs_exist_ok=True, ignore=NEVER)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest
