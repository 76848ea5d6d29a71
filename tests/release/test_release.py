"""Is assignments/ exactly what nbgrader makes of solutions/, and does it leak nothing?"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ASSIGNMENT_IDS, ASSIGNMENTS, ROOT, SOLUTIONS, solution_code

NBGRADER = Path(sys.executable).parent / "nbgrader"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(SOLUTIONS, course / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in ASSIGNMENT_IDS:
        run = subprocess.run([str(NBGRADER), "generate_assignment", assignment, "--force", "--no-db"],
                             cwd=course, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
    return course / "assignments"


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_release_is_what_nbgrader_generates_today(regenerated, assignment):
    made = json.loads((regenerated / assignment / f"{assignment}.ipynb").read_text())
    kept = json.loads((ASSIGNMENTS / assignment / f"{assignment}.ipynb").read_text())
    assert made == kept, (f"assignments/{assignment} is stale: run "
                          f"`nbgrader generate_assignment {assignment} --force --no-db`")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_release_holds_no_solution_and_no_hidden_case(assignment):
    text = (ASSIGNMENTS / assignment / f"{assignment}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "run_hidden", "autograder.cases"):
        assert marker not in text, marker
    release = nbformat.reads(text, as_version=4)
    released_lines = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    for grade_id in solution_code(assignment):
        body = _solution_regions((SOLUTIONS / assignment / f"{assignment}.ipynb"), grade_id)
        leaked = [line for line in body if len(line) > 12 and line in released_lines]
        assert not leaked, f"solution lines of {grade_id} appear in the release: {leaked[:3]}"


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_release_is_stored_without_outputs(assignment):
    release = nbformat.read(ASSIGNMENTS / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in release.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def _solution_regions(path: Path, grade_id: str) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    lines, inside = [], False
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and line.strip() and not line.strip().startswith("#"):
                lines.append(line.strip())
    return lines
