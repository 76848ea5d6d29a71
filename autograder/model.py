"""Typed records that flow from the worker through the judge to grading.

Every call into student code comes back as one :class:`CallRecord`; every
watched route (a forbidden operator seen at run time, or a name found by the
static scan of a solution cell) is a :class:`Route`. Later stages read these
records, never strings that an earlier stage formatted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Route:
    """A watched route: ``what`` was taken in notebook cell ``cell``.

    ``kind`` says where it was seen: "run" (by the worker's monitor, during a
    call) or "source" (by the static scan, at ``line`` of the cell).
    """

    what: str                # "aten.convolution.default", "F.conv2d", "import gc"
    cell: str                # grade_id of the cell whose code took it
    kind: str = "run"
    line: int | None = None
    category: str = ""       # set by the scan; run-time routes are classified by autograder.grading.rules

    def __str__(self) -> str:
        if self.kind == "source":
            return f"{self.what}, line {self.line} in the source of cell {self.cell}"
        return f"{self.what} in cell {self.cell}"


@dataclass(frozen=True)
class CallRecord:
    """One call into student code, as the judge saw it.

    ``function`` is the student's name the call started from (for a method of a
    returned object, the function that returned it). ``seconds`` is the judge's
    own wall-clock time for the round trip; ``cpu_seconds`` the CPU time the worker (and whatever it
    started) spent on it, read by the judge from outside, or None where it was not measured. ``ops`` is the
    number of aten operators the call ran, as the worker's dispatch monitor counted them (None: not counted);
    unlike a time, it is the same on every machine. ``steps`` is the number of Python steps (lines run,
    calls made) of a counted call (``Student.counted``), None otherwise.
    """

    function: str
    label: str                                   # "corr2d(tensor float32 (5, 7), ...)"
    value: Any = None
    mutated: tuple[str, ...] = ()                # arguments modified in place: "0", "1" or a keyword
    routes: tuple[Route, ...] = ()
    seconds: float = 0.0
    error: str = ""                              # empty when the call returned
    timed_out: bool = False
    cpu_seconds: float | None = None
    ops: int | None = None
    steps: int | None = None


@dataclass
class LoadReport:
    """What happened while the notebook's cells were run at start-up."""

    errors: dict[str, str] = field(default_factory=dict)   # cell -> message
    skipped: list[str] = field(default_factory=list)       # cells that hung or killed the worker


def entry_parts(name: str) -> tuple[str, str]:
    """(assignment, item) of a results.json test name: ``"04_backprop/conv_forward: title"`` gives
    ("04_backprop", "conv_forward"); a notebook-wide entry (``"01_corr2d: grader tampering"``) gives item ""."""
    head = name.split(":", 1)[0]
    assignment, _, item = head.partition("/")
    return assignment.strip(), item.strip()
