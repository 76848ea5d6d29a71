"""Hidden cases inside the notebook, for ``nbgrader autograde``.

The instructor's source notebooks end each test cell with::

    ### BEGIN HIDDEN TESTS
    from autograder.nbgrader.kernel import run_hidden
    run_hidden("01_corr2d/corr2d", globals())
    ### END HIDDEN TESTS

so that ``nbgrader validate`` and a kernel of the instructor's run the very cases
``python -m autograder`` runs, here in the notebook's kernel, through
:class:`LocalStudent`: the same protocol as the sandboxed proxy, with the same
helpers for describing calls, naming types and telling which arguments a call
modified, and the same watch on the routes each call takes. Student code and
checks share a process here, so this is for the instructor's own notebooks
alone: ``nbgrader autograde`` never runs it (its test cells are scored by the
sandboxed grader: ``autograder.nbgrader.parity``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from autograder.grading import rules
from autograder.judge import plugin as judge
from autograder.judge import seeds
from autograder.model import CallRecord, Route
from autograder.notebook import Release
from autograder.sandbox import values
from autograder.student.sandboxed import StudentBase


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
        seen: set[str] = set()
        started, cpu = time.perf_counter(), time.process_time()
        try:
            with torch.random.fork_rng(), watched(seen):   # the cases' generator is not the student's to move
                value = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - report, never crash the check
            return self._keep(CallRecord(origin, label, seconds=time.perf_counter() - started,
                                         error=f"{label} raised {type(error).__name__}: {error}",
                                         routes=_routes(seen)), values.exception_kinds(error))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if op == "grad":
            grads = None
            if isinstance(value, torch.Tensor) and value.grad_fn is not None:
                try:    # the judge's own backward, after the watch: an output of the wrong shape fails it
                    grads = torch.autograd.grad(value, [args[i] for i in extra["wrt"]],
                                                extra["dout"].to(value.dtype), allow_unused=True)
                except Exception as error:  # noqa: BLE001 - as the worker reports it
                    return self._keep(CallRecord(origin, label, seconds=seconds, routes=_routes(seen),
                                                 error=f"{label} raised {type(error).__name__}: {error}"),
                                      values.exception_kinds(error))
                value = value.detach()
            value = (value, grads)
        return self._keep(CallRecord(origin, label, value, values.mutated(before, args, kwargs), _routes(seen),
                                     seconds, cpu_seconds=cpu))


def _routes(seen: set[str]) -> tuple[Route, ...]:
    return tuple(Route(what, "?") for what in sorted(seen))


_wired_for: list = [-1, []]    # (how many modules were loaded, their convolution wires) when last looked for


def _convolution_wires() -> list[tuple[Any, str, str]]:
    """(module, name, route) of numpy's and scipy's convolutions wherever a module holds one
    (np._core.multiarray.correlate...), as the worker wires them; looked for again when modules were imported."""
    if _wired_for[0] != len(sys.modules):
        found = {}
        for module_name, name, label in rules.NUMPY_CONVOLUTIONS:
            original = getattr(sys.modules.get(module_name), name, None)
            if original is not None:
                found[id(original)] = (original, label)
        watched_modules = [(name, module) for name, module in list(sys.modules.items())
                           if name.split(".")[0] == "numpy" or rules.scipy_package(name)]
        for module_name, module in watched_modules:
            for _, original, label in rules.scipy_functions(module) if rules.scipy_package(module_name) else ():
                found.setdefault(id(original), (original, label))
        wires = []
        for _, module in watched_modules:
            namespace = getattr(module, "__dict__", None)
            wires += [(module, name, found[id(value)][1]) for name, value in list((namespace or {}).items())
                      if id(value) in found and found[id(value)][0] is value]
        _wired_for[:] = [len(sys.modules), wires]
    return _wired_for[1]


@contextlib.contextmanager
def watched(seen: set[str]):
    """Record in ``seen`` the watched routes a student call takes: aten operators (a dispatch mode, as in the
    worker), autograd and numpy's and scipy's convolutions (tripwires, only for the call)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Monitor(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False     # see autograder.sandbox.worker: no torch._dynamo import for nothing

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = str(func)
            if rules.WATCHED_OP.search(name.removeprefix("aten.").split(".")[0]):
                seen.add(name)
            return func(*args, **(kwargs or {}))

    wires = [(torch.autograd, "backward", "torch.autograd.backward"), (torch.autograd, "grad", "torch.autograd.grad"),
             (torch.Tensor, "backward", "Tensor.backward"), *_convolution_wires()]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in wires]
    inside = [0]    # a tripwire inside another (np.convolve's C core, scipy's helpers) is not news
    for (owner, name, label), (_, _, original) in zip(wires, originals):
        def tripwire(*args, _original=original, _label=label, **kwargs):
            if inside[0]:
                return _original(*args, **kwargs)
            seen.add(_label)
            inside[0] += 1
            try:
                return _original(*args, **kwargs)
            finally:
                inside[0] -= 1
        setattr(owner, name, tripwire)
    try:
        with Monitor():
            yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


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
