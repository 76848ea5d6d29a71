"""Does any solution line of any assignment reach a release or the student template?

A "solution line" is a line of an instructor's ``### BEGIN SOLUTION`` region
(code or written answer; comments and short lines such as ``return Y`` aside).
Every release notebook and every text file of the built student template is
searched for every such line of *every* assignment: a locked cell of 02 that
holds 01's solution is as much a leak as an unstripped answer.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.judge import seeds
from autograder.release import repository as template
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, SOLUTIONS

MIN_LENGTH = 13     # shorter lines ("return Y", "else:") are common to any code
# Lines of a solution that are just common code, and appear as such in the course's public cells:
# each was looked at, and gives nothing away.
COMMON = {"h, w = K.shape", "with torch.no_grad():"}
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "run_hidden", "autograder.cases")


def solution_lines(notebook: Path) -> dict[str, str]:
    """line -> the grade_id of the solution region it comes from."""
    lines, inside = {}, False
    for cell in nbformat.read(notebook, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
        for line in cell.source.splitlines():
            stripped = line.strip()
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(stripped) >= MIN_LENGTH and not stripped.startswith("#") and stripped not in COMMON:
                lines.setdefault(stripped, grade_id)
    return lines


def all_solution_lines() -> dict[str, str]:
    found = {}
    for assignment in ASSIGNMENT_IDS:
        for line, grade_id in solution_lines(SOLUTIONS / assignment / f"{assignment}.ipynb").items():
            found.setdefault(line, f"{assignment}/{grade_id}")
    return found


def leaks(text: str, solutions: dict[str, str]) -> list[str]:
    """The solution lines found in ``text``, each with where it comes from."""
    return [f"{solutions[line]}: {line}" for line in {line.strip() for line in text.splitlines()} if line in solutions]


def notebook_text(path: Path) -> str:
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return template.build(tmp_path_factory.mktemp("template") / "student")


def test_the_solutions_have_lines_to_look_for():
    solutions = all_solution_lines()
    assert {origin.split("/")[0] for origin in solutions.values()} == set(ASSIGNMENT_IDS)
    assert len(solutions) > 100


def test_the_search_finds_a_planted_leak():
    solutions = all_solution_lines()
    planted = next(line for line, origin in solutions.items() if origin.startswith("01_corr2d/corr2d"))
    assert leaks(f"def corr2d(X, K):\n    {planted}\n", solutions) == [f"01_corr2d/corr2d: {planted}"]


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_no_release_holds_a_solution_line_of_any_assignment(assignment):
    text = notebook_text(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    assert not [marker for marker in MARKERS if marker in text]
    assert leaks(text, all_solution_lines()) == []


def test_the_student_template_holds_no_solution_line_no_case_and_no_secret(built):
    files = [path for path in built.rglob("*") if path.is_file()]
    assert {"assignments", "autograder", "README.md", "pyproject.toml", ".github"} <= {p.name for p in built.iterdir()}
    assert {path.parent.name for path in files if path.suffix == ".ipynb"} == set(ASSIGNMENT_IDS)
    assert not (built / "autograder" / "cases").exists()
    secret = seeds.course_secret().decode()
    solutions = all_solution_lines()
    found = {}
    for path in files:
        text = notebook_text(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
        if secret and secret in text:
            found[str(path)] = ["the course secret"]
        if leaks(text, solutions):
            found[str(path.relative_to(built))] = leaks(text, solutions)
    assert found == {}


def test_the_template_can_hold_only_the_assignments_released_so_far(tmp_path):
    built = template.build(tmp_path / "student", ["01_corr2d"])
    assert [p.name for p in (built / "assignments").iterdir()] == ["01_corr2d"]
    with pytest.raises(ValueError, match="no release of 99_none"):
        template.build(tmp_path / "other", ["99_none"])
