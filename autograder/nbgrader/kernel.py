"""Hidden cases inside the notebook, for ``nbgrader autograde``.

The instructor's source notebooks end each test cell with::

    ### BEGIN HIDDEN TESTS
    from autograder.nbgrader.kernel import run_hidden
    run_hidden("01_corr2d/corr2d", globals())
    ### END HIDDEN TESTS

so that ``nbgrader validate`` and a kernel of the instructor's run the very cases
``python -m autograder`` runs, here in the notebook's kernel, through
``autograder.student.kernel.LocalStudent``: the same protocol as the sandboxed
proxy, with the same helpers for describing calls, naming types and telling which
arguments a call modified, and the same route monitor. Student code and checks
share a process here, so this is for the instructor's own notebooks alone:
``nbgrader autograde`` never runs it (its test cells are scored by the sandboxed
grader: ``autograder.nbgrader.parity``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autograder.judge import plugin as judge
from autograder.judge import seeds
from autograder.notebook import Release
from autograder.student.kernel import LocalStudent


def run_hidden(item_id: str, namespace: dict[str, Any]) -> None:
    """Run the hidden cases of one item against the notebook's namespace; raise on failure."""
    assignment, item = item_id.split("/", 1)
    release = Release(assignment, Path(f"{assignment}.ipynb"), cells=[], tests=[], manual=[])
    seed = inline_seed(assignment, namespace)
    cases = judge.run_cases(release, LocalStudent(namespace), items={item}, public=False, seed=seed.value)
    failed = [case for case in cases if not case.passed]
    if not cases:
        raise AssertionError(f"no hidden cases found for {item_id}")
    if failed:
        lines = [f"- {case.title}: {case.output}" for case in failed]
        raise AssertionError(f"{len(failed)} of {len(cases)} hidden checks failed for {item_id} "
                             f"(hidden inputs from seed {seed}):\n" + "\n".join(lines))
    print(f"{item_id}: all {len(cases)} hidden checks passed")


def inline_seed(assignment: str, namespace: dict[str, Any]) -> seeds.Seed:
    """The seed of a notebook's kernel: nbgrader autograde runs it in ``autograded/<student>/<assignment>/``.

    Outside that layout, the cells run so far (IPython's ``In``) stand for the notebook's content.
    """
    override = os.environ.get("AUTOGRADER_SEED", "")
    if override.isdigit():
        return seeds.Seed(int(override), "$AUTOGRADER_SEED")
    notebook = Path.cwd() / f"{assignment}.ipynb"
    history = namespace.get("In")
    sources = [str(source) for source in history] if isinstance(history, list) else []
    return seeds.for_notebook(notebook, assignment, sources)
