"""The course: its folders, its assignments and the conventions their notebooks follow. Nothing else globs them.

Like nbgrader's ``CourseDirectory``, one object knows where each step keeps an
assignment's files::

    solutions/NN_name/NN_name.ipynb     the nbgrader source, the one place content is written
    assignments/NN_name/NN_name.ipynb   its release (nbgrader generate_assignment)
    autograder/cases/test_NN_name.py    its hidden cases and declaration (items, rule exceptions)
    tests/samples/NN_name/              sample wrong submissions (``# replaces:``, ``# loses:``, ``# mistake:``)

Assignments are discovered from ``solutions/``, never listed. Standard library
only: the command line imports this before anything heavy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]     # the course repository: solutions/, assignments/, autograder/
NAME = re.compile(r"[0-9]{2}_[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*")   # 01_corr2d, 02_padding_stride_channels
GLOB = "[0-9][0-9]_*"                          # the folders that may hold an assignment

# Cell conventions of every notebook, source and release.
INTRO_CELL_ID = "intro"                  # the first cell: the assignment's introduction
RULES_CELL_ID = "rules-and-scoring"      # the second: release/rules_cell.py writes it
SETUP_GRADE_ID = "setup"                 # the locked setup cell, with the helpers of release/setup_helpers.py
TEST_PREFIX = "test_"                    # the grade_id of item X's test cell is test_X
EXERCISE_PREFIX = "exercise_"            # optional, ungraded answer cells: never run by the grader
NBGRADER_SCHEMA = 3                      # the schema_version of every cell's nbgrader metadata


def assignment_names(folder: Path) -> list[str]:
    """The assignment folders (``NN_*``) directly under ``folder``, sorted."""
    return sorted(path.name for path in Path(folder).glob(GLOB) if path.is_dir())


def is_assignment_name(name: str) -> bool:
    """Is ``name`` an assignment's name: two digits, an underscore, lowercase words joined by underscores?"""
    return NAME.fullmatch(name) is not None


def item_test_id(item: str) -> str:
    """The grade_id of an item's test cell."""
    return f"{TEST_PREFIX}{item}"


def hidden_id(assignment: str, item: str) -> str:
    """What a source test cell passes to ``run_hidden``: ``01_corr2d/corr2d``."""
    return f"{assignment}/{item}"


@dataclass(frozen=True)
class Course:
    """A course repository's folders and the paths of each assignment's files in them."""

    root: Path = ROOT

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def package(self) -> Path:
        return self.root / "autograder"

    @property
    def cases(self) -> Path:
        return self.package / "cases"

    @property
    def samples(self) -> Path:
        return self.root / "tests" / "samples"

    @property
    def template(self) -> Path:
        """The files of the student template repository beyond the grader (its README, its workflow)."""
        return self.root / "student-template"

    @property
    def secret_file(self) -> Path:
        """The course secret that seeds the hidden inputs (instructor material, beside the cases)."""
        return self.cases / "course_secret"

    @property
    def nbgrader_config(self) -> Path:
        return self.root / "nbgrader_config.py"

    def assignment_ids(self) -> list[str]:
        """Every assignment of the course, as its source folders under ``solutions/`` name it."""
        return assignment_names(self.solutions)

    def released_ids(self) -> list[str]:
        """Every assignment with a folder under ``assignments/``."""
        return assignment_names(self.assignments)

    def source(self, assignment: str) -> Path:
        return self.solutions / assignment / f"{assignment}.ipynb"

    def release(self, assignment: str) -> Path:
        return self.assignments / assignment / f"{assignment}.ipynb"

    def cases_file(self, assignment: str) -> Path:
        return self.cases / f"test_{assignment}.py"

    def sample_folder(self, assignment: str) -> Path:
        return self.samples / assignment

    def own_paths(self, assignment: str) -> list[Path]:
        """Everything that belongs to one assignment alone: adding one writes these and nothing else."""
        return [self.solutions / assignment, self.assignments / assignment, self.cases_file(assignment),
                self.sample_folder(assignment)]


COURSE = Course()
