"""The judge's view of a submission that runs in a walled-off worker (``python -m autograder``).

:class:`Student` implements the protocol of ``autograder.student.base.StudentBase``
over ``autograder.sandbox``: each call goes to the worker as data and comes back
as one record (value, modified arguments, routes, time). Objects that are not
data stay in the worker, and reach the judge as :class:`RemoteObject` handles.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from autograder.model import CallRecord, LoadReport, Route
from autograder.notebook import Cell
from autograder.sandbox import values, wire
from autograder.sandbox.process import GraderFault, Limits, WorkerFault, WorkerProcess
from autograder.student.base import StudentBase


class RemoteObject:
    """A handle to an object living in the worker (a module, a method...)."""

    def __init__(self, student: Student, data: dict, origin: str) -> None:
        mro = data.get("mro", ())
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_ref", {"__ref__": data["__ref__"]})
        object.__setattr__(self, "_type", str(data.get("type", "object")))
        object.__setattr__(self, "_mro", tuple(str(name) for name in mro) if isinstance(mro, list) else ())
        object.__setattr__(self, "_origin", origin)
        object.__setattr__(self, "_generation", student._generation)

    @staticmethod
    def remote_type(obj: RemoteObject) -> str:
        return obj._type

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._student._invoke("getattr", self, (), {}, origin=self._origin, name=name,
                                     label=f"{self._origin}(...).{name}").value

    def __setattr__(self, name: str, value: Any) -> None:
        self._student._invoke("setattr", self, (value,), {}, origin=self._origin, name=name,
                              label=f"{self._origin}(...).{name} = {values.describe(value)}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student._invoke("call", self, args, kwargs, origin=self._origin,
                                     label=values.describe_call(f"{self._origin}(...)", args, kwargs)).value

    def __repr__(self) -> str:
        return f"<remote {self._type} from {self._origin}>"


class Student(StudentBase):
    """A submission running in a walled-off worker. Use as a context manager; it restarts after a fault.

    A call that runs out of time costs the worker (it is killed) and part of the
    notebook's time budget. The student's function it was stuck in is blocked:
    later calls that reach it fail at once, saying why. Once the budget is
    spent, calls get short deadlines, so a hanging notebook stays cheap to grade.
    """

    def __init__(self, cells: list[Cell], limits: Limits | None = None, seed: int = 0) -> None:
        super().__init__()
        self.cells = cells
        self.seed = seed
        self.limits = limits or Limits()
        self.load = LoadReport()
        self.in_force: list[str] = []       # the worker's own report of its confinement
        self.budget_left = self.limits.budget_seconds
        self.blocked: dict[str, str] = {}   # student function -> why calls that reach it fail at once
        self._worker: WorkerProcess | None = None
        self._generation = 0

    @staticmethod
    def type_names(obj: Any) -> tuple[str, ...]:
        """Qualified names of the classes of a returned object (its MRO), also of one that lives in the worker."""
        if isinstance(obj, RemoteObject):
            return obj._mro
        return values.type_names(obj)

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Student:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the worker; what it started is waited for by ``sandbox.reap()`` (the CLI, at its end)."""
        if self._worker is not None:
            self._worker.close(wait=False)
            self._worker = None

    def _deadline(self, seconds: float) -> float:
        """A call's own deadline (CPU seconds) while the budget lasts; a short one once it is spent."""
        if self.budget_left <= 0:
            return min(seconds, self.limits.spent_call_seconds)
        return seconds

    def _spend(self, fault: WorkerFault, seconds: float) -> None:
        if fault.timed_out:
            self.budget_left -= seconds

    def _ensure_worker(self) -> WorkerProcess:
        if self._worker is not None and self._worker.alive:
            return self._worker
        self._generation += 1
        while True:
            worker = WorkerProcess(self.limits)     # GraderFault if the zygote cannot fork it
            try:
                self._load(worker)
                self._worker = worker
                return worker
            except _CellKilledWorker as killed:
                self.load.skipped.append(killed.cell)
                self.load.errors[killed.cell] = killed.reason

    def _load(self, worker: WorkerProcess) -> None:
        try:
            reply, _ = worker.request({"op": "ping", "seed": self.seed, "nonce": secrets.token_hex(8)}, [],
                                      self.limits.start_seconds)
        except WorkerFault as fault:  # no student code has run yet: the grader's problem
            raise GraderFault(f"the worker did not start: {fault.reason}\n{fault.log_tail}") from None
        worker.note_started()
        in_force = reply.get("in_force")
        self.in_force = [str(line) for line in in_force] if isinstance(in_force, list) else []
        for cell in self.cells:
            if cell.name in self.load.skipped:
                continue
            seconds = self._deadline(self.limits.load_seconds)
            try:
                reply, _ = worker.request({"op": "exec", "source": cell.source, "name": cell.name,
                                           "trusted": cell.trusted, "nonce": secrets.token_hex(8)}, [], seconds)
            except WorkerFault as fault:
                self._spend(fault, seconds)
                raise _CellKilledWorker(cell.name, f"running this cell: {fault.reason}") from None
            if not reply.get("ok"):
                self.load.errors[cell.name] = _format_error(reply.get("error"))
        if self.blocked:
            worker.request({"op": "block", "names": sorted(self.blocked), "reason": "did not return in time in "
                            "an earlier call, so it is not run again", "nonce": secrets.token_hex(8)}, [],
                           self.limits.start_seconds)

    # -- calls ----------------------------------------------------------------------------------
    def _invoke(self, op: str, target: Any, args: tuple, kwargs: dict, *, origin: str,
                timeout: float | None = None, label: str | None = None, **extra: Any) -> CallRecord:
        label = label or values.describe_call(origin, args, kwargs)
        if origin in self.blocked:
            return self._keep(CallRecord(origin, label, error=f"{label}: not run, {self.blocked[origin]}"))
        if isinstance(target, RemoteObject) and target._generation != self._generation:
            return self._keep(CallRecord(origin, label, error=f"{label}: the object was lost when an earlier "
                                                               "call crashed the worker"))
        worker = self._ensure_worker()
        blobs: list[bytes] = []
        try:
            header: dict[str, Any] = {
                "op": op,
                "target": target._ref if isinstance(target, RemoteObject) else target,
                "args": wire.encode(list(args), blobs, keep=self._handle),
                "kwargs": wire.encode(dict(kwargs), blobs, keep=self._handle),
                "nonce": secrets.token_hex(8),
            }
        except TypeError as error:
            return self._keep(CallRecord(origin, label, error=f"{label}: {error}"))
        if "dout" in extra:
            header["dout"] = wire.encode(extra.pop("dout"), blobs)
        header.update(extra)
        seconds = self._deadline(timeout or self.limits.call_seconds)
        started = time.perf_counter()
        try:
            reply, reply_blobs = worker.request(header, blobs, seconds)
        except WorkerFault as fault:
            self._worker = None
            self._spend(fault, seconds)
            return self._keep(CallRecord(origin, label, seconds=time.perf_counter() - started,
                                         error=f"{label}: {self._fault_message(fault, origin)}",
                                         timed_out=fault.timed_out))
        elapsed, cpu = time.perf_counter() - started, worker.usage.cpu
        try:
            routes = _routes(reply.get("routes", []))
            mutated = tuple(str(key) for key in _list(reply.get("mutated", [])))
            if not reply.get("ok"):
                error = reply.get("error")
                kinds = tuple(str(kind) for kind in _list(error.get("kinds", []))) if isinstance(error, dict) else ()
                return self._keep(CallRecord(origin, label, mutated=mutated, routes=routes, seconds=elapsed,
                                             error=f"{label} raised {_format_error(error)}", cpu_seconds=cpu),
                                  kinds)
            value = wire.decode(reply.get("value"), reply_blobs, resolve=lambda data: RemoteObject(self, data, origin))
        except wire.WireError as error:  # a malformed reply from a hostile worker
            self.close()
            return self._keep(CallRecord(origin, label, seconds=elapsed,
                                         error=f"{label}: the worker broke the protocol ({error})"))
        ops, steps = (_count(reply.get(key)) for key in ("ops", "steps"))
        return self._keep(CallRecord(origin, label, value, mutated, routes, elapsed, cpu_seconds=cpu, ops=ops,
                                     steps=steps))

    def echo(self, args: tuple, reply_bytes: int, cpu: bool = False) -> float:
        blobs: list[bytes] = []
        header = {"op": "echo", "args": wire.encode(list(args), blobs, keep=self._handle),
                  "reply_bytes": int(reply_bytes), "nonce": secrets.token_hex(8)}
        worker = self._ensure_worker()
        started = time.perf_counter()
        try:
            worker.request(header, blobs, self.limits.call_seconds)
        except WorkerFault as fault:
            self._worker = None
            raise RuntimeError(f"the worker did not echo: {fault.reason}") from None
        if cpu and worker.usage.cpu is not None:
            return worker.usage.cpu
        return time.perf_counter() - started

    def _handle(self, obj: Any) -> dict:
        """An object that lives in the worker (a student's cache, a function), sent back to it as its handle."""
        if isinstance(obj, RemoteObject) and obj._student is self:
            if obj._generation != self._generation:
                raise TypeError(f"{obj!r} was lost when an earlier call crashed the worker")
            return obj._ref
        raise TypeError(f"cannot send {type(obj).__name__} to the worker")

    def _fault_message(self, fault: WorkerFault, origin: str) -> str:
        """Say what went wrong, and block the student function a timed-out call was stuck in."""
        tail = fault.log_tail.strip()
        tail = f"\nlast output of the worker:\n{tail[-800:]}" if tail else ""
        if not fault.timed_out:
            return fault.reason + tail
        hung = fault.hung or {}
        function = str(hung.get("function", "")) if str(hung.get("function", "")).isidentifier() else ""
        stuck = function if function and function != "<module>" else origin
        self.blocked[stuck] = f"{stuck} did not return within the deadline in an earlier call"
        where = f" in cell {hung.get('cell')}, line {hung.get('line')}" if function else ""
        why = "does it wait for something that never comes?" if "waiting" in fault.reason else \
            "is there a loop that never ends?"
        return (f"{fault.reason}; it was stuck in {stuck}{where}. Calls that reach {stuck} now fail at once "
                f"({why})" + tail)


class _CellKilledWorker(Exception):
    def __init__(self, cell: str, reason: str) -> None:
        super().__init__(reason)
        self.cell, self.reason = cell, reason


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise wire.WireError(f"expected a list, got {type(value).__name__}")
    return value


def _routes(raw: Any) -> tuple[Route, ...]:
    routes = []
    for entry in _list(raw):
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)):
            raise wire.WireError("a route is not a pair of strings")
        routes.append(Route(entry[0], entry[1]))
    return tuple(routes)


def _format_error(error: Any) -> str:
    if not isinstance(error, dict):
        return "Error"
    text = f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
    where = error.get("where") or []
    if isinstance(where, list) and where:
        text += "\n  " + "\n  ".join(str(line) for line in where)
    return text


def _count(value: Any) -> int | None:
    """A count from the worker's reply, or None for anything that is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
