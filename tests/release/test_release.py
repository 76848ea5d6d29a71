"""Is assignments/ exactly what nbgrader makes of solutions/, stored without outputs? (Leaks: test_leaks.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, ROOT, SOLUTIONS

NBGRADER = Path(sys.executable).parent / "nbgrader"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(SOLUTIONS, course / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    # Every assignment in one nbgrader process (a glob of assignment ids): nbgrader takes seconds to start.
    run = subprocess.run([str(NBGRADER), "generate_assignment", "[0-9][0-9]_*", "--force", "--no-db"],
                         cwd=course, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(path.name for path in (course / "assignments").iterdir()) == ASSIGNMENT_IDS
    return course / "assignments"


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_release_is_what_nbgrader_generates_today(regenerated, assignment):
    made = json.loads((regenerated / assignment / f"{assignment}.ipynb").read_text())
    kept = json.loads((ASSIGNMENTS / assignment / f"{assignment}.ipynb").read_text())
    assert made == kept, (f"assignments/{assignment} is stale: run "
                          f"`nbgrader generate_assignment {assignment} --force --no-db`")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_release_is_stored_without_outputs(assignment):
    release = nbformat.read(ASSIGNMENTS / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in release.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None

