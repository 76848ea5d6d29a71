"""Helpers the tests and benchmarks share: the course's folders, submissions built from the solutions, the
command line, students' git repositories, the speed-check variants and the attack corpus.

Test modules import from here, never from one another; ``conftest.py`` keeps only fixtures and hooks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.course import COURSE  # noqa: E402

ROOT = COURSE.root
ASSIGNMENTS = COURSE.assignments
SOLUTIONS = COURSE.solutions
SAMPLES = COURSE.samples
ATTACKS = sorted((Path(__file__).resolve().parent / "attacks" / "01_corr2d").glob("*.py"))
ASSIGNMENT_IDS = COURSE.assignment_ids()
# 05's load_data never tries the network in tests (or in the kernels and graders they start).
os.environ["CNN_COURSE_OFFLINE"] = "1"
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


# -- submissions ------------------------------------------------------------------------------------------

def solution_code(assignment: str) -> dict[str, str]:
    """grade_id -> the instructor's solution cell source, markers removed."""
    notebook = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: MARKERS.sub("", cell.source)
            for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")}


def build_submission(directory: Path, assignment: str, overrides: dict[str, str] | None = None,
                     solved: bool = True) -> Path:
    """A student's notebook: the release with solution cells filled in (and some replaced)."""
    notebook = nbformat.read(ASSIGNMENTS / assignment / f"{assignment}.ipynb", as_version=4)
    code = solution_code(assignment) if solved else {}
    code.update(overrides or {})
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in code and cell.metadata["nbgrader"].get("solution"):
            cell.source = code[grade_id]
    path = directory / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def read_sample(path: Path) -> tuple[dict[str, str], set[str], str]:
    """A sample wrong submission: '# replaces: X', '# loses: A B', '# mistake: ...' then code."""
    text = path.read_text()
    header = dict(re.findall(r"^# (replaces|loses|mistake):[ \t]*(.*)$", text, re.M))
    return {header["replaces"].strip(): text}, set(header["loses"].split()), header["mistake"].strip()


def header(path: Path, key: str) -> str:
    """The value of an attack's (or sample's) ``# key: value`` line."""
    return next(line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
                if line.startswith(f"# {key}:"))


def namespace(assignment: str, overrides: dict[str, str] | None = None) -> dict:
    """The release's setup cells and the instructor's solution cells (some replaced), run here."""
    from autograder.notebook import read_release

    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    space: dict = {"__name__": "__student__"}
    exec(compile(release.setup_source, "<setup>", "exec"), space)  # noqa: S102 - course code
    code = {**solution_code(assignment), **(overrides or {})}
    for grade_id in release.solution_ids:
        exec(compile(code[grade_id], f"<{grade_id}>", "exec"), space)  # noqa: S102 - course code
    return space


# -- the notebooks' own cells ------------------------------------------------------------------------------

RUN_HIDDEN = re.compile(r"run_hidden\(\s*[\"']([^\"']+)[\"']")    # a test cell's hidden-cases call


def setup_functions(path: Path) -> dict[str, str]:
    """name -> ``ast.dump`` of each function the notebook's setup cell defines."""
    import ast

    from autograder.course import SETUP_GRADE_ID

    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SETUP_GRADE_ID]
    assert len(cells) == 1, f"{path}: one setup cell"
    return {node.name: ast.dump(node) for node in ast.parse(cells[0].source).body
            if isinstance(node, ast.FunctionDef)}


def canonical_helpers() -> dict[str, str]:
    """name -> ``ast.dump`` of each helper of ``autograder/release/setup_helpers.py``, the one source."""
    import ast
    import inspect

    from autograder.release import setup_helpers

    return {node.name: ast.dump(node) for node in ast.parse(inspect.getsource(setup_helpers)).body
            if isinstance(node, ast.FunctionDef)}


# -- the command line -------------------------------------------------------------------------------------

def run_cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS...`` in a process of its own: exit status, stdout and stderr as text."""
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# -- students' repositories: local bare git repositories ----------------------------------------------------

COMMIT_DATE = "2026-12-15T20:00:00+01:00"


def git(*args, cwd, date=None):
    env = dict(os.environ, GIT_AUTHOR_DATE=date or COMMIT_DATE, GIT_COMMITTER_DATE=date or COMMIT_DATE)
    subprocess.run(["git", "-c", "user.name=Student", "-c", "user.email=s@example.org", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, env=env, check=True, capture_output=True)


def student_repo(base: Path, name: str, commits, workflow: str | None = None, assignment: str = "01_corr2d") -> Path:
    """A bare repository ``base/<name>.git`` whose history is ``commits``: (date, solved) pairs, where solved is
    True, False (the blank release) or a dict of solution cells replaced (``build_submission``'s overrides).

    It holds the released workflow, or ``workflow`` (its text) in its place.
    """
    from autograder.verbs.collect import TEMPLATE

    work = base / "work" / name
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    released = (TEMPLATE / ".github" / "workflows" / "grade.yml").read_text()
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / ".github" / "workflows" / "grade.yml").write_text(workflow or released)
    for number, (date, solved) in enumerate(commits):
        if isinstance(solved, dict):
            build_submission(work / "assignments", assignment, overrides=solved)
        else:
            build_submission(work / "assignments", assignment, solved=solved)
        (work / "notes.txt").write_text(f"commit {number}")
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", f"work {number}", cwd=work, date=date)
    bare = base / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=base)
    return bare


# -- 04's speed check: convolutions that loop over one dimension or another ---------------------------------

# The student functions run in a worker; the reference (the vectorised one) runs in the judge.
VARIANTS = '''
import torch

def vectorised(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)
    return torch.einsum("nchwij,fcij->nfhw", windows, w) + b.view(1, -1, 1, 1)

def loop_over_offsets(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = torch.zeros(N, F, Ho, Wo, dtype=x.dtype) + b.view(1, -1, 1, 1)
    for a in range(kh):
        for c in range(kw):
            patch = xp[:, :, a:a + stride * (Ho - 1) + 1:stride, c:c + stride * (Wo - 1) + 1:stride]
            out += torch.einsum("nchw,fc->nfhw", patch, w[:, :, a, c])
    return out

def loop_over_channels(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    out = b.view(1, -1, 1, 1)
    for c in range(x.shape[1]):
        windows = xp[:, c].unfold(1, kh, stride).unfold(2, kw, stride)      # (N, H', W', kh, kw)
        out = out + torch.einsum("nhwij,fij->nfhw", windows, w[:, c])
    return out

def loop_over_filters(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)
    return torch.stack([torch.einsum("nchwij,cij->nhw", windows, w[f]) + b[f] for f in range(w.shape[0])], 1)

def loop_over_batch(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    outs = []
    for n in range(x.shape[0]):
        windows = torch.nn.functional.pad(x[n:n + 1], (padding,) * 4).unfold(2, kh, stride).unfold(3, kw, stride)
        outs.append(torch.einsum("nchwij,fcij->nfhw", windows, w) + b.view(1, -1, 1, 1))
    return torch.cat(outs)

def loop_over_rows(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    Ho = (H + 2 * padding - kh) // stride + 1
    rows = []
    for i in range(Ho):
        band = xp[:, :, i * stride:i * stride + kh].unfold(3, kw, stride)     # (N, C, kh, W', kw)
        rows.append(torch.einsum("ncawj,fcaj->nfw", band, w) + b.view(1, -1, 1))
    return torch.stack(rows, 2)

def loop_over_columns(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    Wo = (W + 2 * padding - kw) // stride + 1
    cols = []
    for j in range(Wo):
        band = xp[:, :, :, j * stride:j * stride + kw].unfold(2, kh, stride)     # (N, C, H', kw, kh)
        cols.append(torch.einsum("nchji,fcij->nfh", band, w) + b.view(1, -1, 1))
    return torch.stack(cols, 3)

def numpy_loop_over_batch(x, w, b, stride=1, padding=0):
    # the same loop over N, in numpy: no tensor operation per image, so only the time can see it
    import numpy as np
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4).numpy()
    wn = w.numpy()
    outs = [np.einsum("chwij,fcij->fhw", np.lib.stride_tricks.sliding_window_view(xp[n], (kh, kw), axis=(1, 2)), wn)
            for n in range(xp.shape[0])]
    return torch.from_numpy(np.stack(outs)) + b.view(1, -1, 1, 1)

'''
EXPECTED = {  # variant -> the shapes whose speed check it fails
    "vectorised": set(), "loop_over_offsets": set(), "loop_over_channels": set(), "loop_over_filters": set(),
    "loop_over_batch": {"many small images"}, "loop_over_rows": {"tall images"}, "loop_over_columns": {"wide images"},
    "numpy_loop_over_batch": {"many small images"},
}
_OURS: dict = {}


def reference(*args, **kwargs):
    """The judge's copy of the vectorised variant, run in this process."""
    if not _OURS:
        exec(VARIANTS, _OURS)  # noqa: S102 - the tests' own code
    return _OURS["vectorised"](*args, **kwargs)


def inputs(label: str) -> tuple:
    """The arguments of 04's speed check on the shape ``label`` (fixed seed)."""
    import torch

    from autograder.cases.test_04_backprop import SPEED_SHAPES

    N, C, H, W, F, k = SPEED_SHAPES[label]
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(N, C, H, W, generator=generator), torch.randn(F, C, k, k, generator=generator),
            torch.randn(F, generator=generator), 1, k // 2)


def growth(label: str) -> dict:
    """``speed.verdict``'s options for a shape: the same inputs with the dimension it grows doubled."""
    import torch

    from autograder.cases.test_04_backprop import SPEED_GROWS

    x, *rest = inputs(label)
    axis, along = SPEED_GROWS[label]
    return {"larger": (torch.cat([x, x], axis), *rest), "along": along, "size": x.shape[axis]}
