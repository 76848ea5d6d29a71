"""Does the command line keep its contract: one results file, the right exit status?"""

from __future__ import annotations

import json
import os

import pytest

from tests.support import ASSIGNMENTS, ROOT, run_cli


def grade(*args, cwd, env=None):
    return run_cli("grade", *args, cwd=cwd, env=env)


def test_grading_the_release_folder_writes_one_results_file(tmp_path):
    out = tmp_path / "out" / "results.json"
    run = grade(str(ASSIGNMENTS), "--json", str(out), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    assert data["score"] == 0 and data["max_score"] > 0
    assert "total" in run.stdout and "01_corr2d/corr2d" in run.stdout


def test_a_path_that_names_nothing_is_a_usage_error_with_a_results_file(tmp_path):
    out = tmp_path / "results.json"
    run = grade(str(tmp_path / "nothing-here"), "--json", str(out), cwd=ROOT)
    assert run.returncode == 2
    data = json.loads(out.read_text())
    assert data["score"] == 0 and "no such file or folder" in data["output"]


def test_inside_github_actions_it_writes_a_job_summary(tmp_path):
    summary = tmp_path / "summary.md"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary), "HOME": str(tmp_path)}
    missing = tmp_path / "01_corr2d" / "01_corr2d.ipynb"
    run = grade(str(missing), "--json", str(tmp_path / "r.json"), cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "::notice title=Autograder::Points 0/" in run.stdout
    assert r"| 01\_corr2d/" in summary.read_text()


def test_nbgrader_submission_folders_are_found_at_any_depth(tmp_path):
    from tests.support import build_submission

    for student in ("alice", "bob"):
        build_submission(tmp_path / "submitted" / student, "01_corr2d", solved=False)
    out = tmp_path / "results.json"
    run = grade(str(tmp_path / "submitted"), "--json", str(out), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    assert data["max_score"] == 22 and "alice" in data["output"] and "bob" in data["output"]


def flipped_on_one_axis(directory):
    """A partly wrong 01: conv2d_strict flips the rows only, so its hidden failures print input-dependent errors."""
    from tests.support import SAMPLES, build_submission, read_sample

    overrides, _, _ = read_sample(SAMPLES / "01_corr2d" / "conv2d_strict_flips_one_axis.py")
    return build_submission(directory, "01_corr2d", overrides)


@pytest.fixture(scope="module")
def regraded(tmp_path_factory):
    """Alice's partly wrong 01, graded five times: (the notebook, the five results files)."""
    from autograder import cli

    tmp = tmp_path_factory.mktemp("regrades")
    notebook = flipped_on_one_axis(tmp / "submitted" / "alice")
    files = []
    for attempt in range(5):
        files.append(tmp / f"results-{attempt}.json")
        assert cli.main(["grade", str(notebook), "--json", str(files[-1])]) == 0
    return notebook, files


def test_five_regrades_of_a_partly_wrong_notebook_write_identical_results_files(regraded):
    _, files = regraded
    texts = {path.read_bytes() for path in files}
    assert len(texts) == 1, "a regrade changed the results file"
    data = json.loads(files[0].read_text())
    assert 0 < data["score"] < data["max_score"]
    assert data["seeds"][0]["from"] == "student 'alice'"


def test_a_failure_replays_with_its_seed_for_anyone(regraded, tmp_path):
    from autograder import cli

    notebook, (first, *_) = regraded
    failed = [t for t in json.loads(first.read_text())["tests"] if t["status"] == "failed"]
    assert failed and all("max abs error" in t["output"] or "raised" in t["output"] for t in failed[1:])
    command = failed[-1]["output"].splitlines()[-1]
    assert command.startswith("replay: python -m autograder grade ")
    seed = command.split("--seed ")[1]

    copy = tmp_path / "elsewhere" / "01_corr2d.ipynb"     # no student folder: seeded by its content
    copy.parent.mkdir()
    copy.write_bytes(notebook.read_bytes())
    replayed, other = tmp_path / "replayed.json", tmp_path / "other.json"
    assert cli.main(["grade", str(copy), "--seed", seed, "--json", str(replayed)]) == 0
    assert cli.main(["grade", str(copy), "--json", str(other)]) == 0

    def outputs(path, notebook):
        tests = json.loads(path.read_text())["tests"]
        return [t["output"].replace(str(notebook), "NOTEBOOK") for t in tests]

    def errors(path):   # the messages alone, without the replay line
        return [line for t in json.loads(path.read_text())["tests"] for line in t["output"].splitlines()
                if not line.startswith("replay:")]

    assert outputs(replayed, copy) == outputs(first, notebook)
    assert errors(other) != errors(first), "the same hidden inputs without the seed?"


def test_a_blank_01_report_fits_40_lines_of_100_columns(tmp_path):
    """The student's first grading: every item of the blank release, one line each (issue 23)."""
    env = dict(os.environ, COLUMNS="100")
    run = run_cli("grade", ASSIGNMENTS / "01_corr2d" / "01_corr2d.ipynb", "--json", tmp_path / "r.json", env=env)
    lines = run.stdout.splitlines()
    assert len(lines) <= 40 and max(map(len, lines)) <= 100, run.stdout
    assert sum("not attempted" in line for line in lines) == 5, run.stdout
    assert "NotImplementedError" in json.loads((tmp_path / "r.json").read_text())["tests"][1]["output"]
