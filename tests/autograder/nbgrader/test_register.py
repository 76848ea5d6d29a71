"""Does the formgrader's page of a submission hold the release's cells and metadata, whatever the student did to
theirs, and grade untouched answers as nbgrader does, without running anything? Does the formgrader itself,
under Jupyter, list a registered class and take grades that `written merge` brings in?"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.model import Entry, NotebookResult
from autograder.nbgrader.register import autograded_notebook, load_release_notebooks, read_roster
from autograder.report import results as report
from tests.support import ASSIGNMENTS, ROOT, build_submission

ASSIGNMENT = "01_corr2d"
RELEASE = load_release_notebooks(ASSIGNMENTS)[ASSIGNMENT]


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def cell_of(notebook, name: str):
    return next(cell for cell in notebook.cells if grade_id(cell) == name)


def results(fraction: float = 1.0) -> dict:
    entries = [Entry(ASSIGNMENT, test.removeprefix("test_"), "hidden", fraction * float(cell.metadata.nbgrader.points),
                     float(cell.metadata.nbgrader.points))
               for test, cell in RELEASE.graded_cells().items()
               if cell.metadata.nbgrader.get("grade") and not cell.metadata.nbgrader.get("solution")]
    graded = NotebookResult("x.ipynb", ASSIGNMENT, entries)
    graded.manual = [{"name": f"{ASSIGNMENT}/{name}: written answer", "assignment": ASSIGNMENT, "grade_id": name,
                      "max_score": float(meta.points)} for name, meta in
                     ((name, cell.metadata.nbgrader) for name, cell in RELEASE.graded_cells().items())
                     if meta.get("grade") and meta.get("solution")]
    return report.results_json([graded])


def submission(tmp_path):
    return nbformat.read(build_submission(tmp_path, ASSIGNMENT), as_version=4)


def test_untouched_answers_score_0_typed_ones_wait_and_test_cells_carry_the_results(tmp_path):
    notebook = submission(tmp_path)
    cell_of(notebook, "explain_flip").source = "Flipping both axes turns correlation into convolution."
    page = autograded_notebook(notebook, RELEASE, results(0.5))
    assert page.auto_scores["explain_flip"] is None and page.auto_scores["explain_transpose"] == 0
    assert page.auto_comments["explain_transpose"] == "No response." and page.auto_comments["explain_flip"] is None
    assert page.auto_scores["test_corr2d"] == 2 and page.auto_scores["test_receptive_field"] == 1
    assert "corr2d: 2 of 4 points" in cell_of(page.notebook, "test_corr2d").outputs[0]["text"]
    nbformat.validate(page.notebook)


def test_the_page_keeps_the_releases_cells_and_none_of_the_students_metadata(tmp_path):
    notebook = submission(tmp_path)
    flip = cell_of(notebook, "explain_flip")
    flip.cell_type, flip.outputs, flip.execution_count = "code", [], None        # turned into a code cell
    flip.metadata.nbgrader["points"] = 100                                        # and worth more
    test = cell_of(notebook, "test_corr2d")
    test.source = "pass  # no checks"
    test.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<script>steal()</script>"})]
    notebook.cells.append(copy.deepcopy(cell_of(notebook, "corr2d")))             # a second corr2d cell
    notebook.cells.append(nbformat.v4.new_raw_cell("<script>steal()</script>", metadata={"format": "text/html"}))
    notebook.cells.append(nbformat.v4.new_markdown_cell("<img src=x onerror=steal()>",
                                                        attachments={"a.png": {"image/png": "AA=="}}))
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell_of(notebook, "corr2d").metadata["tags"] = ["raises-exception"]
    page = autograded_notebook(notebook, RELEASE, results()).notebook
    release = RELEASE.notebook
    assert page.metadata == release.metadata
    assert cell_of(page, "explain_flip").cell_type == "markdown"
    assert cell_of(page, "explain_flip").metadata.nbgrader == cell_of(release, "explain_flip").metadata.nbgrader
    assert cell_of(page, "test_corr2d").source == cell_of(release, "test_corr2d").source
    assert [kind for output in cell_of(page, "test_corr2d").outputs for kind in output.get("data", {})] == []
    assert sum(grade_id(cell) == "corr2d" for cell in page.cells) == 1           # nbgrader's DeduplicateIds
    assert cell_of(page, "corr2d").metadata == {"nbgrader": cell_of(release, "corr2d").metadata.nbgrader}
    raw, markdown = page.cells[-2:]
    assert raw.cell_type == "markdown" and raw.source.startswith("```") and "format" not in raw.metadata
    assert markdown.source.startswith("```") and "attachments" not in markdown
    assert len({cell.id for cell in page.cells}) == len(page.cells)
    nbformat.validate(page)


def test_a_deleted_answer_comes_back_as_released_and_scores_0(tmp_path):
    notebook = submission(tmp_path)
    notebook.cells = [cell for cell in notebook.cells if grade_id(cell) not in ("explain_flip", "test_Conv2D")]
    page = autograded_notebook(notebook, RELEASE, results())
    order = [grade_id(cell) for cell in page.notebook.cells if grade_id(cell)]
    assert order == [grade_id(cell) for cell in RELEASE.notebook.cells if grade_id(cell)]
    assert page.auto_scores["explain_flip"] == 0 and page.auto_scores["test_Conv2D"] == 2


def test_a_missing_notebook_scores_0_everywhere():
    page = autograded_notebook(None, RELEASE, results())
    assert set(page.auto_scores.values()) == {0}


def test_a_roster_of_either_kind_names_the_students(tmp_path):
    (tmp_path / "nbgrader.csv").write_text("id,first_name,last_name,email\nann,Ann,Lee,ann@example.org\nbo,,,\n")
    (tmp_path / "collect.csv").write_text("student,github\nann,ann-gh\n")
    assert read_roster(tmp_path / "nbgrader.csv") == {"ann": {"first_name": "Ann", "last_name": "Lee",
                                                              "email": "ann@example.org"}, "bo": {}}
    assert read_roster(tmp_path / "collect.csv") == {"ann": {}}
    (tmp_path / "bad.csv").write_text("name\nann\n")
    with pytest.raises(Exception, match="'id' or a 'student' column"):
        read_roster(tmp_path / "bad.csv")


def test_a_new_database_gets_the_schema_version_nbgraders_alembic_gives(monkeypatch):
    from nbgrader.api import get_alembic_version

    from autograder.nbgrader.database import _alembic_head

    monkeypatch.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}")
    assert _alembic_head() == get_alembic_version()


# -- the formgrader itself, under Jupyter (slow: starts a Jupyter server) ---------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_formgrader_lists_a_registered_class_and_its_grades_reach_the_gradebook(tmp_path):
    import json
    import urllib.request

    from autograder.cli import main

    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")    # the formgrader reads it, as a course
    for number, student in enumerate(("ann", "ben")):
        build_submission(root / "submitted" / student, ASSIGNMENT)
        report.write_json(results(number / 2), root / "gradebook" / student / "results.json")
    notebook = root / "submitted" / "ann" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    typed = nbformat.read(notebook, as_version=4)
    cell_of(typed, "explain_flip").source = "It flips. <script>document.title='pwned'</script>"
    nbformat.write(typed, notebook)
    (root / "submitted" / "ann" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-15T23:00:00+01:00")
    assert main(["written", "register", str(root / "submitted"), "--out", str(root / "gradebook")]) == 0

    port, token = _free_port(), "written-answers-test"
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "jupyter"), "server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def call(path: str, body: dict | None = None):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="PUT" if body else "GET",
                                         data=json.dumps(body).encode() if body else None,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            text = reply.read().decode()
        return json.loads(text) if path.startswith("/formgrader/api/") else text

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                call("/formgrader/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the Jupyter server did not start: {server.stderr.read()}") from None
                time.sleep(0.5)
        listed = call(f"/formgrader/api/submissions/{ASSIGNMENT}")
        assert [(s["student"], s["autograded"]) for s in listed] == [("ann", True), ("ben", True)]
        assert listed[0]["timestamp"] == "2026-12-15T22:00:00" and listed[0]["needs_manual_grade"]
        pages = call(f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
        ann = next(page for page in pages if page["student"] == "ann")
        html = call(f"/formgrader/submissions/{ann['id']}/")
        assert "It flips." in html and "<script>document.title" not in html     # shown as text
        grades = {g["name"]: g for g in call(f"/formgrader/api/grades?submission_id={ann['id']}")}
        comments = {c["name"]: c for c in call(f"/formgrader/api/comments?submission_id={ann['id']}")}
        assert grades["explain_transpose"]["auto_score"] == 0 and grades["explain_flip"]["auto_score"] is None
        call(f"/formgrader/api/grade/{grades['explain_flip']['id']}", {"manual_score": 1.5})     # the TA's form
        call(f"/formgrader/api/comment/{comments['explain_flip']['id']}", {"manual_comment": "Which axes?"})
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert main(["written", "merge", str(root / "gradebook")]) == 0
    data = json.loads((root / "gradebook" / "ann" / "results.json").read_text())
    flip = next(entry for entry in data["manual"] if entry["grade_id"] == "explain_flip")
    assert (flip["score"], flip["comment"], data["manual_pending"]) == (1.5, "Which axes?", 0)
    assert "Which axes?" in (root / "gradebook" / "ann" / "feedback.md").read_text()
