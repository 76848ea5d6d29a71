"""The repository itself: pinned environments agree, workflows are valid, CI runs the README's command."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml  # PyYAML: a dependency of nbgrader, so always installed with the course

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIRS = [ROOT / ".github" / "workflows", ROOT / "student-template" / ".github" / "workflows"]
WORKFLOWS = sorted(path for folder in WORKFLOW_DIRS for path in folder.glob("*.yml"))
STUDENT_WORKFLOW = ROOT / "student-template" / ".github" / "workflows" / "grade.yml"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$")


def pins(requirements: list[str]) -> set[str]:
    """'name==version' with the name normalised as pip does (case, '_' and '.' are '-')."""
    found = set()
    for requirement in requirements:
        match = PIN.match(requirement.strip())
        if match:
            found.add(f"{re.sub(r'[-_.]+', '-', match[1]).lower()}=={match[2]}")
    return found


def test_environment_yml_pins_the_same_versions_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["hub"] + project["optional-dependencies"]["dev"]
    assert len(pins(wanted)) == len(wanted), f"pyproject.toml has an unpinned requirement: {wanted}"

    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert environment["name"] == "cnn-course"
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    pip_lists = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict) and "pip" in entry]
    assert len(pip_lists) == 1, "environment.yml needs exactly one `pip:` list"
    pip = [str(entry) for entry in pip_lists[0]]

    missing, extra = pins(wanted) - pins(pip), pins(pip) - pins(wanted)
    assert not missing and not extra, (
        f"environment.yml and pyproject.toml disagree: only in pyproject.toml {sorted(missing)}, "
        f"only in environment.yml {sorted(extra)}")
    unpinned = [entry for entry in pip if not PIN.match(entry.strip()) and entry.strip() != "-e ."
                and not entry.startswith("--")]
    assert not unpinned, f"environment.yml installs unpinned packages: {unpinned}"
    assert pip[-1].strip() == "-e .", "environment.yml should end its pip list with `-e .`"

    pythons = [entry for entry in conda if re.match(r"python\s*[=<>]", entry)]
    assert pythons == ["python=3.11"], f"environment.yml python: {pythons}"
    assert project["requires-python"] == ">=3.11", f"pyproject.toml requires-python: {project['requires-python']}"


def dev_tool(name: str) -> Path:
    """A tool of the dev extra, installed beside this interpreter (skip the test without it)."""
    tool = Path(sys.executable).parent / name
    if not tool.exists():
        pytest.skip(f"{name} is not installed next to {sys.executable} (pip install -e '.[dev]')")
    return tool


def test_workflows_are_valid_github_actions():
    checker = dev_tool("check-jsonschema")
    # --builtin-schema uses the schema vendored in check-jsonschema: no download, works offline.
    # One run for all the workflows: each start of the checker costs seconds.
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"a workflow is not valid GitHub Actions:\n{result.stdout}\n{result.stderr}"


def test_there_are_workflows_to_check():
    names = {str(path.relative_to(ROOT)) for path in WORKFLOWS}
    assert {".github/workflows/ci.yml", ".github/workflows/grade-submissions.yml",
            ".github/workflows/scores-on-every-push.yml",
            "student-template/.github/workflows/grade.yml"} <= names, f"workflows found: {sorted(names)}"


def test_ci_runs_the_readme_test_command():
    readme, runner = ROOT / "README.md", ROOT / ".ci" / "run"
    assert readme.is_file(), "README.md is missing"
    assert runner.is_file(), ".ci/run is missing"
    assert "bash .ci/run" in readme.read_text(encoding="utf-8"), "README.md does not give the test command bash .ci/run"
    assert re.search(r"-m pytest( -\S+(=\S+| [\w.]+)?)* tests$", runner.read_text(encoding="utf-8"), re.M), \
        ".ci/run does not run `python -m pytest [options] tests`"
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s*run:\s*(sudo\s.*\s)?bash \.ci/run\s*$", ci, re.M), "ci.yml does not run `bash .ci/run`"


def test_student_workflow_holds_no_secret_and_no_hidden_case():
    text = STUDENT_WORKFLOW.read_text(encoding="utf-8")
    assert "secrets." not in text, "the student workflow must use no secret"
    assert "autograder/cases" not in text, "the student workflow must not refer to the hidden cases"
    grade_lines = [line for line in text.splitlines() if "python -m autograder grade" in line]
    assert grade_lines, "the student workflow does not run the grader"
    assert all("--public-only" in line for line in grade_lines), f"grading without --public-only: {grade_lines}"


def test_the_instructor_workflow_grades_the_class_in_shards_and_merges_with_commands_the_cli_takes():
    import shlex

    import yaml

    from autograder.cli import build_parser

    text = (ROOT / ".github" / "workflows" / "grade-submissions.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    shards = workflow["jobs"]["grade"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1)), "the matrix must cover shards 1..SHARDS"
    commands = [line.split("python -m autograder", 1)[1] for line in text.splitlines()
                if "python -m autograder" in line and "run:" in line]
    grading, merging, viewing = commands
    filled = grading.replace('"$(nproc)"', "2").replace('"${{ matrix.shard }}/${SHARDS}"', "1/2")
    args = build_parser().parse_args(shlex.split(filled.replace('"gradebook-shard-${{ matrix.shard }}"', "g1")))
    assert args.verb == "grade-all" and str(args.submitted) == "submitted" and args.shard == (1, 2)
    assert not args.public_only, "the instructor grades with the hidden cases"
    merged = build_parser().parse_args(shlex.split(merging.replace("gradebook-shard-*", "g1 g2")))
    assert merged.verb == "merge" and [str(p) for p in merged.shards] == ["g1", "g2"]
    view = build_parser().parse_args(shlex.split(viewing))
    assert view.verb == "class-report" and str(view.gradebook) == "gradebook" and str(view.submitted) == "submitted"
    assert text.count("persist-credentials: false") == 2 and text.count("cache: pip") == 2


def test_workflows_pass_zizmors_security_audit():
    """Actions pinned to commits, no credentials left in checkouts, no template injection: zizmor finds nothing."""
    zizmor = dev_tool("zizmor")
    result = subprocess.run([str(zizmor), "--offline", "--no-progress", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"zizmor reports findings:\n{result.stdout}\n{result.stderr}"
    assert "No findings to report" in result.stdout + result.stderr


def test_scores_on_every_push_keep_every_token_out_of_the_job_that_runs_student_code():
    """fetch and publish hold a token and run no student code; grade runs it and holds nothing."""
    import shlex

    from autograder.cli import build_parser

    path = ROOT / ".github" / "workflows" / "scores-on-every-push.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    assert workflow["permissions"] == {} and "env" not in workflow
    assert set(jobs) == {"fetch", "grade", "publish"}
    grade = jobs["grade"]
    assert grade["permissions"] == {} and "env" not in grade
    assert "secrets." not in yaml.safe_dump(grade) and "token" not in yaml.safe_dump(grade).lower()
    assert not any("checkout" in step.get("uses", "") for step in grade["steps"]), "grade needs no GITHUB_TOKEN"
    assert jobs["publish"]["permissions"] == {} and jobs["fetch"]["permissions"] == {"contents": "read"}

    def commands(job):
        """(verb arguments, step) of every `python -m autograder` the job runs."""
        for step in jobs[job]["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            for line in script.splitlines():
                if "python -m autograder " in line:
                    yield line.split("python -m autograder ", 1)[1], step

    for job in ("fetch", "publish"):
        assert "env" not in jobs[job], f"{job}: a token in the job's environment reaches every step"
        for step in jobs[job]["steps"]:
            holds = "secrets." in yaml.safe_dump(step)
            if holds and "create-github-app-token" not in step.get("uses", ""):
                verbs = [shlex.split(line)[0] for line, owner in commands(job) if owner is step]
                assert verbs in (["fetch"], ["publish"]), f"{job}: a step with a secret runs {verbs}"
        assert not any(line.split()[0] in ("grade", "grade-all") for line, _ in commands(job)), \
            f"{job} holds a token and must not grade"
    parser = build_parser()
    (grading, _), = commands("grade")
    filled = (grading.replace('"$(nproc)"', "2").replace('"$SHARD/$RUNNERS"', "1/3")
              .replace('"${assignments[@]}"', "01_corr2d").replace('"gradebook-shard-$SHARD"', "g1"))
    args = parser.parse_args(shlex.split(filled))
    assert args.verb == "grade-all" and args.shard == (1, 3) and not args.public_only
    assert args.assignments == ["01_corr2d"]
    (fetching, _), = commands("fetch")
    args = parser.parse_args(shlex.split(fetching.replace('"${students[@]}"', "--all")
                                         .replace('"${regrade[@]}"', "--regrade")))
    assert args.verb == "fetch" and args.whole_org and args.regrade and str(args.into) == "inbox/submitted"
    posting = [line for line, _ in commands("publish") if line.startswith("publish")]
    posted = parser.parse_args(shlex.split(posting[0].replace('"$PASS_AT"', "0.8")))
    assert posted.verb == "publish" and posted.pass_at == 0.8 and str(posted.gradebook) == "inbox/gradebook"
    assert grade["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.fetch.outputs.shards) }}"
