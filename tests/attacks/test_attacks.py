"""Can a hostile submission earn a point the honest stub would not, or break grading?

Each file beside this one is an attack: the source of one solution cell, with a
`# tactic:` line. It is put into the blank release (every other cell a stub, so
an honest submission scores 0) and graded end to end by the command line's own
entry point (``cli.main``, in this process: the judge is whoever runs it), with
a canary token in the judge's environment and a server listening on 127.0.0.1.
Whatever the tactic, grading must finish, exit 0, write a valid results file
with score 0 that leaks no secret, and leave every file, port and process as it
was. Files dropped beside the notebook are graded by ``python -m autograder``
itself, since what they attack is the interpreter's start.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.sandbox.confine import isolation
from tests.support import ASSIGNMENTS, ATTACKS, ROOT, build_submission, header, run_cli

CANARY = "ghs_canary_0123456789"
PORT = 47613    # the port the attack files name: pointed at the listener's, a free one (others may run this too)
LEAKS = (CANARY, "def ref_corr2d", "BEGIN SOLUTION", "Grade notebooks: find them")
SECRET = (ROOT / "autograder" / "cases" / "course_secret").read_text().strip()  # the seeds' key: never to leak


def fingerprint() -> dict[str, str]:
    """Hashes of everything an attack could rewrite to win: grader, cases, releases, solutions, torch."""
    import torch

    files = [p for folder in ("autograder", "assignments", "solutions") for p in (ROOT / folder).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    files.append(Path(torch.__file__).parent / "functional.py")
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def tactic(path: Path) -> str:
    return header(path, "tactic")


@pytest.fixture(scope="module")
def listener():
    """A server on a free port of 127.0.0.1 that keeps the connections it gets: (port, connections)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append(connection)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def untouched():
    return fingerprint()


# Short deadlines, set the judge's way (its environment; the worker's is empty): hangs stay cheap here.
DEADLINES = {"AUTOGRADER_CALL_SECONDS": "3", "AUTOGRADER_LOAD_SECONDS": "5", "AUTOGRADER_BUDGET_SECONDS": "8"}
JUDGE_ENVIRONMENT = {"GITHUB_TOKEN": CANARY, "CI": "true", "GITHUB_ACTIONS": "true", **DEADLINES}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str = ""


def grade(path: Path, out: Path) -> tuple[Run, dict]:
    """``python -m autograder grade`` as the CLI runs it, in this process, from ``out``."""
    saved_environment, saved_directory = dict(os.environ), os.getcwd()
    os.environ.update(JUDGE_ENVIRONMENT)
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    os.chdir(out)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            status = cli.main(["grade", str(path), "--json", str(out / "results.json"), "--release", str(ASSIGNMENTS)])
    finally:
        os.chdir(saved_directory)
        os.environ.clear()
        os.environ.update(saved_environment)
    return Run(status, printed.getvalue()), json.loads((out / "results.json").read_text())


def grade_by_command(path: Path, out: Path) -> tuple[subprocess.CompletedProcess, dict]:
    env = dict(os.environ, **JUDGE_ENVIRONMENT)
    env.pop("GITHUB_STEP_SUMMARY", None)
    run = run_cli("grade", path, "--json", out / "results.json", "--release", ASSIGNMENTS, cwd=out, env=env,
                  timeout=900)
    return run, json.loads((out / "results.json").read_text())


def stray_processes() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "sleep 4242" in command or "sleep 4243" in command:
            found.append(f"{entry.name}: {command}")
    return found


@pytest.mark.parametrize("attack", ATTACKS, ids=[p.stem for p in ATTACKS])
def test_an_attack_earns_nothing_and_breaks_nothing(attack, tmp_path, listener, untouched):
    if "# needs: namespaces" in attack.read_text() and not isolation().namespaces:
        pytest.skip("this machine allows no namespaces: the worker cannot be walled off (see autograder/README.md)")
    port, connections = listener
    overrides = {header(attack, "replaces"): attack.read_text().replace(str(PORT), str(port))}
    path = build_submission(tmp_path / "submission", "01_corr2d", overrides, solved=False)
    run, data = grade(path, tmp_path)
    assert run.returncode == 0, f"{tactic(attack)}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert data["score"] == 0, f"{tactic(attack)}: scored {data['score']}"
    assert data["max_score"] == 11
    text = json.dumps(data) + run.stdout
    for leak in (*LEAKS, SECRET):
        assert leak not in text, f"{tactic(attack)}: the feedback leaks {leak!r}"
    assert not connections, f"{tactic(attack)}: a connection reached 127.0.0.1:{port}"
    assert not stray_processes(), f"{tactic(attack)}: processes outlived grading"
    assert fingerprint() == untouched, f"{tactic(attack)}: files of the course changed"


def test_files_dropped_next_to_the_notebook_change_nothing(tmp_path):
    """conftest.py, pytest.ini, sitecustomize.py, numpy.py and torch.py beside the submission."""
    path = build_submission(tmp_path / "submission", "01_corr2d", solved=False)
    hostile = ("import pytest\n@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_makereport(item, call):\n"
               "    call.excinfo = None\nraise SystemExit('hijacked')\n")
    for name in ("conftest.py", "sitecustomize.py", "usercustomize.py", "numpy.py", "torch.py"):
        (path.parent / name).write_text(hostile)
    (path.parent / "pytest.ini").write_text("[pytest]\naddopts = -p no:python --co\n")
    run, data = grade_by_command(path, path.parent)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert data["score"] == 0 and data["max_score"] == 11
    assert any("NotImplementedError" in test["output"] for test in data["tests"])


@pytest.mark.parametrize("change", ["nbformat 3", "kernel renamed", "cell ids changed", "solution cell duplicated"])
def test_a_reshaped_notebook_is_still_graded_fairly(tmp_path, change):
    """Malformed but honest: every point still counts (duplicates: the first copy is graded)."""
    path = build_submission(tmp_path, "01_corr2d")
    notebook = nbformat.read(path, as_version=4)
    if change == "kernel renamed":
        notebook.metadata["kernelspec"] = {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}
    elif change == "cell ids changed":
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"renamed-{index}"
    elif change == "solution cell duplicated":
        index = next(i for i, c in enumerate(notebook.cells)
                     if c.metadata.get("nbgrader", {}).get("grade_id") == "corr2d")
        twin = nbformat.v4.new_code_cell("def corr2d(X, K):\n    return X\n", metadata=notebook.cells[index].metadata)
        notebook.cells.insert(index + 1, twin)
    if change == "nbformat 3":
        path.write_text(nbformat.writes(nbformat.convert(notebook, 3)))
    else:
        nbformat.write(notebook, path)
    run, data = grade(path, tmp_path)
    assert run.returncode == 0
    assert data["score"] == data["max_score"] == 11, [t["output"] for t in data["tests"] if t["output"]]
