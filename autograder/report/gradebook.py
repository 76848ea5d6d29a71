"""The class's gradebook: a row per student, built from that student's ``results.json`` alone.

A row is never kept anywhere but in ``gradebook.csv``: :func:`row_from_results` rebuilds it from the results
file, so a student graded now, one whose grading is taken over from an earlier run (``--resume``) and one
whose written answers were scored later all get their row the same way; only what ``collect`` recorded (the
commit, its flags, the late penalty) is added from ``collected.csv``. :func:`write_gradebook` writes the
CSV, :func:`merge` joins the gradebooks of ``grade-all --shard`` runs.

The late penalty, as in nbgrader, takes a fraction off the student's total (automatic and written points
together, the written ones as graded so far), not off the automatic points alone.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook import Release
from autograder.report import exports
from autograder.report.markdown import inline
from autograder.report.results import csv_cell, csv_text


def _round(value: float) -> float:
    return round(value + 0.0, 4)


@dataclass
class StudentRow:
    """One student's line of the gradebook."""

    student: str
    scores: dict[str, float] = field(default_factory=dict)      # "01_corr2d/corr2d" -> points
    maxima: dict[str, float] = field(default_factory=dict)
    written: dict[str, float | None] = field(default_factory=dict)  # "01_corr2d/explain_flip" -> hand-graded points
    written_maxima: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    seeds: dict[str, int] = field(default_factory=dict)          # assignment -> seed of its hidden inputs
    internal_error: bool = False                                   # the grader failed on this student
    commit: str = ""           # the commit collected (collected.csv), "" when none is known
    penalty: float = 0.0       # the fraction of the total taken off for lateness (collected.csv), 0 to 1

    @property
    def automatic(self) -> float:
        return sum(self.scores.values())

    @property
    def manual(self) -> float:
        """Points of the written answers graded by hand so far (nbgrader's formgrader)."""
        return sum(points for points in self.written.values() if points is not None)

    @property
    def manual_pending(self) -> float:
        """Points of the written answers nobody has graded yet."""
        return sum(self.written_maxima[key] for key, points in self.written.items() if points is None)

    @property
    def late_penalty(self) -> float:
        """Points taken off for lateness: the penalty's fraction of the automatic and written points so far."""
        return _round(min(max(self.penalty, 0.0), 1.0) * (self.automatic + self.manual))

    @property
    def total(self) -> float:
        """Automatic and written points so far, less the late penalty."""
        return _round(self.automatic + self.manual - self.late_penalty)

    def assignment_points(self, assignment: str) -> tuple[float, float]:
        """(points, possible) of one assignment: its automatic and written points so far, less the late
        penalty's share of them; and its automatic and written maxima."""
        mine = f"{assignment}/"
        earned = sum(v for k, v in self.scores.items() if k.startswith(mine))
        earned += sum(v for k, v in self.written.items() if k.startswith(mine) and v is not None)
        possible = sum(v for k, v in {**self.maxima, **self.written_maxima}.items() if k.startswith(mine))
        return _round(earned * (1 - min(max(self.penalty, 0.0), 1.0))), _round(possible)

    def assignments(self) -> list[str]:
        """The assignments of the row's columns, in their order."""
        return list(dict.fromkeys(key.split("/", 1)[0] for key in [*self.maxima, *self.written_maxima]))


def blank_row(student: str, releases: dict[str, Release]) -> StudentRow:
    """A row with every item of ``releases`` at 0 and every written answer pending."""
    row = StudentRow(student)
    for assignment, release in releases.items():
        for item, points in release.item_points().items():
            row.maxima[f"{assignment}/{item}"] = points
            row.scores[f"{assignment}/{item}"] = 0.0
        for cell in release.manual:
            row.written_maxima[f"{assignment}/{cell.grade_id}"] = cell.points
            row.written[f"{assignment}/{cell.grade_id}"] = None
    return row


def row_from_results(student: str, data: dict, releases: dict[str, Release]) -> StudentRow:
    """The gradebook row of a student's ``results.json`` (as :func:`autograder.report.results.results_json`
    writes it), for the assignments of ``releases``."""
    row = blank_row(student, releases)
    notebooks = data.get("notebooks", [])
    graded = {notebook["assignment"] for notebook in notebooks}
    row.flags.extend(f"{assignment}: no submission" for assignment in releases if assignment not in graded)
    for test in data.get("tests", []):
        extra = test.get("extra_data", {})
        key = f"{extra.get('assignment')}/{extra.get('item')}"
        if key in row.scores:
            row.scores[key] += test["score"]
    for notebook in notebooks:
        row.flags.extend(f"{notebook['assignment']}: {note.splitlines()[0]}" for note in notebook["notes"] if note)
        mine = [test for test in data.get("tests", []) if test["extra_data"]["assignment"] == notebook["assignment"]]
        row.flags.extend(verdict_flag(notebook["assignment"], test["extra_data"]) for test in mine
                         if verdict_of(test))
    row.written.update({key: points for key, points in written_scores(data).items() if key in row.written})
    row.seeds = {seed["assignment"]: seed["seed"] for seed in data.get("seeds", [])}
    row.flags.extend(problem.splitlines()[0] for problem in data.get("problems", []) if problem)
    row.internal_error = bool(data.get("internal_error"))
    return row


def verdict_of(test: dict) -> str:
    """The verdict of the rules a test of results.json carries: "from-scratch", "tampering" or ""."""
    extra = test.get("extra_data", {})
    if "verdict" in extra:
        return extra["verdict"]
    # A results.json written before the verdicts were marked: a failed entry of the whole notebook is tampering.
    return "tampering" if not extra.get("item") and test.get("status") != "passed" else ""


def verdict_flag(assignment: str, extra: dict) -> str:
    """The gradebook's flag of a verdict: ``01_corr2d: corr2d breaks the from-scratch rule (used ...)``."""
    used = f" (used {', '.join(extra['used'])})" if extra.get("used") else ""
    if extra.get("verdict", "tampering") == "from-scratch":
        return f"{assignment}: {extra['item']} breaks the from-scratch rule{used}"
    return f"{assignment}: grader tampering, the notebook scores 0{used}"


def written_scores(data: dict) -> dict[str, float | None]:
    """The written answers' points in a results.json (``manual``: None while pending), by
    "01_corr2d/explain_flip": the one place the gradebook reads them from."""
    return {f"{entry.get('assignment')}/{entry.get('grade_id')}": entry.get("score")
            for entry in data.get("manual", []) if entry.get("grade_id")}


COLUMNS = ("automatic", "automatic_max", "manual", "manual_pending", "manual_max", "late_penalty", "total",
           "total_max", "flags", "seeds", "commit")


def write_gradebook(rows, releases, path: Path) -> None:
    """One CSV row per student: ``student``, a column per graded item and per written answer (empty until
    graded by hand), then :data:`COLUMNS`: the automatic points and their maximum, the written answers' points
    so far, those still pending and their maximum, the late penalty (points), the total after it and its
    maximum (automatic and written), flags, seeds and the commit collected."""
    items = [f"{assignment}/{item}" for assignment, release in releases.items() for item in release.item_points()]
    written = [f"{assignment}/{cell.grade_id}" for assignment, release in releases.items() for cell in release.manual]
    maximum = sum(points for release in releases.values() for points in release.item_points().values())
    manual_max = sum(cell.points for release in releases.values() for cell in release.manual)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        table = [["student", *items, *written, *COLUMNS]]
        for row in rows:
            hand = [("" if row.written.get(key) is None else f"{row.written[key]:g}") for key in written]
            table.append([row.student, *(f"{row.scores.get(item, 0.0):g}" for item in items), *hand,
                          f"{_round(row.automatic):g}", f"{maximum:g}", f"{_round(row.manual):g}",
                          f"{row.manual_pending:g}", f"{manual_max:g}", f"{row.late_penalty:g}", f"{row.total:g}",
                          f"{_round(maximum + manual_max):g}", "; ".join(row.flags),
                          " ".join(f"{assignment}:{seed}" for assignment, seed in sorted(row.seeds.items())),
                          row.commit])
        writer.writerows([csv_cell(cell) for cell in line] for line in table)
    tmp.replace(path)


def github_class(rows, maximum: float) -> None:
    """Inside GitHub Actions: the class's totals as a job summary table."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    lines = ["## Gradebook", "", f"{len(rows)} students; automatic points out of {maximum:g}.", "",
             "| student | automatic | manual | manual pending | flags |", "| --- | ---: | ---: | ---: | --- |"]
    for row in rows:
        lines.append(f"| {inline(row.student)} | {_round(row.automatic):g} | {_round(row.manual):g} | "
                     f"{row.manual_pending:g} | {inline('; '.join(row.flags))} |")
    lines += ["", "The gradebook CSV and each student's results.json and feedback.md are in the `gradebook` artifact."]
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def merge(out: Path, shards: list[Path]) -> list[str]:
    """One gradebook from the outputs of ``grade-all --shard``: their rows, and their students' files.

    Returns the students. The shards must share the gradebook's columns and no student may appear twice.
    Their ``canvas.csv`` files, where they wrote one, are joined the same way.
    """
    out = Path(out)
    header: list[str] | None = None
    rows: dict[str, list[str]] = {}
    order: list[list[str]] = []               # each shard's students, in its rows' order
    for shard in map(Path, shards):
        with open(shard / "gradebook.csv", newline="", encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        if not table:
            raise ValueError(f"{shard / 'gradebook.csv'} is empty")
        if header is not None and table[0] != header:
            raise ValueError(f"{shard / 'gradebook.csv'} has other columns than the first shard's: were both "
                             "graded with the same release and assignments?")
        header = table[0]
        order.append([csv_text(row[0]) for row in table[1:]])
        for row in table[1:]:
            student = csv_text(row[0])     # the id as written: its folder's name
            if student in rows:
                raise ValueError(f"student {student} appears in two shards")
            rows[student] = row                   # its cells stay as written (escaped for spreadsheets)
            if (shard / student).is_dir():
                shutil.copytree(shard / student, out / student, dirs_exist_ok=True)
    if header is None:
        raise ValueError("no shard to merge")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "gradebook.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows[student] for student in sorted(rows))
    exports.merge_canvas(out, [(Path(shard), students) for shard, students in zip(shards, order)], sorted(rows))
    return sorted(rows)
