"""The class's gradebook: a row per student, built from that student's ``results.json`` alone.

A row is never kept anywhere but in ``gradebook.csv``: :func:`row_from_results` rebuilds it from the results
file, so a student graded now, one whose grading is taken over from an earlier run (``--resume``) and one
whose written answers were scored later all get their row the same way. :func:`write_gradebook` writes the
CSV, :func:`merge_manual` reads the written answers' scores from nbgrader's database, :func:`merge` joins
the gradebooks of ``grade-all --shard`` runs.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook import Release
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
        whole = [test for test in data.get("tests", []) if test["extra_data"]["assignment"] == notebook["assignment"]
                 and not test["extra_data"]["item"] and test["status"] != "passed"]
        if whole:                                   # a verdict on the whole notebook
            row.flags.append(f"{notebook['assignment']}: grader tampering (the notebook scores 0)")
    row.written.update({key: points for key, points in written_scores(data).items() if key in row.written})
    row.seeds = {seed["assignment"]: seed["seed"] for seed in data.get("seeds", [])}
    row.flags.extend(problem.splitlines()[0] for problem in data.get("problems", []) if problem)
    row.internal_error = bool(data.get("internal_error"))
    return row


def written_scores(data: dict) -> dict[str, float | None]:
    """The written answers' points in a results.json (``manual``: None while pending), by
    "01_corr2d/explain_flip": the one place the gradebook reads them from."""
    return {f"{entry.get('assignment')}/{entry.get('grade_id')}": entry.get("score")
            for entry in data.get("manual", []) if entry.get("grade_id")}


def merge_manual(rows: list[StudentRow], database: str) -> None:
    """Fill in the written answers' scores that nbgrader's gradebook holds (given in its formgrader, or
    nbgrader's automatic 0 for an answer left as released).

    ``database`` is nbgrader's database URL (``sqlite:///gradebook.db``). An answer not graded yet, or a
    student or notebook that nbgrader does not know, stays pending. This fills rows only: ``python -m
    autograder written merge`` (and ``grade-all --nbgrader-db``) puts the grades in each results.json and
    feedback.md as well, and builds the rows from those.
    """
    from autograder.nbgrader.database import read_marks

    marks = read_marks(database)
    for row in rows:
        for key, mark in marks.get(row.student, {}).items():
            if key in row.written:
                row.written[key] = mark.score


def write_gradebook(rows, releases, path: Path) -> None:
    """One CSV row per student: a column per graded item and per written answer (empty until graded by hand),
    the automatic points, the manual ones so far, the points still pending, the total, flags and seeds."""
    items = [f"{assignment}/{item}" for assignment, release in releases.items() for item in release.item_points()]
    written = [f"{assignment}/{cell.grade_id}" for assignment, release in releases.items() for cell in release.manual]
    maximum = sum(points for release in releases.values() for points in release.item_points().values())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        table = [["student", *items, *written, "automatic", "automatic_max", "manual", "manual_pending", "total",
                  "flags", "seeds"]]
        for row in rows:
            hand = [("" if row.written.get(key) is None else f"{row.written[key]:g}") for key in written]
            table.append([row.student, *(f"{row.scores.get(item, 0.0):g}" for item in items), *hand,
                          f"{_round(row.automatic):g}", f"{maximum:g}", f"{_round(row.manual):g}",
                          f"{row.manual_pending:g}", f"{_round(row.automatic + row.manual):g}", "; ".join(row.flags),
                          " ".join(f"{assignment}:{seed}" for assignment, seed in sorted(row.seeds.items()))])
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
    """
    out = Path(out)
    header: list[str] | None = None
    rows: dict[str, list[str]] = {}
    for shard in map(Path, shards):
        with open(shard / "gradebook.csv", newline="", encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        if not table:
            raise ValueError(f"{shard / 'gradebook.csv'} is empty")
        if header is not None and table[0] != header:
            raise ValueError(f"{shard / 'gradebook.csv'} has other columns than the first shard's: were both "
                             "graded with the same release and assignments?")
        header = table[0]
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
    return sorted(rows)
