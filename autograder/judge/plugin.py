"""The trusted judge: pytest, in this process, over cases that call the worker.

pytest runs with its own configuration (``-c judge.ini``), without conftest
files and without auto-loaded plugins, on two kinds of case:

* the *public checks*: the test cells of the release notebook, executed here
  with the student's names bound to remote proxies (see ``public_checks.py``);
* the *hidden cases*: ``autograder/cases/test_<assignment>.py``, absent from the
  student template, which also declares the assignment's items and rule
  exceptions (``autograder.grading.declarations.Assignment``).

Each case is tagged with its item (``@item("corr2d")``); its outcome is
collected by the hooks below, and a case that reports nothing counts as failed.
:func:`judge` runs one submission in a worker and hands back a
:class:`Judgement`: the cases' outcomes and the record of every call made.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course import COURSE
from autograder.grading.declarations import Assignment
from autograder.judge import seeds
from autograder.judge.expect import CaseFailure
from autograder.model import CallRecord, LoadReport
from autograder.notebook import Cell, Release
from autograder.sandbox import confine, values
from autograder.sandbox.process import GraderFault, Limits
from autograder.student.base import StudentError
from autograder.student.sandboxed import Student

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent
CASES = COURSE.cases
PUBLIC_CHECKS = HERE / "public_checks.py"
CONFIG = HERE / "judge.ini"


@dataclass
class CaseResult:
    item: str            # "corr2d"
    title: str           # "random shapes agree with the reference"
    public: bool
    weight: float
    passed: bool = False
    output: str = "the case reported no result"
    held: str = ""       # the output with its input values held back (values.hold_back), where it differs

    def record(self, text: str) -> None:
        """The message, in full, and with its held values shown by kind (for a push's feedback)."""
        self.output = values.reveal(text)
        shown = values.hold_back(text)
        self.held = shown if shown != self.output else ""


@dataclass(frozen=True)
class Judgement:
    """Everything the judge learnt about one submission; grading reads only this."""

    cases: list[CaseResult]
    calls: tuple[CallRecord, ...]
    load: LoadReport
    isolation: str
    declaration: Assignment | None     # None where the hidden cases are not installed


def cases_file(assignment: str) -> Path:
    return CASES / f"test_{assignment}.py"


@functools.cache
def declaration(assignment: str) -> Assignment | None:
    """The ``ASSIGNMENT`` that the assignment's cases file declares (None without cases)."""
    path = cases_file(assignment)
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"autograder_declaration_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    declared = getattr(module, "ASSIGNMENT", None)
    if not isinstance(declared, Assignment) or declared.name != assignment:
        raise RuntimeError(f"{path.name} does not declare ASSIGNMENT = Assignment({assignment!r}, ...)")
    return declared


def judge(release: Release, cells: list[Cell], hidden: bool = True, limits: Limits | None = None,
          seed: int = seeds.DEFAULT) -> Judgement:
    """Run ``cells`` in a worker and judge them with the public checks and (``hidden``) the hidden cases.

    ``seed`` (see ``autograder.judge.seeds``) fixes the hidden cases' inputs and the worker's generators.
    """
    with Student(cells, limits, seed=seeds.worker_seed(seed)) as student:
        cases = run_cases(release, student, hidden=hidden, seed=seed)
        walls = "; ".join([confine.isolation().describe(), *student.in_force])
        return Judgement(cases, tuple(student.records), student.load, walls,
                         declaration(release.assignment) if hidden else None)


def run_cases(release: Release, student, items: set[str] | None = None,
              hidden: bool = True, public: bool = True, seed: int = seeds.DEFAULT) -> list[CaseResult]:
    """Run public checks and hidden cases (when present) against ``student``, each case seeded from ``seed``."""
    paths = [str(PUBLIC_CHECKS)] if public else []
    hidden_path = cases_file(release.assignment)
    if hidden and hidden_path.exists():
        paths.append(str(hidden_path))
    plugin = JudgePlugin(release, student, items, seed)
    args = ["-c", str(CONFIG), "--rootdir", str(PACKAGE), "--noconftest", "-p", "no:cacheprovider",
            "--import-mode=importlib", "-q", "-p", "no:randomly", *paths]
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[plugin])
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    if plugin.fault is not None:
        raise plugin.fault     # no case's outcome can be trusted: the caller retries or reports an internal error
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not plugin.results:
        raise RuntimeError(f"the judge's pytest run failed ({code!r}):\n{sink.getvalue()[-3000:]}")
    return list(plugin.results.values())


class JudgePlugin:
    """Gives cases their fixtures and records each outcome."""

    def __init__(self, release: Release, student, items: set[str] | None, seed: int = seeds.DEFAULT) -> None:
        self._release = release
        self._student = student
        self.items = items
        self.seed = seed
        self.results: dict[str, CaseResult] = {}
        self.fault: GraderFault | None = None     # the grader's own machinery failed: the run stops there

    def pytest_collection(self, session) -> None:
        """Anything a cases file draws while it is collected comes from the seed too."""
        seeds.start_case(self.seed, "<collection>")

    @pytest.fixture(autouse=True)
    def _seeded_inputs(self, request):
        """Every case draws its inputs from its own streams of the notebook's seed."""
        seeds.start_case(self.seed, request.node.nodeid)

    @pytest.fixture(scope="session")
    def student(self):
        return self._student

    @pytest.fixture(scope="session")
    def release(self):
        return self._release

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "public_cell" in metafunc.fixturenames:
            cells = [pytest.param(test, marks=pytest.mark.item(test.item), id=test.item)
                     for test in self._release.tests]
            metafunc.parametrize("public_cell", cells)

    def pytest_collection_modifyitems(self, config, items: list[pytest.Item]) -> None:
        keep, drop = [], []
        for case in items:
            marker = case.get_closest_marker("item")
            if marker is None:
                raise pytest.UsageError(f"{case.nodeid} is tagged with no item: tag it @item(...)")
            item = marker.args[0]
            if self.items is not None and item not in self.items:
                drop.append(case)
                continue
            public = case.path.resolve() == PUBLIC_CHECKS
            title = "public checks (notebook)" if public else _title(case)
            self.results[case.nodeid] = CaseResult(item, title, public, float(marker.kwargs.get("weight", 1)))
            keep.append(case)
        items[:] = keep
        if drop:
            config.hook.pytest_deselected(items=drop)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(GraderFault):
            self.fault = call.excinfo.value
            item.session.shouldstop = f"the grader failed: {self.fault}"
        result = self.results.get(item.nodeid)
        if result is None:
            return report
        if report.skipped:  # e.g. CUDA cases without a GPU: not part of the score
            del self.results[item.nodeid]
            return report
        if call.when == "call":
            result.passed = report.passed
            result.record("" if report.passed else _message(call.excinfo, result.public))
        elif report.failed:  # setup or teardown failed
            result.passed = False
            result.record(_message(call.excinfo, result.public))
        return report


def _title(case: pytest.Item) -> str:
    doc = (getattr(case, "function", None).__doc__ or "").strip().splitlines()
    title = doc[0].rstrip(".") if doc else case.name.removeprefix("test_").replace("_", " ")
    return title


def _message(excinfo: pytest.ExceptionInfo | None, public: bool) -> str:
    """What the student sees; hidden cases never show their source or expected values."""
    if excinfo is None:
        return "failed"
    error = excinfo.value
    if isinstance(error, StudentError):
        return error.marked
    if isinstance(error, CaseFailure):
        return str(error)
    if public:
        line = _public_line(excinfo)
        text = str(error).strip() or f"{type(error).__name__}"
        return f"{text}\n  in the public check: {line}" if line else text
    if isinstance(error, (AssertionError, TypeError, AttributeError)):
        return "the result did not pass this hidden check (it was not of the expected kind or value)"
    return f"the hidden check could not finish ({type(error).__name__}); please tell your instructor"


def _public_line(excinfo: pytest.ExceptionInfo) -> str:
    for frame in reversed(traceback.extract_tb(excinfo.tb)):
        if frame.filename.startswith("<public"):
            return (frame.line or "").strip() or f"line {frame.lineno}"
    return ""
