"""The judge's view of a submission: call its functions, receive only data.

One protocol, :class:`StudentBase`, with two implementations:
``autograder.student.sandboxed.Student`` runs the submission in a walled-off worker
(``python -m autograder``), and ``autograder.student.kernel.LocalStudent`` calls a live
notebook namespace (the instructor's ``nbgrader validate``). Cases use either the same way::

    student.corr2d(X, K)                  # the value, or StudentError
    record = student.record("corr2d", X, K)
    record.value, record.mutated          # a CallRecord: value, modified arguments, routes, seconds
    student.grad("corr2d", (X, K), wrt=(0, 1), dout=dout)

Every call, returned or failed, is kept in ``student.records`` in order.
"""

from __future__ import annotations

from typing import Any

from autograder.model import CallRecord
from autograder.sandbox import values


class StudentError(Exception):
    """A call into student code failed: it raised, timed out or killed the worker.

    ``kinds`` names the built-in exception classes the student's error derives
    from (empty for a timeout or a crash); ``record`` is the call's record. The message names the call's
    inputs in full; ``marked`` keeps them held (``values.held``), for a push's feedback.
    """

    def __init__(self, message: str, kinds: tuple[str, ...] = (), record: CallRecord | None = None) -> None:
        super().__init__(values.reveal(message))
        self.marked = message
        self.kinds = kinds
        self.record = record


class StudentBase:
    """What every view of a submission offers; subclasses implement :meth:`_invoke`."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self, name)

    def record(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> CallRecord:
        """Call the student's ``name``; the whole record, or StudentError if the call failed."""
        return self._invoke("call", name, args, kwargs, origin=name, timeout=timeout)

    def counted(self, name: str, *args: Any) -> CallRecord:
        """``record``, with the operators and Python steps the call took counted (slower: never timed)."""
        return self._invoke("count", name, args, {}, origin=name)

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call the student's ``name`` with data arguments; return data (or a handle)."""
        return self.record(name, *args, timeout=timeout, **kwargs).value

    def grad(self, name: str, args: tuple, wrt: tuple[int, ...], dout, timeout: float | None = None,
             **kwargs: Any) -> tuple[Any, tuple | None]:
        """Call ``name``, then back-propagate ``dout`` through the student's graph.

        Returns ``(out, grads)``; ``grads`` is None when ``out`` carries no graph.
        """
        return self._invoke("grad", name, args, kwargs, origin=name, timeout=timeout,
                            wrt=list(wrt), dout=dout).value

    def echo(self, args: tuple, reply_bytes: int, cpu: bool = False) -> float:
        """Seconds of a round trip that carries ``args`` there and ``reply_bytes`` back and runs no student code
        (with ``cpu``, the CPU seconds the worker spent on it)."""
        return 0.0

    @staticmethod
    def type_names(obj: Any) -> tuple[str, ...]:
        """Qualified names of the classes of a returned object (its MRO)."""
        return values.type_names(obj)

    def _keep(self, record: CallRecord, kinds: tuple[str, ...] = ()) -> CallRecord:
        """File the record; raise StudentError for a failed call."""
        self.records.append(record)
        if record.error:
            raise values.exception_class(kinds, StudentError)(record.error, kinds, record)
        return record

    def _invoke(self, op: str, target: Any, args: tuple, kwargs: dict, *, origin: str,
                timeout: float | None = None, **extra: Any) -> CallRecord:
        raise NotImplementedError


class RemoteFunction:
    def __init__(self, student: StudentBase, name: str) -> None:
        self.student, self.name = student, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.student.call(self.name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.name}>"
