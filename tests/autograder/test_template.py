"""Does the student template work on its own: the grader runs there, on public checks only?"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autograder import template
from autograder.items import PUBLIC_SHARE
from autograder.notebook import read_release
from tests.conftest import ASSIGNMENT_IDS, ASSIGNMENTS


@pytest.mark.slow
def test_the_template_grades_its_public_checks_without_the_hidden_cases(tmp_path):
    built = template.build(tmp_path / "student")
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "--json", str(out)], cwd=built,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    points = sum(sum(read_release(ASSIGNMENTS / a / f"{a}.ipynb").item_points().values()) for a in ASSIGNMENT_IDS)
    assert data["score"] == 0 and data["max_score"] == pytest.approx(points * PUBLIC_SHARE)
    assert all("public checks" in test["name"] for test in data["tests"])
    assert data["seeds"] == [] and "public checks only" in data["output"]
