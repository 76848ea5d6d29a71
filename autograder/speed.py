"""Speed checks: a student's function against a trusted reference, as a ratio of times the judge measures.

The student's function runs in the worker and is timed by the judge around
the round trip (``CallRecord.seconds``): no clock that student code can reach
or replace. The wire's own cost for the same arguments and a reply of the same
size (``Student.echo``, which runs no student code) is taken off, so it cannot
decide a verdict; never more than half of the student's time, so student code
that slows the echo's library calls down wins at most a factor 2. The
reference runs here, in the judge. Repeats alternate between the two after a
warm-up, and their fastest runs are compared: noise from a busy machine only
ever adds time. Everything runs on CUDA when it is available (the
arguments are moved there), else on CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from autograder import expect

FAR_OFF = 4    # a function this many times over the limit is not timed again
WIRE_SHARE = 0.5   # the most of a student's measured time that is put down to the wire
ADVICE = ("A Python loop over the batch or over output positions is the usual cause: loop at most over kernel "
          "offsets or channels, and let one matmul or einsum do the rest.")


@dataclass(frozen=True)
class Verdict:
    call: str
    device: str
    limit: float         # the largest ratio that passes
    student: float       # seconds of the student's function (fastest run), the wire's cost taken off
    reference: float     # seconds of the reference (fastest run)
    wire: float          # seconds of a round trip that runs no student code (fastest run)

    @property
    def ratio(self) -> float:
        return self.student / self.reference

    @property
    def passed(self) -> bool:
        return self.ratio <= self.limit

    def message(self) -> str:
        verdict = "within" if self.passed else "over"
        return (f"{self.call} on {self.device} took {self.ratio:.1f}x as long as the reference, {verdict} the limit "
                f"of {self.limit:g}x ({self.student * 1e3:.2f} ms against {self.reference * 1e3:.2f} ms; the wire's "
                f"{self.wire * 1e3:.2f} ms are not counted)." + ("" if self.passed else " " + ADVICE))


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


def _timed(reference: Callable, args: tuple) -> float:
    started = time.perf_counter()
    reference(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def measure(student, name: str, args: tuple, reference: Callable, *, limit: float, repeats: int = 7,
            warmup: int = 2, call: str = "") -> Verdict:
    """Time ``student.<name>(*args)`` against ``reference(*args)`` on the speed checks' device."""
    where = device()
    args = _on(args, where)
    reply_bytes = 0
    for _ in range(warmup):
        reply_bytes = _nbytes(student.record(name, *args).value)
        _timed(reference, args)
    theirs, ours, wire = [], [], []
    for _ in range(repeats):
        theirs.append(student.record(name, *args).seconds)
        wire.append(student.echo(args, reply_bytes))
        ours.append(_timed(reference, args))
        if min(theirs) - min(wire) > FAR_OFF * limit * min(ours):
            break   # hopeless whatever the noise: a slow function is not run again and again
    # The echo runs library code that student code could slow down; taking off at most half of the
    # student's time bounds what that can win to a factor 2 (loops sit 2.6x or more above the limit).
    cost = min(min(wire), WIRE_SHARE * min(theirs))
    return Verdict(call or name, where.type, limit, max(min(theirs) - cost, 1e-9), max(min(ours), 1e-9), cost)


def check(student, name: str, args: tuple, reference: Callable, *, limit: float, **options: Any) -> Verdict:
    """Fail the case, saying by how much and why, unless the student's function is within ``limit`` times."""
    verdict = measure(student, name, args, reference, limit=limit, **options)
    if not verdict.passed:
        expect.fail(verdict.message())
    return verdict
