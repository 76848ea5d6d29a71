"""Does the command line keep its contract: one results file, the right exit status?"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ASSIGNMENTS, ROOT

pytestmark = pytest.mark.slow


def run_cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=env)


def test_grading_the_release_folder_writes_one_results_file(tmp_path):
    out = tmp_path / "out" / "results.json"
    run = run_cli(str(ASSIGNMENTS), "--json", str(out), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    assert data["score"] == 0 and data["max_score"] > 0
    assert "total" in run.stdout and "01_corr2d/corr2d" in run.stdout


def test_a_path_that_names_nothing_is_a_usage_error_with_a_results_file(tmp_path):
    out = tmp_path / "results.json"
    run = run_cli(str(tmp_path / "nothing-here"), "--json", str(out), cwd=ROOT)
    assert run.returncode == 2
    data = json.loads(out.read_text())
    assert data["score"] == 0 and "no such file or folder" in data["output"]


def test_inside_github_actions_it_writes_a_job_summary(tmp_path):
    summary = tmp_path / "summary.md"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary), "HOME": str(tmp_path)}
    missing = tmp_path / "01_corr2d" / "01_corr2d.ipynb"
    run = run_cli(str(missing), "--json", str(tmp_path / "r.json"), cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "::notice title=Autograder::Points 0/" in run.stdout
    assert "| 01_corr2d/" in summary.read_text()


def test_nbgrader_submission_folders_are_found_at_any_depth(tmp_path):
    from tests.conftest import build_submission

    for student in ("alice", "bob"):
        build_submission(tmp_path / "submitted" / student, "01_corr2d", solved=False)
    out = tmp_path / "results.json"
    run = run_cli(str(tmp_path / "submitted"), "--json", str(out), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    assert data["max_score"] == 22 and "alice" in data["output"] and "bob" in data["output"]
