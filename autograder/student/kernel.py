"""The judge's view of a live notebook namespace, in the notebook's own kernel.

:class:`LocalStudent` implements the protocol of ``autograder.student.base.StudentBase``
with no process boundary, for ``autograder.nbgrader.kernel.run_hidden`` (the
instructor's ``nbgrader validate``): the same helpers for describing calls, naming
types and telling which arguments a call modified, and the same route monitor as
the worker (``autograder.sandbox.monitor``, installed once per kernel). No notebook
cell is known here, so every route carries "?" as its cell. Student code and checks
share a process here, so this is for the instructor's own notebooks alone.
"""

from __future__ import annotations

import time
from typing import Any

from autograder.model import CallRecord, Route
from autograder.sandbox import monitor, values
from autograder.student.base import StudentBase


class LocalStudent(StudentBase):
    """The judge's view of a live notebook namespace: same calls, no process boundary."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__()
        self.namespace = namespace
        self._generator: Any = None     # torch's generator state between the student's calls, as a worker keeps it

    def _invoke(self, op: str, target: Any, args: tuple, kwargs: dict, *, origin: str,
                timeout: float | None = None, **extra: Any) -> CallRecord:
        import torch

        label = values.describe_call(origin, args, kwargs)
        if target not in self.namespace:
            return self._keep(CallRecord(origin, label, error=f"{label} raised NameError: name {target!r} is "
                                                               "not defined by your notebook"), ("NameError",))
        function = self.namespace[target]
        if op == "grad":    # the caller's tensors stay as they are: the worker's are decoded copies
            args = tuple(a.detach().clone() if i in extra["wrt"] else a for i, a in enumerate(args))
        watch = monitor.for_this_process()
        before = values.snapshot(args, kwargs)
        watch.take()        # whatever an earlier call left behind is not this call's
        started, cpu = time.perf_counter(), time.process_time()
        try:
            # The cases' generator is not the student's to move; the student's goes on from call to call, as in a
            # worker (two calls of a function that draws random weights draw different ones).
            with torch.random.fork_rng():
                if self._generator is not None:
                    torch.set_rng_state(self._generator)
                if op == "grad":
                    value = watch.grad(function, args, kwargs, extra["wrt"], extra["dout"])
                else:       # "count" too: in a kernel, speed checks go by the times alone
                    value = watch.call(function, args, kwargs)
                self._generator = torch.get_rng_state()
        except Exception as error:  # noqa: BLE001 - report, never crash the check
            return self._keep(CallRecord(origin, label, seconds=time.perf_counter() - started,
                                         error=f"{label} raised {type(error).__name__}: {error}",
                                         routes=_routes(watch.take())), values.exception_kinds(error))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if op == "grad":
            out, grads = value
            value = (out.detach() if grads is not None else out, grads)
        return self._keep(CallRecord(origin, label, value, values.mutated(before, args, kwargs),
                                     _routes(watch.take()), seconds, cpu_seconds=cpu))


def _routes(routes: list[tuple[str, str]]) -> tuple[Route, ...]:
    return tuple(Route(what, cell) for what, cell in routes)
