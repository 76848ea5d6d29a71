"""Hidden cases inside the notebook, for ``nbgrader autograde``.

The instructor's source notebooks end each test cell with::

    ### BEGIN HIDDEN TESTS
    from autograder.inline import run_hidden
    run_hidden("01_corr2d/corr2d", globals())
    ### END HIDDEN TESTS

so nbgrader's own autograding runs the very cases ``python -m autograder`` runs,
here in the notebook's kernel, through :class:`LocalStudent`: the same protocol
as the sandboxed proxy, with the same helpers for describing calls, naming
types and telling which arguments a call modified. This path has nbgrader's
trust model (student code and checks share a process) and does not enforce
the from-scratch rule; the sandboxed ``python -m autograder grade`` is the one
to trust.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from autograder import judge, seeds, values
from autograder.notebook import Release
from autograder.records import CallRecord
from autograder.student import StudentBase


class LocalStudent(StudentBase):
    """The judge's view of a live notebook namespace: same calls, no process boundary."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__()
        self.namespace = namespace

    def _invoke(self, op: str, target: Any, args: tuple, kwargs: dict, *, origin: str,
                timeout: float | None = None, **extra: Any) -> CallRecord:
        import torch

        label = values.describe_call(origin, args, kwargs)
        if target not in self.namespace:
            return self._keep(CallRecord(origin, label, error=f"{label} raised NameError: name {target!r} is "
                                                               "not defined by your notebook"), ("NameError",))
        function = self.namespace[target]
        if op == "grad":
            args = tuple(a.detach().clone().requires_grad_(True) if i in extra["wrt"] else a
                         for i, a in enumerate(args))
        before = values.snapshot(args, kwargs)
        started = time.perf_counter()
        try:
            with torch.random.fork_rng():   # the cases' generator is not the student's to move
                value = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - report, never crash the check
            return self._keep(CallRecord(origin, label, seconds=time.perf_counter() - started,
                                         error=f"{label} raised {type(error).__name__}: {error}"),
                              values.exception_kinds(error))
        seconds = time.perf_counter() - started
        if op == "grad":
            grads = None
            if isinstance(value, torch.Tensor) and value.grad_fn is not None:
                grads = torch.autograd.grad(value, [args[i] for i in extra["wrt"]], extra["dout"].to(value.dtype),
                                            allow_unused=True)
                value = value.detach()
            value = (value, grads)
        return self._keep(CallRecord(origin, label, value, values.mutated(before, args, kwargs), (), seconds))


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
