"""Speed checks: a student's function against a trusted reference, as a ratio of times the judge measures.

On CPU both sides are measured in CPU seconds on one thread, so that a busy
machine, which only ever adds wall-clock time, cannot decide a verdict, and
neither can the number of cores or ``grade-all --jobs``. The worker runs torch
on ``sandbox.WORKER_THREADS`` (one) thread; the reference runs here, in the
judge, on one thread too, for the length of the check. The student's CPU time
is the worker's (and whatever it started), read by the judge from outside
(``CallRecord.cpu_seconds``: :class:`autograder.sandbox.process.Meter`), never a clock
that student code can reach or replace. The wire's own cost for the same
arguments and a reply of the same size (``Student.echo``, which runs no student
code) is taken off, so it cannot decide a verdict; never more than half of the
student's time, so student code that slows the echo's library calls down wins
at most a factor 2. Repeats alternate between the two after a warm-up, and
their fastest runs are compared; a check that fails is measured once more
before it stands. On CUDA (where the arguments are moved when it is
available), the work is the GPU's and both sides are timed on the wall clock.

Before any timing, a check given ``larger`` arguments (the same call with one
dimension doubled: the batch, the rows or the columns) counts what each call
does (``Student.counted``): the aten operators the worker's dispatch monitor
sees and the Python steps (lines run, calls made) a tracer sees. A function
whose operators or steps grow with that dimension, by a quarter of its size or
more, does work per image, per row or per column: a Python loop over it, in
torch, numpy or plain Python, failed whatever the times. Counts are the same
on every machine, so a loop whose time lands near the limit cannot pass on one
run and fail on the next. The time ratio remains for what counts cannot see (a
slow library call).

A verdict's message carries no measured figure: the same notebook gets the
same words, whatever the machine (``tests/benchmarks/same_bytes.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from autograder.judge import expect

FAR_OFF = 2    # a function this many times over the limit is not timed again
WIRE_SHARE = 0.5   # the most of a student's measured time that is put down to the wire
ADVICE = ("A Python loop over the batch or over output positions is the usual cause: loop at most over kernel "
          "offsets or channels, and let one matmul or einsum do the rest.")


GROWTH_SHARE = 0.25    # steps added per added image (row, column) that make a loop over them


@dataclass(frozen=True)
class Growth:
    """What a call ran at a size and at the size with one dimension doubled: aten operators and Python steps."""

    along: str           # "the batch (N)", "the rows (H)" or "the columns (W)"
    size: int            # that dimension's size in the smaller call
    ops: int
    larger_ops: int
    steps: int
    larger_steps: int

    @property
    def loops(self) -> bool:
        least = max(1, GROWTH_SHARE * self.size)
        return self.larger_ops - self.ops >= least or self.larger_steps - self.steps >= least

    def message(self, outcome: str = "which fails a speed check whatever the times") -> str:
        return (f"it does more steps as {self.along} grows: {self.ops} tensor operations and {self.steps} Python "
                f"steps for {self.size}, {self.larger_ops} and {self.larger_steps} for {2 * self.size}. That is a "
                f"Python loop over {self.along}, {outcome}.")


@dataclass(frozen=True)
class Verdict:
    call: str
    device: str
    limit: float         # the largest ratio that passes
    student: float       # seconds of the student's function (fastest run), the wire's cost taken off
    reference: float     # seconds of the reference (fastest run)
    wire: float          # seconds of a round trip that runs no student code (fastest run)
    clock: str = "cpu"   # "cpu": CPU seconds on one thread; "wall": the wall clock (CUDA)
    growth: Growth | None = None   # operator counts at two sizes, where they were compared

    @property
    def ratio(self) -> float:
        return self.student / self.reference

    @property
    def passed(self) -> bool:
        return not (self.growth and self.growth.loops) and self.ratio <= self.limit

    def message(self) -> str:
        """What the student reads: the limit and the verdict, without the run's own figures."""
        if self.growth and self.growth.loops:
            return f"{self.call} on {self.device}: {self.growth.message()} {ADVICE}"
        if self.passed:
            return f"{self.call} on {self.device} was within {self.limit:g} times the reference's time."
        return f"{self.call} on {self.device} took more than {self.limit:g} times as long as the reference. {ADVICE}"

    def figures(self) -> str:
        """The measured times, for benchmarks and instructors."""
        unit = "CPU" if self.clock == "cpu" else "wall-clock"
        return (f"{self.ratio:.1f}x ({self.student * 1e3:.2f} ms against {self.reference * 1e3:.2f} ms of {unit} "
                f"time; the wire's {self.wire * 1e3:.2f} ms not counted)")


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _on(value: Any, where: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(where)
    if isinstance(value, (tuple, list)):
        return type(value)(_on(v, where) for v in value)
    return value


def _nbytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """The judge's torch on one thread, as the worker's is, for the length of a check."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _timed(reference: Callable, args: tuple, cpu: bool) -> float:
    # On one thread the reference runs on this thread: its CPU clock counts that work and nothing else (not
    # the idle spinning of threads an earlier parallel region left behind, which the process clock would).
    clock = time.thread_time if cpu else time.perf_counter
    started = clock()
    reference(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return clock() - started


def measure(student, name: str, args: tuple, reference: Callable, *, limit: float, repeats: int = 7,
            warmup: int = 2, call: str = "") -> Verdict:
    """Time ``student.<name>(*args)`` against ``reference(*args)`` on the speed checks' device."""
    where = device()
    cpu = where.type == "cpu"
    args = _on(args, where)

    def theirs_once() -> tuple[float, int]:
        record = student.record(name, *args)
        seconds = record.cpu_seconds if cpu and record.cpu_seconds is not None else record.seconds
        return seconds, _nbytes(record.value)

    with one_thread():
        reply_bytes = 0
        for _ in range(warmup):
            reply_bytes = theirs_once()[1]
            _timed(reference, args, cpu)
        theirs, ours, wire = [], [], []
        for _ in range(repeats):
            theirs.append(theirs_once()[0])
            wire.append(student.echo(args, reply_bytes, cpu=cpu))
            ours.append(_timed(reference, args, cpu))
            if min(theirs) - min(wire) > FAR_OFF * limit * min(ours):
                break   # hopeless whatever the noise: a slow function is not run again and again
    # The echo runs library code that student code could slow down; taking off at most half of the
    # student's time bounds what that can win to a factor 2 (loops sit well above the limit).
    cost = min(min(wire), WIRE_SHARE * min(theirs))
    return Verdict(call or name, where.type, limit, max(min(theirs) - cost, 1e-9), max(min(ours), 1e-9), cost,
                   "cpu" if cpu else "wall")


def growth(student, name: str, args: tuple, larger: tuple, along: str, size: int) -> Growth | None:
    """The counts of ``name(*args)`` against ``name(*larger)``; None where the student's calls are not counted.

    The larger call runs first and last and its smaller count is kept, so that work done once (a lazy import,
    a cache filled) on the first call at a new size is never taken for growth.
    """
    records = [student.counted(name, *_on(each, device())) for each in (larger, args, larger)]
    if any(record.error or record.ops is None or record.steps is None for record in records):
        return None     # a failed call is the correctness checks' business; the times still decide
    first, smaller, last = records
    return Growth(along, size, smaller.ops, min(first.ops, last.ops), smaller.steps,
                  min(first.steps, last.steps))


def no_loop(student, name: str, args: tuple, larger: tuple, along: str, size: int, call: str) -> None:
    """Fail the case if ``name`` does more work as ``along`` doubles: a task's "no Python loop over ..." rule.

    Counts only (:func:`growth`), never times, so the verdict is the same on every machine; where calls are not
    counted (a notebook's kernel) there is nothing to decide and the case passes.
    """
    grown = growth(student, name, args, larger, along, size)
    if grown is not None and grown.loops:
        expect.fail(f"{call}: {grown.message('which the task rules out')}")


def verdict(student, name: str, args: tuple, reference: Callable, *, limit: float,
            larger: tuple | None = None, along: str = "", size: int = 0, **options: Any) -> Verdict:
    """The verdict ``check`` gives, without failing the case: operator growth first, then times.

    ``larger`` is ``args`` with the dimension ``along`` (``size`` long in ``args``) doubled. A failing time is
    measured again, and stands only if the second measure fails too.
    """
    grown = growth(student, name, args, larger, along, size) if larger is not None else None
    if grown and grown.loops:
        return Verdict(options.get("call") or name, device().type, limit, float("inf"), 1.0, 0.0, growth=grown)
    result = measure(student, name, args, reference, limit=limit, **options)
    if not result.passed:
        result = measure(student, name, args, reference, limit=limit, **dict(options, warmup=1))
    return dataclasses.replace(result, growth=grown)


def check(student, name: str, args: tuple, reference: Callable, *, limit: float, **options: Any) -> Verdict:
    """Fail the case, saying why, unless the student's function passes :func:`verdict`."""
    result = verdict(student, name, args, reference, limit=limit, **options)
    if not result.passed:
        expect.fail(result.message())
    return result
