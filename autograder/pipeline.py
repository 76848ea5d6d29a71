"""Grade notebooks: find them, run the judge on each, turn its judgement into scores.

Scoring of one item worth ``P`` points (the nbgrader points of its test cell):
the public checks carry the assignment's public share of ``P`` (a quarter), the
hidden cases the rest, split by their weights. Where the hidden cases are not
installed (the student template), the item's maximum is the public share alone.
A route that breaks the from-scratch rule scores the whole item 0; reaching for
the grader's machinery scores the notebook 0.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import assignment_names
from autograder.grading import rules
from autograder.grading.declarations import PUBLIC_SHARE
from autograder.judge import plugin as judge
from autograder.judge import seeds
from autograder.model import Entry, NotebookResult, Route
from autograder.notebook import NotebookError, Release, Submission, read_release, read_submission
from autograder.sandbox import process as sandbox


class UsageError(Exception):
    """A path that names nothing gradable; the CLI exits 2."""


# -- finding notebooks ---------------------------------------------------------

def load_releases(release_dir: Path) -> dict[str, Release]:
    releases = {}
    for name in assignment_names(release_dir):
        notebook = Path(release_dir) / name / f"{name}.ipynb"
        if notebook.is_file():
            releases[name] = read_release(notebook)
    if not releases:
        raise UsageError(f"no released assignments under {release_dir}")
    return releases


def find_notebooks(path: Path, releases: dict[str, Release]) -> list[tuple[Path, str]]:
    """(notebook, assignment) pairs named by ``path``: a file, an assignment folder or a submission folder."""
    path = Path(path)
    if path.suffix == ".ipynb" or path.is_file():
        assignment = path.stem if path.stem in releases else path.parent.name
        if assignment not in releases:
            raise UsageError(f"{path}: not a notebook of this course (expected one of {', '.join(releases)})")
        return [(path, assignment)]
    if not path.is_dir():
        if path.name in releases:
            return [(path / f"{path.name}.ipynb", path.name)]
        raise UsageError(f"{path}: no such file or folder")
    if path.name in releases:
        return [(path / f"{path.name}.ipynb", path.name)]
    found = [(path / name / f"{name}.ipynb", name) for name in releases if (path / name).is_dir()]
    if not found:  # nbgrader's submitted/<student>/<assignment>/<assignment>.ipynb, at any depth
        found = sorted((notebook, notebook.stem) for notebook in path.rglob("*.ipynb")
                       if notebook.stem in releases and notebook.parent.name == notebook.stem
                       and ".ipynb_checkpoints" not in notebook.parts)
    if not found:
        raise UsageError(f"{path}: holds no assignment folder ({', '.join(releases)})")
    return found


# -- the one pipeline: grade, grade-all and nbgrader's autograde all come here ------------------

@dataclass
class Run:
    """What grading some paths gave: a result per notebook, and the paths that named nothing gradable."""

    results: list[NotebookResult] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)

    @property
    def internal_error(self) -> bool:
        return any(result.internal_error for result in self.results)


def grade_paths(paths: list[Path], releases: dict[str, Release], hidden: bool = True, seed: int | None = None,
                student: str | None = None, progress: Callable[[NotebookResult], None] | None = None,
                push: str | None = None) -> Run:
    """Grade every notebook that ``paths`` name (files, assignment folders, submission folders).

    Every process of every worker is gone when it returns, so nothing a notebook started outlives its report.
    """
    run = Run()
    targets = []
    for path in paths:
        try:
            targets.extend(find_notebooks(path, releases))
        except (UsageError, OSError) as error:
            run.unusable.append(str(error))
    try:
        for notebook, assignment in targets:
            run.results.append(grade_notebook(notebook, releases[assignment], hidden=hidden, seed=seed,
                                              student=student, push=push))
            if progress:
                progress(run.results[-1])
    finally:
        sandbox.reap()
    return run


# -- grading one notebook ------------------------------------------------------

def grade_notebook(path: Path, release: Release, hidden: bool = True, seed: int | None = None,
                   student: str | None = None, push: str | None = None) -> NotebookResult:
    """Grade one notebook; ``seed`` replays a recorded grading, ``student`` names whose notebook it is.

    ``push`` (a commit, "" when unknown) grades it for a push's feedback: the hidden inputs come from a seed of
    that push, never the final grading's, and the student's messages hold those inputs back (``score``'s ``hold``).
    """
    started = time.monotonic()
    result = NotebookResult(str(path), release.assignment)
    result.manual = [{"name": f"{release.assignment}/{m.grade_id}: written answer", "assignment": release.assignment,
                      "grade_id": m.grade_id, "max_score": m.points} for m in release.manual]
    has_cases = hidden and judge.cases_file(release.assignment).exists()
    try:
        submission = read_submission(path, release)
    except NotebookError as error:
        result.notes.append(f"Could not read the notebook: {error}")
        result.hidden = has_cases
        result.entries = _zero_entries(release, str(error), has_cases)
        result.seconds = time.monotonic() - started
        return result
    result.notes.extend(submission.notes)
    static, tampering = scan_submission(submission)
    student_sources = [cell.source for cell in submission.cells if not cell.trusted]
    chosen = seeds.for_notebook(path, release.assignment, student_sources, student, seed, push=push)
    try:
        judgement = _judge(release, submission.cells, hidden, chosen.value)
    except Exception as error:  # noqa: BLE001 - keep the score's denominator, report, go on
        result.internal_error = f"{type(error).__name__}: {error}"
        result.notes.append(f"Internal error of the autograder; nothing was graded: {result.internal_error}")
        result.instructor_only.append(result.notes[-1])
        result.hidden = has_cases
        result.entries = _zero_entries(release, "internal error of the autograder", has_cases)
        result.seconds = time.monotonic() - started
        return result
    for cell, message in judgement.load.errors.items():
        hint = submission.hint(message)
        result.notes.append(f"Cell '{cell}' raised an error when run: {message}" + (f"\n{hint}" if hint else ""))
    result.isolation = judgement.isolation
    result.hidden = any(not case.public for case in judgement.cases)
    result.seed = chosen if result.hidden else None
    if result.hidden and not seeds.course_secret():
        result.notes.append("No course secret is set (autograder/cases/course_secret or $AUTOGRADER_COURSE_SECRET): "
                            "anyone with the hidden cases can tell which inputs a notebook will meet")
        result.instructor_only.append(result.notes[-1])
    replay = f"replay: python -m autograder grade {shlex.quote(str(path))} --seed {chosen.value}"
    result.entries, warnings = score(release, judgement, static, tampering, replay, submission.hint,
                                     hold=push is not None)
    result.notes.extend(warnings)
    result.seconds = time.monotonic() - started
    return result


def _judge(release: Release, cells, hidden: bool, seed: int) -> judge.Judgement:
    """The judge's verdict; after a fault of the grader's own machinery, once more with a fresh zygote."""
    try:
        return judge.judge(release, cells, hidden=hidden, seed=seed)
    except sandbox.GraderFault:
        sandbox.restart()
        return judge.judge(release, cells, hidden=hidden, seed=seed)


def scan_submission(submission: Submission) -> tuple[list[Route], list[Route]]:
    """The static scan of the student's cells: (forbidden routes, tampering)."""
    static, tampering = [], []
    for cell in submission.cells:
        if not cell.trusted:
            forbidden, tampered = rules.scan(cell.source, cell.name)
            static += forbidden
            tampering += tampered
    return static, tampering


def score(release: Release, judgement: judge.Judgement, static: list[Route] = (),
          tampering: list[Route] = (), replay: str = "",
          hint: Callable[[str], str] = lambda output: "", hold: bool = False) -> tuple[list[Entry], list[str]]:
    """Entries per case, and notes; the from-scratch rule zeroes an item, tampering the whole notebook.

    A failed case's output gains ``hint(output)`` when there is one (a name defined in a cell that is
    not run); a failed hidden case's ends with ``replay``, the command that meets the same inputs again.

    With ``hold`` (a push's feedback), a hidden case's message shows the kind of each input value, not the value
    (``values.hold_back``); the full message stays in the entry's ``output_full``, for the instructor.

    Without the assignment's declaration (the hidden cases are not installed),
    its rule exceptions are unknown: routes seen at run time are then reported
    as notes, and only what the static scan finds scores an item 0.
    """
    declared = judgement.declaration
    share = declared.public_share if declared else PUBLIC_SHARE
    entries, notes = [], []
    for item, points in release.item_points().items():
        item_id = f"{release.assignment}/{item}"
        mine = [c for c in judgement.cases if c.item == item]
        public = [c for c in mine if c.public]
        hidden = [c for c in mine if not c.public]
        item_entries = []
        # Public checks are a sample of the hidden ones: answers written for their
        # visible inputs alone (and nothing else right) earn nothing.
        earned_hidden = not hidden or any(case.passed for case in hidden)
        for group, group_share in ((public, share), (hidden, 1 - share)):
            total_weight = sum(c.weight for c in group) or 1.0
            for case in group:
                worth = points * group_share * case.weight / total_weight
                extra = [] if case.passed else [hint(case.output), "" if case.public else replay]
                output = "\n".join([case.output, *filter(None, extra)])
                entry = Entry(release.assignment, item, case.title, worth if case.passed else 0.0, worth, output,
                              replay="" if case.passed or case.public else replay)
                if hold and case.held and not case.public:
                    entry.output_full, entry.output = output, "\n".join([case.held, *filter(None, extra)])
                if case.public and case.passed and not earned_hidden:
                    entry.score = 0.0
                    entry.output = ("the public checks pass, but no hidden check does: public points count "
                                    "only with at least one hidden check passed")
                item_entries.append(entry)
        run_routes = {route for call in judgement.calls if call.function == item for route in call.routes}
        cell_routes = [route for route in static if route.cell == item]
        rule = declared.rule(item) if declared else rules.ItemRule()
        broken = rules.violations(rule, cell_routes + (sorted(run_routes) if declared else []))
        if not declared:
            unsure = rules.violations(rule, run_routes)
            if unsure:
                notes.append(f"{item_id} took {', '.join(map(str, unsure))}: the instructor's grading scores it 0 "
                             "unless this item allows it")
        if broken:
            for entry in item_entries:
                entry.score = 0.0
                verdict = f"scored 0: {item_id} breaks the from-scratch rule (see that entry)"
                entry.output = (entry.output + "\n" if entry.output else "") + verdict
                if entry.output_full:
                    entry.output_full += "\n" + verdict
            item_entries.append(Entry(
                release.assignment, item, "from-scratch rule", 0.0, 0.0,
                "This item scores 0: it used " + ", ".join(map(str, broken)) +
                ". Build it from indexing, slicing, sums, einsum or matmul instead.", failed=True,
                verdict="from-scratch", used=tuple(sorted({route.what for route in broken}))))
        entries.extend(item_entries)
    if tampering:
        for entry in entries:
            entry.score = 0.0
        entries.append(Entry(
            release.assignment, "", "grader tampering", 0.0, 0.0,
            "The whole notebook scores 0: its solution cells reach into the grader's machinery (" +
            ", ".join(f"{route.what}, line {route.line} in the source of cell {route.cell}" for route in tampering)
            + "). No exercise of this course needs these; ask your instructor if you think this is a mistake.",
            failed=True, verdict="tampering", used=tuple(sorted({route.what for route in tampering}))))
    return entries, notes


def _zero_entries(release: Release, reason: str, hidden: bool) -> list[Entry]:
    share = 1.0 if hidden else PUBLIC_SHARE
    return [Entry(release.assignment, item, "not graded", 0.0, points * share, reason)
            for item, points in release.item_points().items()]
