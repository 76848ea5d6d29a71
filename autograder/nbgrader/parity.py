"""``nbgrader autograde`` with the scores of the sandboxed grader, and a kernel behind the same walls.

nbgrader runs a notebook in a Jupyter kernel and reads each test cell's score from its output. Left
alone, that kernel runs student code beside the checks, the hidden cases and the course secret: a cell
that patches the kernel decides its own score. Here nothing that decides a score runs in the kernel
(``nbgrader_config.py`` sets these steps):

- :class:`GradeInTheSandbox` (a sanitising step, after nbgrader restored the instructor's test cells)
  grades the submitted notebook with ``autograder.pipeline.grade_notebook``, the pipeline of ``python -m
  autograder grade`` and ``grade-all`` (workers behind the walls, the hidden cases in this process,
  the student's seed), keeps each item's points in its test cell's metadata, and leaves in the cell
  only a comment: the kernel runs no check. A grading the grader could not finish records nothing.
- :class:`WalledExecute` runs the notebook, for its outputs alone, in a kernel started behind the
  walls of ``autograder.sandbox.confine`` (a root of its own without the course, no network, a uid of its
  own; it talks to nbgrader over Unix sockets in a private folder).
- :class:`ShowSandboxedScores` (after execution) writes each test cell's output: the item's report and
  its points, which nbgrader records as partial credit. Whatever the kernel did, these outputs are ours.
- :class:`InertStudentText` (``generate_feedback``) keeps student text inert in the HTML feedback:
  outputs only as plain text or pixels, and Markdown the student wrote shown as text.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import compute_checksum, is_grade, is_solution

from autograder.course import TEST_PREFIX
from autograder.report.markdown import fence
from autograder.sandbox import confine
from autograder.sandbox import process as sandbox

KEY = "autograder"     # the cell metadata that carries an item's points from sanitising to the autograde step
REPORT_LINES = 12      # of each failed check's message


def _graded_item(cell) -> str | None:
    """The item of a test cell (``test_corr2d`` -> ``corr2d``), or None for any other cell."""
    if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
        return None
    return cell.metadata["nbgrader"]["grade_id"].removeprefix(TEST_PREFIX)


class GradeInTheSandbox(NbGraderPreprocessor):
    """Grade the submission as ``python -m autograder grade`` does; test cells keep only the points."""

    def preprocess(self, nb, resources):
        from autograder.course import COURSE
        from autograder.pipeline import grade_notebook, load_releases

        assignment = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"]["student"]
        name = resources["metadata"]["name"]
        path = Path(resources["metadata"]["path"]) / f"{name}.ipynb"
        release = load_releases(COURSE.assignments)[name]
        result = grade_notebook(path, release, student=student)
        if result.internal_error:
            raise RuntimeError(f"the autograder could not grade {student}'s {assignment}/{name} "
                               f"({result.internal_error}): nothing recorded, grade it again")
        entries: dict[str, list] = {}
        everywhere = []     # notebook-wide entries (grader tampering): every item's report shows them
        for entry in result.entries:
            item = entry.item
            if item:
                entries.setdefault(item, []).append(entry)
            else:
                everywhere.append(entry)
        for cell in nb.cells:
            item = _graded_item(cell)
            if item is None:
                continue
            mine = entries.get(item, []) + everywhere
            points = round(sum(entry.score for entry in mine), 6)
            cell.metadata[KEY] = {"points": points, "report": _report(f"{name}/{item}", mine, points, result)}
            cell.source = (f"# {name}/{item}: scored by the autograder's sandboxed grading (python -m autograder "
                           "grade), not in this kernel; its report is below.")
            cell.metadata["nbgrader"]["checksum"] = compute_checksum(cell)     # the test cell is now this one
        return nb, resources


def _report(item_id: str, entries: list, points: float, result) -> str:
    possible = sum(entry.max_score for entry in entries)
    seed = f" (hidden inputs from seed {result.seed})" if result.seed else ""
    lines = [f"{item_id}: {points:g} of {possible:g} points{seed}"]
    for entry in entries:
        lines.append(f"  {'ok  ' if entry.status == 'passed' else 'FAIL'} {entry.name} "
                     f"({entry.score:g}/{entry.max_score:g})")
        if entry.status != "passed" and entry.output:
            lines += [f"         {line}" for line in entry.output.splitlines()[:REPORT_LINES]]
    return "\n".join(lines) + "\n"


class ShowSandboxedScores(NbGraderPreprocessor):
    """After the kernel ran: each test cell's output is its item's report and points, whatever the kernel did."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            graded = cell.metadata.pop(KEY, None)
            if _graded_item(cell) is None:
                continue
            if not isinstance(graded, dict):     # sanitising did not grade it: nbgrader must not record a score
                raise RuntimeError(f"test cell {cell.metadata['nbgrader']['grade_id']} was not graded in the sandbox")
            cell.outputs = [new_output("stream", name="stdout", text=graded["report"]),
                            new_output("execute_result", {"text/plain": repr(float(graded["points"]))},
                                       execution_count=cell.get("execution_count"))]
        return nb, resources


# -- the kernel, behind the walls ---------------------------------------------------------------------

KERNEL_ENVIRONMENT = ("CNN_COURSE_OFFLINE", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NBGRADER_EXECUTION")


class WalledKernelManager(AsyncKernelManager):
    """A kernel that runs behind ``autograder.sandbox.confine``'s walls and speaks over Unix sockets.

    Its connection file and sockets live in a private folder, the only host folder it can write; its
    working directory is a private tmpfs holding copies of the notebook folder's files.
    """

    async def _async_pre_start_kernel(self, **kwargs):
        self._private = tempfile.mkdtemp(prefix="autograder-kernel-")
        self._base = tempfile.mkdtemp(prefix="autograder-kernel-root-")
        self.transport = "ipc"
        self.ip = os.path.join(self._private, "kernel")
        self.connection_file = os.path.join(self._private, "kernel.json")
        self._cwd = str(kwargs.get("cwd") or os.getcwd())
        return await super()._async_pre_start_kernel(**kwargs)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if not confine.isolation().strong:
            return command
        limits = sandbox._effective(sandbox.Limits(cpu_seconds=3600, open_files=1024, address_space=8 << 30))
        environment = {name: os.environ[name] for name in KERNEL_ENVIRONMENT if name in os.environ}
        environment.update({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                            "HOME": self._cwd, "TMPDIR": self._cwd, "MPLCONFIGDIR": self._cwd})
        spec = confine.walls(self._cwd, limits, base=self._base, writable=[self._private], copies=[self._cwd],
                             cwd=self._cwd, environment=environment)
        return [sys.executable, "-I", "-m", "autograder.sandbox.confine", json.dumps(spec), "--", *command]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            for folder in (getattr(self, "_private", None), getattr(self, "_base", None)):
                if folder:
                    shutil.rmtree(folder, ignore_errors=True)


class WalledExecute(Execute):
    """nbgrader's Execute with the kernel behind the walls."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", WalledKernelManager)
        super().__init__(*args, **kwargs)


# -- the HTML feedback ---------------------------------------------------------------------------------

SAFE_OUTPUTS = ("text/plain", "image/png", "image/jpeg")


class InertStudentText(NbGraderPreprocessor):
    """No live link, image, HTML or script from student text in the feedback page.

    Outputs keep plain text and pixels only (no HTML, Markdown, SVG, LaTeX or JavaScript). A Markdown cell
    whose text is not the release's own (a written answer, a cell the student added or edited) is shown as
    text in a fenced block that it cannot close.
    """

    def preprocess(self, nb, resources):
        import nbformat

        from autograder.course import COURSE

        name = resources["metadata"]["name"]
        release = COURSE.release(name)
        ours = ({cell.source for cell in nbformat.read(release, as_version=4).cells if cell.cell_type == "markdown"}
                if release.is_file() else set())
        for cell in nb.cells:
            make_inert(cell, ours)
        return nb, resources


def make_inert(cell, ours: set[str]) -> None:
    """One cell as :class:`InertStudentText` shows it: a Markdown or raw cell whose text is not one of ``ours``
    (the release's Markdown) becomes Markdown holding that text fenced; outputs keep plain text and pixels."""
    if cell.cell_type in ("markdown", "raw") and cell.source not in ours:
        cell.source = fence(cell.source)
        cell.pop("attachments", None)
        if cell.cell_type == "raw":
            cell.cell_type = "markdown"
            cell.metadata.pop("format", None)
            cell.metadata.pop("raw_mimetype", None)
    for output in cell.get("outputs", []):
        if "data" in output:
            output["data"] = {kind: value for kind, value in output["data"].items() if kind in SAFE_OUTPUTS}
            output["metadata"] = {}
