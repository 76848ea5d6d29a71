"""Does the student template work on its own: the grader runs there, on public checks only? Does a failed build
leave nothing behind?"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.grading.declarations import PUBLIC_SHARE
from autograder.notebook import read_release
from autograder.release import repository as template
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, run_cli


def test_the_template_grades_its_public_checks_without_the_hidden_cases(tmp_path):
    built = template.build(tmp_path / "student")
    out = tmp_path / "results.json"
    run = run_cli("grade", "--json", out, cwd=built)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    points = sum(sum(read_release(ASSIGNMENTS / a / f"{a}.ipynb").item_points().values()) for a in ASSIGNMENT_IDS)
    assert data["score"] == 0 and data["max_score"] == pytest.approx(points * PUBLIC_SHARE)
    assert all("public checks" in test["name"] for test in data["tests"])
    assert data["seeds"] == [] and "public checks only" in data["output"]


def test_release_builds_a_repository_that_installs_and_grades_as_its_workflow_says(tmp_path):
    """The workflow's own commands, in the built repository: install it (offline, with this project's
    packages under it), then grade the public checks as on a push: job summary and Points notice."""
    import sysconfig

    import yaml

    out = tmp_path / "student"
    run = run_cli("release", out, "--assignments", "01_corr2d", timeout=120)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (out / "assignments").iterdir()) == ["01_corr2d"]
    again = run_cli("release", out)
    assert again.returncode == 2 and "exists already" in again.stderr

    workflow = yaml.safe_load((out / ".github" / "workflows" / "grade.yml").read_text())
    steps = {step.get("name"): step.get("run", "") for step in workflow["jobs"]["grade"]["steps"]}
    install, grade = steps["Install the grader (CPU torch)"], steps["Grade the public checks"]
    assert "-e ." in install and grade.startswith("python -m autograder grade assignments --public-only")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "project-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")   # torch & co., offline
    # the venv's own old setuptools would shadow this project's (which builds editable wheels)
    subprocess.run([python, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"], check=True, timeout=120)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "-e", "."], cwd=out, check=True, timeout=300, capture_output=True)
    where = subprocess.run([python, "-c", "import autograder; print(autograder.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(out / "autograder"))

    summary = tmp_path / "summary.md"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "GITHUB_ACTIONS": "true",
           "GITHUB_STEP_SUMMARY": str(summary)}
    graded = subprocess.run(grade, shell=True, cwd=out, env=env, capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    data = json.loads((out / "results.json").read_text())
    points = sum(read_release(ASSIGNMENTS / "01_corr2d" / "01_corr2d.ipynb").item_points().values())
    assert data["max_score"] == pytest.approx(points * PUBLIC_SHARE)
    assert f"::notice title=Autograder::Points 0/{data['max_score']:g}" in graded.stdout
    assert "**Points 0/" in summary.read_text()


def test_an_assignment_named_twice_is_released_once(tmp_path, capsys):
    out = tmp_path / "student"
    assert cli.main(["release", str(out), "--assignments", "01_corr2d", "03_pooling", "01_corr2d"]) == 0
    assert sorted(p.name for p in (out / "assignments").iterdir()) == ["01_corr2d", "03_pooling"]
    assert "01_corr2d, 03_pooling;" in capsys.readouterr().out


def test_an_unknown_assignment_is_a_usage_error_that_names_the_released_ones(tmp_path, capsys):
    out = tmp_path / "student"
    assert cli.main(["release", str(out), "--assignments", "01_corr2d", "9_nope"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: no release of 9_nope under ") and ", ".join(ASSIGNMENT_IDS) in error
    assert not out.exists()


@pytest.mark.parametrize("interruption", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_build_that_stops_halfway_leaves_no_folder(tmp_path, monkeypatch, capsys, interruption):
    copies = []

    def copy_then_stop(source, target, *args, **kwargs):       # the notebooks and the grader are copied by then
        copies.append(target)
        raise interruption

    monkeypatch.setattr(template.shutil, "copy2", copy_then_stop)
    out = tmp_path / "student"
    with pytest.raises(type(interruption)):
        template.build(out, ["01_corr2d"])
    assert copies and not out.exists()
    if isinstance(interruption, OSError):
        assert cli.main(["release", str(out)]) == 1
        assert "No space left on device" in capsys.readouterr().err and not out.exists()
