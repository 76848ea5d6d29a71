"""Typed records that flow from the worker through the judge and grading to the reports.

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


@dataclass(frozen=True)
class Seed:
    """The seed of a notebook's hidden inputs, and where it came from."""

    value: int
    origin: str     # "student 'alice'", "notebook content", "--seed"

    def __str__(self) -> str:
        return f"{self.value} (from {self.origin})"


@dataclass
class Entry:
    """One line of results.json's tests[]: a check of ``item`` of ``assignment`` (item "": of the whole notebook)."""

    assignment: str
    item: str
    title: str
    score: float
    max_score: float
    output: str = ""
    failed: bool = False     # a 0-point entry that still reports a failure (a rule broken)
    replay: str = ""         # the line of ``output`` that replays a failed hidden case: for the instructor
    verdict: str = ""        # "from-scratch" (the item broke the rule) or "tampering" (the notebook scores 0)
    used: tuple[str, ...] = ()   # what the verdict is for: the routes taken ("aten.convolution.default", "import gc")
    output_full: str = ""    # ``output`` for the instructor, where the student's holds a hidden case's inputs back

    @property
    def name(self) -> str:
        """``"01_corr2d/corr2d: random shapes"``, or ``"01_corr2d: grader tampering"`` for the whole notebook."""
        return f"{self.assignment}/{self.item}: {self.title}" if self.item else f"{self.assignment}: {self.title}"

    @property
    def status(self) -> str:
        return "failed" if self.failed or self.score < self.max_score - 1e-9 else "passed"


@dataclass
class NotebookResult:
    path: str
    assignment: str
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manual: list[dict] = field(default_factory=list)
    hidden: bool = True
    seconds: float = 0.0
    isolation: str = ""
    internal_error: str = ""
    seed: Seed | None = None      # of the hidden inputs (None: no hidden case ran)
    instructor_only: list[str] = field(default_factory=list)   # notes of ``notes`` on the grader's machine

    @property
    def score(self) -> float:
        return sum(e.score for e in self.entries)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.entries)


@dataclass(frozen=True)
class Mark:
    """A written answer's grade in nbgrader's gradebook: ``score`` None while nobody has graded it.

    ``status``: "graded" (a score given by hand, in the formgrader), "unanswered" (the cell is still the
    release's stub: nbgrader's automatic 0) or "pending". ``comment`` is what the grader typed, if anything.
    """

    score: float | None
    status: str
    comment: str | None = None
    extra_credit: float = 0.0      # included in ``score``
