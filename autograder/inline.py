"""Hidden cases inside the notebook, for ``nbgrader autograde``.

The instructor's source notebooks end each test cell with::

    ### BEGIN HIDDEN TESTS
    from autograder.inline import run_hidden
    run_hidden("01_corr2d/corr2d", globals())
    ### END HIDDEN TESTS

so nbgrader's own autograding runs the very cases ``python -m autograder`` runs,
here in the notebook's kernel. This path has nbgrader's trust model (student code
and checks share a process) and does not enforce the from-scratch rule; the
sandboxed ``python -m autograder grade`` is the one to trust.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from autograder import judge
from autograder.notebook import Release
from autograder.student import StudentError, describe_call


class LocalStudent:
    """The Student API over a live namespace: same calls, no process boundary."""

    type_names = staticmethod(lambda obj: tuple(f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__))

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.last_mutated: list[str] = []

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        label = describe_call(name, args, kwargs)
        if name not in self.namespace:
            raise StudentError(f"{label} raised NameError: name {name!r} is not defined", ("NameError",))
        before = copy.deepcopy((args, kwargs))
        try:
            value = self.namespace[name](*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - report, never crash the check
            kinds = tuple(c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins")
            raise StudentError(f"{label} raised {type(error).__name__}: {error}", kinds) from None
        self.last_mutated = [str(i) for i, (a, b) in enumerate(zip(args, before[0]))
                             if isinstance(a, torch.Tensor) and not _same(a, b)]
        return value

    def grad(self, name: str, args: tuple, wrt: tuple[int, ...], dout: torch.Tensor,
             timeout: float | None = None, **kwargs: Any):
        args = tuple(a.detach().clone().requires_grad_(True) if i in wrt else a for i, a in enumerate(args))
        out = self.call(name, *args, **kwargs)
        if not isinstance(out, torch.Tensor) or out.grad_fn is None:
            return out, None
        grads = torch.autograd.grad(out, [args[i] for i in wrt], dout.to(out.dtype), allow_unused=True)
        return out.detach(), grads


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(((a == b) | (a.isnan() & b.isnan())).all()
                                       if a.is_floating_point() else (a == b).all())


def run_hidden(item_id: str, namespace: dict[str, Any]) -> None:
    """Run the hidden cases of one item against the notebook's namespace; raise on failure."""
    assignment, item = item_id.split("/", 1)
    release = Release(assignment, Path(f"{assignment}.ipynb"), cells=[], tests=[], manual=[])
    cases = judge.run_cases(release, LocalStudent(namespace), items={item}, public=False)
    failed = [case for case in cases if not case.passed]
    if not cases:
        raise AssertionError(f"no hidden cases found for {item_id}")
    if failed:
        lines = [f"- {case.title}: {case.output}" for case in failed]
        raise AssertionError(f"{len(failed)} of {len(cases)} hidden checks failed for {item_id}:\n" + "\n".join(lines))
    print(f"{item_id}: all {len(cases)} hidden checks passed")
