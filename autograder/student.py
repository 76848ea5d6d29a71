"""The judge's view of a submission: call its functions, receive only data.

``student.corr2d(X, K)`` sends ``X`` and ``K`` to the worker, runs the student's
``corr2d`` there and returns a fresh tensor built from the reply. Objects that
are not data (a student's ``nn.Module``) come back as :class:`RemoteObject`
handles. Every failure surfaces as a :class:`StudentError` whose message says
what was called with what, and what went wrong.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch

from autograder import worker as codec
from autograder.sandbox import LIMITS, Limits, WorkerFault, WorkerProcess, new_worker

MAX_TIMEOUTS = 2   # after this many, calls of the same function fail at once: grading stays fast


class StudentError(Exception):
    """A call into student code failed: it raised, timed out or killed the worker.

    ``kinds`` names the built-in exception classes the student's error derives
    from (empty for a timeout or a crash).
    """

    def __init__(self, message: str, kinds: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.kinds = kinds


def describe(value: Any) -> str:
    """Short, shape-level description of an argument or a result."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        device = "" if value.device.type == "cpu" else f" on {value.device}"
        return f"tensor {dtype} {tuple(value.shape)}{device}"
    if isinstance(value, RemoteObject):
        return f"<{value._type} object>"
    if isinstance(value, (list, tuple)) and len(value) <= 8:
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, (int, float, bool, str)) or value is None:
        return repr(value)
    return type(value).__name__


def describe_call(name: str, args: tuple, kwargs: dict) -> str:
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


@dataclass
class Cell:
    """Source code to run in the worker, in notebook order."""

    name: str
    source: str
    trusted: bool = False   # course code from the release (setup cells), not the student's


@dataclass
class LoadReport:
    errors: dict[str, str] = field(default_factory=dict)   # cell name -> message
    skipped: list[str] = field(default_factory=list)       # cells that killed the worker


class RemoteObject:
    """A handle to an object living in the worker (a module, a method...)."""

    def __init__(self, student: Student, data: dict, origin: str) -> None:
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_ref", {"__ref__": data["__ref__"]})
        object.__setattr__(self, "_type", data.get("type", "object"))
        object.__setattr__(self, "_mro", tuple(data.get("mro", ())))
        object.__setattr__(self, "_origin", origin)
        object.__setattr__(self, "_generation", student._generation)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._student._request("getattr", self, (), {}, origin=self._origin, name=name,
                                      label=f"{self._origin}(...).{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._student._request("setattr", self, (value,), {}, origin=self._origin, name=name,
                               label=f"{self._origin}(...).{name} = {describe(value)}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student._request("call", self, args, kwargs, origin=self._origin,
                                      label=describe_call(f"{self._origin}(...)", args, kwargs))

    def __repr__(self) -> str:
        return f"<remote {self._type} from {self._origin}>"


class RemoteFunction:
    def __init__(self, student: Student, name: str) -> None:
        self.student, self.name = student, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.student.call(self.name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.name}>"


class Student:
    """A running submission. Use as a context manager; it restarts after a fault."""

    def __init__(self, cells: list[Cell], limits: Limits = LIMITS) -> None:
        self.cells = cells
        self.limits = limits
        self.load = LoadReport()
        self.flags: dict[str, set[str]] = defaultdict(set)   # origin -> forbidden routes seen
        self.faults = 0
        self.timeouts: dict[str, int] = defaultdict(int)   # origin -> calls that ran out of time
        self.last_mutated: list[str] = []   # arguments the last call modified ("0", "1", or a keyword)
        self.in_force: list[str] = []       # the worker's own report of its confinement
        self._worker: WorkerProcess | None = None
        self._generation = 0

    # -- lifecycle -------------------------------------------------------------
    def __enter__(self) -> Student:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _ensure_worker(self) -> WorkerProcess:
        if self._worker is not None and self._worker.alive:
            return self._worker
        self._generation += 1
        while True:
            worker = new_worker(self.limits)
            try:
                self._load(worker)
                self._worker = worker
                return worker
            except _CellKilledWorker as killed:
                self.load.skipped.append(killed.cell)
                self.load.errors[killed.cell] = killed.reason

    def _load(self, worker: WorkerProcess) -> None:
        try:
            reply, _ = worker.request({"op": "ping"}, [], self.limits.start_seconds)
        except WorkerFault as fault:  # no student code has run yet: the judge's problem
            raise RuntimeError(f"the worker did not start: {fault.reason}\n{fault.log_tail}") from None
        self.in_force = reply.get("in_force", [])
        for cell in self.cells:
            if cell.name in self.load.skipped:
                continue
            try:
                reply, _ = worker.request({"op": "exec", "source": cell.source, "name": cell.name},
                                          [], self.limits.load_seconds)
            except WorkerFault as fault:
                raise _CellKilledWorker(cell.name, f"running this cell: {fault.reason}") from None
            if not reply.get("ok"):
                self.load.errors[cell.name] = _format_error(reply.get("error", {}))

    # -- calls -------------------------------------------------------------------
    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self, name)

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call the student's ``name`` with data arguments; return data or a handle."""
        return self._request("call", name, args, kwargs, origin=name, timeout=timeout,
                             label=describe_call(name, args, kwargs))

    def grad(self, name: str, args: tuple, wrt: tuple[int, ...], dout: torch.Tensor,
             timeout: float | None = None, **kwargs: Any) -> tuple[Any, tuple | None]:
        """Call ``name``, then back-propagate ``dout`` through the student's graph.

        Returns ``(out, grads)``; ``grads`` is None when ``out`` carries no graph.
        """
        return self._request("grad", name, args, kwargs, origin=name, timeout=timeout,
                             label=describe_call(name, args, kwargs), wrt=list(wrt),
                             dout=dout)

    @staticmethod
    def type_names(obj: Any) -> tuple[str, ...]:
        """Qualified names of the classes of a remote object (its MRO)."""
        if isinstance(obj, RemoteObject):
            return obj._mro
        return tuple(f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__)

    def _request(self, op: str, target: Any, args: tuple, kwargs: dict, *, origin: str,
                 label: str, timeout: float | None = None, **extra: Any) -> Any:
        if self.timeouts[origin] >= MAX_TIMEOUTS:
            raise StudentError(f"{label}: not run, {origin} already ran out of time {MAX_TIMEOUTS} times")
        if isinstance(target, RemoteObject) and target._generation != self._generation:
            raise StudentError(f"{label}: the object was lost when an earlier call crashed the worker")
        worker = self._ensure_worker()
        blobs: list[bytes] = []
        header: dict[str, Any] = {
            "op": op,
            "target": target._ref if isinstance(target, RemoteObject) else target,
            "args": codec.encode(list(args), blobs, keep=_refuse),
            "kwargs": codec.encode(dict(kwargs), blobs, keep=_refuse),
        }
        if "dout" in extra:
            header["dout"] = codec.encode(extra.pop("dout"), blobs)
        header.update(extra)
        header["nonce"] = nonce = secrets.token_hex(8)
        try:
            reply, reply_blobs = worker.request(header, blobs, timeout or self.limits.call_seconds)
        except WorkerFault as fault:
            self.faults += 1
            self.timeouts[origin] += fault.timed_out
            self._worker = None
            tail = f"\nlast output of the worker:\n{fault.log_tail.strip()[-800:]}" if fault.log_tail.strip() else ""
            raise StudentError(f"{label}: {fault.reason}{tail}") from None
        if reply.get("nonce") != nonce:  # a forged or stale reply: start afresh
            self._drop_worker()
            raise StudentError(f"{label}: the worker's reply was not the answer to this call "
                               "(something wrote into the grader's pipe)")
        self.flags[origin].update(reply.get("flags", []))
        self.last_mutated = [str(k) for k in reply.get("mutated", [])]
        if not reply.get("ok"):
            error = reply.get("error", {})
            kinds = tuple(str(k) for k in error.get("kinds", []))
            raise _error_class(kinds)(f"{label} raised {_format_error(error)}", kinds)
        try:
            return codec.decode(reply["value"], reply_blobs,
                                resolve=lambda data: RemoteObject(self, data, origin))
        except Exception as error:  # noqa: BLE001 - malformed reply from a hostile worker
            self._drop_worker()
            raise StudentError(f"{label}: the reply could not be read ({error})") from None

    def _drop_worker(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None


class _CellKilledWorker(Exception):
    def __init__(self, cell: str, reason: str) -> None:
        super().__init__(reason)
        self.cell, self.reason = cell, reason


def _refuse(obj: Any) -> int:
    raise TypeError(f"cannot send {type(obj).__name__} to the worker")


def _error_class(kinds: tuple[str, ...]) -> type[StudentError]:
    """A StudentError that is also the student's built-in exception class.

    So ``except ValueError`` in a public check catches a ValueError raised in the
    worker. Only ``Exception`` subclasses qualify: a student's SystemExit or
    KeyboardInterrupt never becomes one in the judge.
    """
    import builtins

    for name in kinds:
        base = getattr(builtins, name, None)
        if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
            try:
                return type(f"Student{name}", (StudentError, base), {})
            except TypeError:  # incompatible layouts (OSError and kin)
                continue
    return StudentError


def _format_error(error: dict) -> str:
    text = f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
    where = error.get("where") or []
    if where:
        text += "\n  " + "\n  ".join(where)
    return text
