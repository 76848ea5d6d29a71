"""Results for people and machines: results.json, a terminal table, GitHub's job summary."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from autograder.model import Mark, NotebookResult
from autograder.report.markdown import fence, inline

STATUS_MARK = {"passed": "ok", "failed": "FAIL"}
WRITTEN_STATUS = {"graded": "graded", "unanswered": "no answer", "pending": "not graded yet"}   # feedback's words
# A spreadsheet runs a cell starting with one of these as a formula ("'" too, so that csv_text can undo csv_cell)
FORMULA = ("=", "+", "-", "@", "\t", "\r", "'")
NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
FOLDERS = re.compile(r"[^\s\"'()]*/(?=[^\s/\"'()])")     # the folders of a path, up to its last part


def _round(value: float) -> float:
    return round(value + 0.0, 4)


def results_json(results: list[NotebookResult], problems: list[str] = (), internal_error: bool = False,
                 student_problems: list[str] | None = None) -> dict:
    """The Gradescope autograder schema, one file for all graded notebooks.

    ``internal_error`` (also true when a notebook's grading failed) marks a file whose score is not the
    student's: nothing should be posted from it as a grade. ``student_problems`` are ``problems`` as the
    student reads them (by default the same, without the folders of the grader's machine).

    ``output`` is the instructor's; ``output_for_student`` leaves out the grader's paths, seeds, walls and
    its notes on its own machine (``NotebookResult.instructor_only``).
    """
    tests = []
    for result in results:
        for entry in result.entries:
            tests.append({
                "name": entry.name,
                # Gradescope's place for data of our own: which item the check is of ("" for the whole notebook),
                # the line of the output that replays it, which only the instructor needs, and a verdict of the
                # rules ("from-scratch" for the item, "tampering" for the notebook) with the routes it is for.
                "extra_data": {"assignment": entry.assignment, "item": entry.item, "replay": entry.replay,
                               "verdict": entry.verdict, "used": list(entry.used),
                               # a push's feedback: the message with the hidden inputs, for the instructor alone
                               **({"output_full": entry.output_full} if entry.output_full else {})},
                "score": _round(entry.score),
                "max_score": _round(entry.max_score),
                "status": entry.status,
                "output": entry.output,
                "visibility": "visible",
            })
    score = sum(r.score for r in results)
    max_score = sum(r.max_score for r in results)
    lines = list(problems)
    for_student = list(student_problems) if student_problems is not None else [without_folders(p) for p in problems]
    for result in results:
        # No timing here: grading a notebook again with its seed gives the same file, byte for byte.
        lines.append(f"{result.path}: {_round(result.score)}/{_round(result.max_score)}")
        if result.seed:
            lines.append(f"  hidden inputs: seed {result.seed} (grade again with --seed {result.seed.value})")
        if result.isolation:
            lines.append(f"  isolation: {result.isolation}")
        after = ["  public checks only: the hidden cases are not installed here"] if not result.hidden else []
        after.extend(_pending_line(m) for m in result.manual)
        lines.extend([*(f"  note: {note}" for note in result.notes), *after])
        for_student.extend([*(f"  note: {note}" for note in student_notes(result)), *after])
    data = {
        "score": _round(score),
        "max_score": _round(max_score),
        "output": "\n".join(lines),
        "output_for_student": "\n".join(for_student),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        # The written answers, graded by hand in nbgrader (autograder.nbgrader.database.read_marks brings their
        # scores and comments in: with_manual); never part of score and max_score.
        "manual": [{**m, "assignment": m.get("assignment", r.assignment), "grade_id": m.get("grade_id"),
                    "status": "pending", "score": None, "comment": None} for r in results for m in r.manual],
        "isolation": sorted({r.isolation for r in results if r.isolation}),
        "seeds": [{"notebook": r.path, "assignment": r.assignment, "seed": r.seed.value, "from": r.seed.origin}
                  for r in results if r.seed],
        # What the gradebook's row is built from (autograder.report.gradebook.row_from_results): the notebooks
        # graded, with the grader's notes on each, and the problems that stopped a notebook from being graded.
        # "notes_for_student": the notes as feedback for the student shows them (no paths, no grader's machine).
        "notebooks": [{"assignment": r.assignment, "path": r.path, "notes": list(r.notes),
                       "notes_for_student": student_notes(r)} for r in results],
        "problems": list(problems),
        "internal_error": internal_error or any(r.internal_error for r in results),
    }
    return _with_totals(data)


def _pending_line(manual: dict) -> str:
    return f"  pending manual grading: {manual['name']} ({manual['max_score']:g} points)"


def _with_totals(data: dict) -> dict:
    """``data`` with the written answers' sums: graded so far, possible, still pending, and the total."""
    manual = data.get("manual", [])
    data["manual_score"] = _round(sum(m["score"] for m in manual if m.get("score") is not None))
    data["manual_max_score"] = _round(sum(m["max_score"] for m in manual))
    data["manual_pending"] = _round(sum(m["max_score"] for m in manual if m.get("score") is None))
    data["total"] = _round(data["score"] + data["manual_score"])
    data["total_max_score"] = _round(data["max_score"] + data["manual_max_score"])
    if data.get("late"):        # collect's late penalty: its share of the total, as the gradebook takes it
        data["late"]["points"] = _round(data["late"]["penalty"] * data["total"])
    return data


def with_late(data: dict, deadline: str, seconds: float, penalty: float) -> dict:
    """``data`` with the late penalty that ``collect`` recorded (``penalty``: the share of the total taken
    off), which the feedback shows; ``data["total"]`` stays the points before it."""
    data["late"] = {"deadline": deadline, "seconds": seconds, "penalty": penalty}
    return _with_totals(data)


def with_manual(data: dict, marks: dict[str, Mark]) -> dict:
    """A copy of results.json's ``data`` with the written answers' grades of ``marks`` ("01_corr2d/explain_flip"
    -> :class:`~autograder.model.Mark`, from nbgrader's gradebook): each answer's ``status``, ``score`` and
    ``comment``, and the totals. An answer ``marks`` does not hold is pending again: the gradebook is the record.
    """
    data = json.loads(json.dumps(data))
    manual = data.get("manual", [])
    for entry in manual:
        mark = marks.get(f"{entry.get('assignment')}/{entry.get('grade_id')}")
        entry.update(status=mark.status if mark else "pending", score=None if mark is None else mark.score,
                     comment=mark.comment if mark else None)
        if mark and mark.extra_credit:
            entry["extra_credit"] = mark.extra_credit
        else:
            entry.pop("extra_credit", None)
    # The notes list the answers still pending, after the rest of the notes.
    stale = {_pending_line(entry) for entry in manual}
    pending = [_pending_line(entry) for entry in manual if entry["score"] is None]
    for key in ("output", "output_for_student"):
        if key in data:
            data[key] = "\n".join([line for line in data[key].split("\n") if line not in stale] + pending)
    return _with_totals(data)


def student_notes(result: NotebookResult) -> list[str]:
    """The notes of a notebook that its student reads: not those on the grader's machine, and the notebook's
    path on that machine (in a note on an unreadable notebook) cut to its name."""
    name = Path(result.path).name
    return [note.replace(result.path, name) if result.path else note
            for note in result.notes if note not in result.instructor_only]


def without_folders(text: str) -> str:
    """``text`` with every path cut to its last part: ``/tmp/class/submitted/erin: ...`` -> ``erin: ...``."""
    return FOLDERS.sub("", text)


def write_student(folder: Path, data: dict) -> None:
    """A student's files in ``folder`` (named after the student): ``feedback.md`` (theirs: no replay, seed,
    wall or path of the grader's machine), ``feedback-instructor.md`` (all of it), then ``results.json``; each
    whole or not at all, so a results file (what --resume goes by) never stands beside an older feedback."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, for_student in (("feedback.md", True), ("feedback-instructor.md", False)):
        partial = folder / (name + ".tmp")
        partial.write_text(feedback_markdown(folder.name, data, for_student=for_student), encoding="utf-8")
        partial.replace(folder / name)
    write_json(data, folder / "results.json")


def write_json(data: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def github(data: dict) -> None:
    """Inside GitHub Actions: a job summary in Markdown and a Points notice."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    lines = ["## Autograder", "", f"**Points {data['score']:g}/{data['max_score']:g}**", "",
             "| check | points | status |", "| --- | ---: | --- |"]
    for test in data["tests"]:
        mark = "✅" if test["status"] == "passed" else "❌"
        lines.append(f"| {inline(test['name'])} | {test['score']:g}/{test['max_score']:g} | {mark} |")
    if data["output"]:
        lines += ["", fence(data["output"])]
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"::notice title=Autograder::Points {data['score']:g}/{data['max_score']:g}")


# -- a class: the gradebook and each student's feedback -----------------------------------------------

def csv_cell(text: str) -> str:
    """A gradebook cell no spreadsheet runs as a formula: text starting with = + - @ tab CR or ' gets a "'" first.

    Plain numbers stay numbers. Every cell of gradebook.csv is written through it; :func:`csv_text` undoes it.
    """
    return "'" + text if text.startswith(FORMULA) and not NUMBER.fullmatch(text) else text


def csv_text(cell: str) -> str:
    """The text of a gradebook cell that :func:`csv_cell` wrote (a student's id, to find their folder)."""
    return cell[1:] if cell.startswith("'") else cell


def student_output(test: dict) -> str:
    """A check's output of results.json as its student reads it: without the line that replays it."""
    replay = test.get("extra_data", {}).get("replay")
    if not replay:
        return test["output"]
    return "\n".join(line for line in test["output"].split("\n") if line != replay)


def feedback_markdown(student: str, data: dict, for_student: bool = False) -> str:
    """A student's report: each check with its points, and why the failed ones failed.

    Built from results.json alone, whose messages never hold a hidden case's inputs or expected values.
    ``for_student`` leaves out what only the instructor needs (replay commands, seeds, the grader's paths
    and walls), by the fields that hold it: the commit comment that ``publish`` posts.
    """
    lines = [f"# Feedback for {inline(student)}", "",
             f"**Automatic points: {data['score']:g} / {data['max_score']:g}**", ""]
    if data.get("manual"):
        manual = _with_totals(dict(data))
        pending = f", {manual['manual_pending']:g} still to grade" if manual["manual_pending"] else ""
        lines[-1:] = ["", f"**Written answers, graded by hand: {manual['manual_score']:g} / "
                      f"{manual['manual_max_score']:g}**{pending}", "",
                      f"**Total: {manual['total']:g} / {manual['total_max_score']:g}**", ""]
    late = _with_totals(dict(data)).get("late")
    if late:
        after = _round(data["score"] + data.get("manual_score", 0.0) - late["points"])
        lines[-1:] = ["", f"**Late: {late['penalty']:.0%} of the total off, -{late['points']:g} (the deadline was "
                      f"{inline(late['deadline'])}); after it: {after:g} / {data.get('total_max_score', 0):g}**", ""]
    by_assignment: dict[str, list[dict]] = {}
    for test in data["tests"]:
        by_assignment.setdefault(test["extra_data"]["assignment"], []).append(test)
    for assignment, tests in by_assignment.items():
        earned = sum(test["score"] for test in tests)
        possible = sum(test["max_score"] for test in tests)
        lines += [f"## {inline(assignment)}: {_round(earned):g} / {_round(possible):g}", "",
                  "| check | points | |", "| --- | ---: | --- |"]
        for test in tests:
            name = inline(test["name"].split(": ", 1)[-1])
            item = inline(test["extra_data"]["item"] or "the whole notebook")
            mark = "passed" if test["status"] == "passed" else "**failed**"
            lines.append(f"| {item}: {name} | {test['score']:g} / {test['max_score']:g} | {mark} |")
        failed = [test for test in tests if test["status"] != "passed" and test["output"]]
        if failed:
            lines += ["", "### What went wrong", ""]
            for test in failed:
                output = student_output(test) if for_student else \
                    test["extra_data"].get("output_full") or test["output"]
                lines += [f"**{inline(test['name'])}**", "", fence(output.strip()), ""]
        lines.append("")
    lines += _graded_by_hand(data.get("manual", []))
    notes = data["output_for_student"] if for_student else data.get("output")
    if notes:
        lines += ["## Notes", "", fence(notes.strip()), ""]
    return "\n".join(lines)


def _graded_by_hand(manual: list[dict]) -> list[str]:
    """The written answers: each one's points and status, then the grader's comments (fenced: typed text)."""
    if not manual:
        return []
    lines = ["## Graded by hand", "", "| written answer | points | |", "| --- | ---: | --- |"]
    for entry in manual:
        points = "–" if entry.get("score") is None else f"{entry['score']:g}"
        extra = f" (with {entry['extra_credit']:g} extra)" if entry.get("extra_credit") else ""
        status = WRITTEN_STATUS.get(entry.get("status", "pending"), "not graded yet")
        lines.append(f"| {inline(_answer(entry))} | {points} / {entry['max_score']:g}{extra} | {status} |")
    lines.append("")
    for entry in manual:
        if entry.get("comment"):
            lines += [f"**{inline(_answer(entry))}**, the grader's comment:", "", fence(entry["comment"].strip()), ""]
    return lines


def _answer(entry: dict) -> str:
    """A written answer's id, ``01_corr2d/explain_flip``."""
    if entry.get("assignment") and entry.get("grade_id"):
        return f"{entry['assignment']}/{entry['grade_id']}"
    return entry["name"]
