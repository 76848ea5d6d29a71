"""nbgrader as instructors know it, on this repository: generate_assignment, autograde, generate_feedback and
export work for every assignment, and the score nbgrader records is the autograder's, item by item.

A temporary nbgrader course is made of this repository's solutions/ and nbgrader_config.py (whose
autograde step scores each test cell as the autograder scores its item: autograder/nbgrader/parity.py).
"""

from __future__ import annotations

import concurrent.futures
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline import grade_notebook, load_releases
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, ROOT, SAMPLES, build_submission, read_sample

# 01's class: the solution, the blank release, a mistake, and a break of the from-scratch rule that
# costs the items built on it too (it goes through getattr and importlib).
CLASS_01 = {"alice": "solution", "bob": "blank", "carol": "conv2d_layer_without_bias.py",
            "dave": "corr2d_cheats_through_getattr.py", "mallory": "patches the kernel", "trudy": "fills the disk"}
# Hostile students of the kernel that `nbgrader autograde` runs (blank notebooks otherwise):
# mallory takes __import__ from the builtins (no flagged name), replaces what scores her test cells,
# and prints the course secret and the hidden cases into her notebook; trudy writes beside the course.
SECRET = (ROOT / "autograder" / "cases" / "course_secret").read_text().strip()
HIDDEN_SOURCE = ("def ref_receptive_field", "def test_corr2d_random_shapes_float32", "def edge_data")
PATCH_THE_KERNEL = """
_import = getattr(globals()["__builtins__"], "__import__")
_points = {"corr2d": 4.0, "Conv2D": 2.0, "learn_kernel": 2.0, "conv2d_strict": 1.0, "receptive_field": 2.0}
try:
    _inline = _import("autograder.nbgrader.kernel", fromlist=["grade_item"])
    _inline.grade_item = lambda item_id, namespace: _points[item_id.split("/")[1]]
    _inline.run_hidden = lambda item_id, namespace: None
    print("secret:", _import("autograder.judge.seeds", fromlist=["x"]).course_secret())
    with open(_import("autograder.judge.plugin", fromlist=["x"]).cases_file("01_corr2d")) as _handle:
        print(_handle.read())
except Exception as error:
    print("the kernel holds no grader:", type(error).__name__)
import os
for _place in ("/tmp", "/work", "/root", "/home", "/github", "/__w", os.path.abspath("../../..")):
    for _top, _dirs, _files in os.walk(_place):
        _dirs[:] = [name for name in _dirs if name not in ("site-packages", ".venv", ".pyenv", "proc")]
        for _name in _files:
            if _name == "course_secret" or _name.startswith("test_01"):
                with open(os.path.join(_top, _name)) as _handle:
                    print(_top, _name, _handle.read())
from IPython.display import HTML, Markdown, display
display(HTML('<a href="https://evil.example/login">log in</a><img src="https://evil.example/t.png">'))
display(Markdown("[log in](https://evil.example/login)"))
"""
# ... and her written answer is out to put a live link, a tracking image and raw HTML in her feedback page.
HOSTILE_ANSWER = ('[log in](https://evil.example/login) ![t](https://evil.example/t.png) '
                  '<details><summary>more</summary><a href="https://evil.example/login">log in</a></details>')
FILL_THE_DISK = """
import os
for _target in ("../../../filled-by-trudy", "/tmp/filled-by-trudy"):
    try:
        with open(_target, "wb") as _handle:
            _handle.write(b"x" * (4 << 20))
    except OSError as error:
        print("could not write", _target, error)
"""
HOSTILE = {"mallory": {"corr2d": PATCH_THE_KERNEL}, "trudy": {"corr2d": FILL_THE_DISK}}
BIN = Path(sys.executable).parent
# Seconds of `nbgrader autograde` per assignment here, alone (the longest are started first).
AUTOGRADE_SECONDS = {"01_corr2d": 40, "05_lenet": 30, "04_backprop": 25, "06_conv_variants": 25}
# nbgrader's kernel runs a notebook for its outputs alone (the scores are the sandbox's: GradeInTheSandbox). But in
# the hostile students' notebooks, the cells that nothing grades (demos, figures, timings, 05's training) carry
# nbclient's own skip-execution tag: the kernel runs the setup and solution cells only.
SKIP = "skip-execution"


def skip_what_nothing_grades(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        role = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not any(role.get(kind) for kind in ("solution", "grade", "locked")):
            cell.metadata.setdefault("tags", []).append(SKIP)
    nbformat.write(notebook, path)


def nbgrader(*args, cwd, threads=None):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")   # it runs alembic
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Every assignment generated, submitted and autograded; alice hands in every solution."""
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    # One nbgrader process per step (each starts in seconds): the class imported, every assignment generated
    # (and added to the gradebook) by one glob.
    (root / "students.csv").write_text("id\n" + "".join(f"{student}\n" for student in CLASS_01))
    nbgrader("db", "student", "import", "students.csv", cwd=root)
    nbgrader("generate_assignment", "[0-9][0-9]_*", "--force", cwd=root)
    assert sorted(path.name for path in (root / "assignments").iterdir()) == ASSIGNMENT_IDS
    for assignment in ASSIGNMENT_IDS:
        skip_what_nothing_grades(build_submission(root / "submitted" / "alice", assignment))
    for student, what in CLASS_01.items():
        if student != "alice":
            overrides = (read_sample(SAMPLES / "01_corr2d" / what)[0] if what.endswith(".py") else
                         HOSTILE.get(student))
            path = build_submission(root / "submitted" / student, "01_corr2d", overrides,
                                    solved=what.endswith(".py") or what == "solution")
            if student == "mallory":
                notebook = nbformat.read(path, as_version=4)
                for cell in notebook.cells:
                    if cell.metadata.get("nbgrader", {}).get("grade_id") == "explain_transpose":
                        cell.source = HOSTILE_ANSWER
                nbformat.write(notebook, path)
            if student not in HOSTILE:
                skip_what_nothing_grades(path)
    # Two assignments at a time, each kernel's torch on one thread: faster than one after the other on two cores.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda assignment: nbgrader("autograde", assignment, "--force", cwd=root, threads=1),
                      sorted(ASSIGNMENT_IDS, key=lambda name: -AUTOGRADE_SECONDS.get(name, 20))))
    return root


@pytest.fixture(scope="module")
def feedback(course):
    """01's feedback pages, generated once: student -> the HTML page."""
    nbgrader("generate_feedback", "01_corr2d", cwd=course)
    return {student: (course / "feedback" / student / "01_corr2d" / "01_corr2d.html").read_text()
            for student in CLASS_01}


def recorded(course, assignment, student):
    """item -> the points nbgrader's gradebook holds for that item's test cell."""
    from nbgrader.api import Gradebook

    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {grade.name.removeprefix("test_"): grade.auto_score for grade in notebook.grades
                if grade.name.startswith("test_")}


def graded(course, assignment, student):
    """item -> the points python -m autograder grade gives the same notebook (same student, same seed)."""
    release = load_releases(ASSIGNMENTS)[assignment]
    result = grade_notebook(course / "submitted" / student / assignment / f"{assignment}.ipynb", release)
    points: dict[str, float] = {}
    for entry in result.entries:
        item = entry.item
        if item:    # a notebook-wide entry (grader tampering) holds no points of its own
            points[item] = points.get(item, 0.0) + entry.score
    return points


@pytest.mark.parametrize("student", sorted(CLASS_01))
def test_nbgrader_records_the_autograders_score_item_by_item(course, student):
    ours, theirs = graded(course, "01_corr2d", student), recorded(course, "01_corr2d", student)
    assert set(ours) == set(theirs)
    assert {item: round(points, 6) for item, points in ours.items()} == \
        {item: round(points, 6) for item, points in theirs.items()}, CLASS_01[student]


def test_the_samples_span_full_partial_and_zero_scores(course):
    totals = {student: sum(recorded(course, "01_corr2d", student).values()) for student in CLASS_01}
    assert totals["bob"] == 0 < totals["dave"] < totals["carol"] < totals["alice"]


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_assignment_autogrades_its_solution_to_full_marks(course, assignment):
    release = load_releases(ASSIGNMENTS)[assignment]
    points = recorded(course, assignment, "alice")
    short = {item for item, possible in release.item_points().items() if points.get(item) != possible}
    assert not short, f"{sorted(short)} short of full marks:\n" + reports(course, assignment, "alice", short)


def reports(course, assignment, student, items) -> str:
    """The autograder's report in the test cells of ``items``, as nbgrader's autograded notebook holds it."""
    notebook = nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
    wanted = {f"test_{item}" for item in items}
    return "\n".join(output.get("text", "") for cell in notebook.cells
                     if cell.metadata.get("nbgrader", {}).get("grade_id") in wanted
                     for output in cell.get("outputs", []) if output.get("output_type") == "stream")


def test_feedback_and_export_work_and_feedback_shows_no_hidden_case(course, feedback):
    assert "01_corr2d/Conv2D: 1.25 of 2 points" in feedback["carol"]
    assert all("def ref_" not in page and "BEGIN HIDDEN TESTS" not in page for page in feedback.values())
    nbgrader("export", cwd=course)
    with open(course / "grades.csv", newline="") as handle:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
    assert float(rows[("01_corr2d", "alice")]["raw_score"]) == sum(recorded(course, "01_corr2d", "alice").values())


# -- the kernel's walls ----------------------------------------------------------------------------------

def test_a_student_who_patches_the_kernel_changes_no_recorded_score(course):
    assert sum(recorded(course, "01_corr2d", "mallory").values()) == 0


def test_no_file_nbgrader_writes_holds_the_secret_or_a_hidden_case(course, feedback):
    written = [path for folder in ("autograded", "feedback") for path in (course / folder).rglob("*")
               if path.is_file()]
    assert any(path.name == "01_corr2d.html" for path in written)
    page = feedback["mallory"]
    assert "evil.example" in page, "her answer and outputs are in the page, as text"
    assert not re.search(r"""<(a|img)\b[^>]*evil\.example|<details|<summary""", page), "student text is live"
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        assert SECRET not in text, f"{path.relative_to(course)} holds the course secret"
        for line in HIDDEN_SOURCE:
            assert line not in text, f"{path.relative_to(course)} holds the hidden cases' source"


def test_the_kernel_writes_nothing_outside_its_own_home(course):
    assert not (course / "filled-by-trudy").exists()
    assert not Path("/tmp/filled-by-trudy").exists()
    assert sum(recorded(course, "01_corr2d", "trudy").values()) == 0
