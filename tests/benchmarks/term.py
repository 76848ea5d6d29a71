"""Rehearse a whole term from README, on a class of local repositories, and time each step.

    .venv/bin/python tests/benchmarks/term.py [--work DIR] [--jobs 2] [--screenshot report.png]

The cast (01_corr2d, deadline 2026-12-15 23:59 Europe/Berlin, a late window of two days at 10 % a started day):
ann solved, ben blank, cat partly wrong, dan late by 22 hours, eve on an extension to the 18th, fay solved with a
changed workflow that shows her a score of her own, gus and hal a copied pair (hal renamed and reformatted gus's
code), ivy an endless loop, jay with no repository. Each honest student writes the code in a style of their own
(``term_class.py``). The steps are README's, run as commands from the repository's root; a teaching assistant's
hand grading in nbgrader's formgrader is played through nbgrader's own API. The script prints each step's command,
wall time and outcome, checks the outcome the cast calls for, and exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.term_class import STYLES  # noqa: E402
from tests.support import ROOT, SAMPLES, git, read_sample  # noqa: E402

ASSIGNMENT = "01_corr2d"
ZONE = "Europe/Berlin"
DEADLINE = "2026-12-15 23:59"
EXTENSION = "2026-12-18 23:59"
BEFORE = "2026-12-15T20:00:00+01:00"
DAN_LATE = "2026-12-16T22:00:00+01:00"        # 22 h late: one started day, 10 % off
EVE_EXTENDED = "2026-12-17T12:00:00+01:00"    # late for the class, on time for her extension
FAKED = "on: push\njobs: {fake: {runs-on: ubuntu-latest, steps: [{run: echo Points 11/11}]}}\n"
ENDLESS = (ROOT / "tests" / "attacks" / ASSIGNMENT / "infinite_loop.py").read_text()
ANSWERS = {"explain_flip": "Flipping the kernel on both axes turns cross-correlation into convolution; a learned "
                           "kernel absorbs the flip, so the layer learns the same function either way.",
           "explain_transpose": "Transposing the input transposes the output when the kernel is transposed too."}


def cast() -> dict[str, dict]:
    """student -> their repository: commits as (date, cells replaced, written answers), and its workflow."""
    wrong = read_sample(SAMPLES / ASSIGNMENT / "receptive_field_ignores_strides.py")[0]
    partly_wrong = {**STYLES["comprehension"], **wrong}
    return {
        "ann": {"commits": [(BEFORE, STYLES["outer_loops"], ANSWERS)]},
        "ben": {"commits": [(BEFORE, {}, {})]},
        "cat": {"commits": [(BEFORE, partly_wrong, {"explain_flip": "Not sure."})]},
        "dan": {"commits": [(BEFORE, {}, {}), (DAN_LATE, STYLES["gather"], ANSWERS)]},
        "eve": {"commits": [(EVE_EXTENDED, STYLES["shifted_sum"], ANSWERS)]},
        "fay": {"commits": [(BEFORE, None, {})], "workflow": FAKED},
        "gus": {"commits": [(BEFORE, STYLES["original"], ANSWERS)]},
        "hal": {"commits": [(BEFORE, STYLES["renamed"], ANSWERS)]},
        "ivy": {"commits": [(BEFORE, {"corr2d": ENDLESS}, {})]},
    }


def make_repository(template: Path, base: Path, student: str, plan: dict) -> None:
    """``base/course-org/cnn-<student>.git``: the student template, then the student's commits."""
    import nbformat

    work = base / "work" / student
    shutil.copytree(template, work)
    git("init", "-q", cwd=work)
    if plan.get("workflow"):
        (work / ".github" / "workflows" / "grade.yml").write_text(plan["workflow"])
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "template", cwd=work, date="2026-12-01T09:00:00+01:00")
    notebook_path = work / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for number, (date, cells, answers) in enumerate(plan["commits"]):
        notebook = nbformat.read(notebook_path, as_version=4)
        code = _solution() if cells is None else cells
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and meta.get("grade_id") in code and cell.cell_type == "code":
                cell.source = code[meta["grade_id"]]
            if meta.get("solution") and meta.get("grade_id") in answers and cell.cell_type == "markdown":
                cell.source = answers[meta["grade_id"]]
        nbformat.write(notebook, notebook_path)
        (work / "notes.txt").write_text(f"commit {number}\n")     # a commit even when the notebook is untouched
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", f"work {number}", cwd=work, date=date)
    bare = base / "course-org" / f"cnn-{student}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=base)


def _solution() -> dict[str, str]:
    from tests.support import solution_code

    return solution_code(ASSIGNMENT)


class Steps:
    """Run README's commands one by one; keep (step, command, seconds, outcome)."""

    def __init__(self, work: Path):
        self.work, self.rows, self.missed = work, [], []

    def cli(self, step: str, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        shown = "python -m autograder " + " ".join(str(a).replace(str(self.work), "$WORK") for a in args)
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT, capture_output=True,
                             text=True, env=dict(os.environ, CNN_COURSE_OFFLINE="1"))
        seconds = time.monotonic() - started
        last = (run.stdout.strip().splitlines() or run.stderr.strip().splitlines() or [""])[-1]
        self.rows.append((step, shown, seconds, f"exit {run.returncode}: {last[:110]}"))
        print(f"[{seconds:6.1f} s] {step}: {shown}\n{run.stdout}{run.stderr}", flush=True)
        self.check(run.returncode == expect, f"{step} exited {run.returncode}, not {expect}")
        return run

    def timed(self, step: str, what: str, function):
        started = time.monotonic()
        result = function()
        seconds = time.monotonic() - started
        self.rows.append((step, what, seconds, "done"))
        print(f"[{seconds:6.1f} s] {step}: {what}", flush=True)
        return result

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.missed.append(what)
            print(f"MISSED: {what}", flush=True)

    def table(self) -> str:
        lines = ["| step | command | wall time | outcome |", "| --- | --- | ---: | --- |"]
        lines += [f"| {step} | `{command}` | {seconds:.1f} s | {outcome} |"
                  for step, command, seconds, outcome in self.rows]
        return "\n".join(lines)


def gradebook_rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="a new folder (default: a temporary one)")
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--screenshot", type=Path, default=None, help="a PNG of report.html, as Chromium draws it")
    args = parser.parse_args(argv)
    work = (args.work or Path(tempfile.mkdtemp(prefix="term-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    steps = Steps(work)
    print(f"the term's folder: {work}")

    steps.cli("1. release", "release", work / "cnn-course-student", "--assignments", ASSIGNMENT, ASSIGNMENT)
    template, github = work / "cnn-course-student", work / "github"
    steps.timed("(the class works)", "nine students push to local bare repositories (jay has none)", lambda: [
        make_repository(template, github, student, plan) for student, plan in cast().items()])
    roster = work / "roster.csv"
    rows = ["id;github;deadline", *(f"{s};{s};{EXTENSION if s == 'eve' else ''}" for s in [*cast(), "jay"])]
    roster.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")     # as a spreadsheet saves it
    collect = ["collect", roster, "--deadline", DEADLINE, "--timezone", ZONE, "--late-window", "2d",
               "--late-penalty", "10", "--org", "course-org", "--prefix", "cnn", "--base", work / "github",
               "--into", work / "submitted"]
    steps.cli("2. collect", *collect)
    steps.cli("2b. collect one student again (an extension)", *collect, "--students", "eve")
    with open(work / "submitted" / "collected.csv", newline="", encoding="utf-8") as handle:
        record = {row["student"]: row for row in csv.DictReader(handle)}
    steps.check(sorted(record) == sorted([*cast(), "jay"]), f"collected.csv keeps every student: {sorted(record)}")
    steps.check(float(record["dan"]["penalty"] or 0) == 0.1, f"dan loses 10 %: {record['dan']}")
    steps.check(float(record["eve"]["penalty"] or 0) == 0, f"eve is on time for her extension: {record['eve']}")
    steps.check("no repository" in record["jay"]["flags"], f"jay has no repository: {record['jay']}")
    steps.check("grade.yml" in record["fay"]["flags"], f"fay's workflow is flagged: {record['fay']}")

    steps.cli("3. grade-all", "grade-all", work / "submitted", "--jobs", args.jobs)
    gradebook = work / "gradebook"
    book = gradebook_rows(gradebook / "gradebook.csv")
    full = float(book["fay"]["automatic_max"])
    steps.check(float(book["ann"]["automatic"]) == full, f"ann scores full points: {book['ann']['automatic']}")
    steps.check(float(book["ben"]["automatic"]) == 0, "ben's blank notebook scores 0")
    steps.check(0 < float(book["cat"]["automatic"]) < full, f"cat scores part: {book['cat']['automatic']}")
    steps.check(0 < float(book["ivy"]["automatic"]) < full or float(book["ivy"]["automatic"]) == 0,
                f"ivy's loop costs only what it touches: {book['ivy']['automatic']}")

    database = f"sqlite:///{work / 'gradebook.db'}"
    steps.cli("4a. register the written answers in nbgrader", "written", "register", work / "submitted",
              "--db", database)
    steps.timed("4b. a TA grades in the formgrader", "manual scores and comments through nbgrader's API",
                lambda: hand_grade(database))
    steps.cli("4c. bring the hand grading in", "written", "merge", gradebook, "--db", database)
    steps.cli("5. the class view", "class-report", gradebook, "--submitted", work / "submitted")
    book = gradebook_rows(gradebook / "gradebook.csv")
    steps.check(float(book["ann"]["manual"]) == 2.0, f"ann's written answers count: {book['ann']['manual']}")
    steps.check(float(book["ben"]["manual_pending"]) == 0, "ben's untouched answers are nbgrader's zeros, not pending")
    ann = json.loads((gradebook / "ann" / "results.json").read_text())
    steps.check("Well argued" in json.dumps(ann), "the TA's comment reaches ann's results.json")
    steps.check("Well argued" in (gradebook / "ann" / "feedback.md").read_text(), "... and her feedback.md")
    with open(gradebook / "similarity.csv", newline="", encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    top = {pairs[0]["student_a"], pairs[0]["student_b"]} if pairs else set()
    steps.check(top == {"gus", "hal"}, f"the copied pair ranks first: {pairs[:2]}")
    from autograder.report import similarity

    listed = [pair for pair in similarity.read_csv(gradebook / "similarity.csv") if similarity.stands_out(pair)]
    # gus and hal copied each other; fay handed in the instructor's learn_kernel, which gus's follows line for line
    steps.check(all({pair.student_a, pair.student_b} <= {"gus", "hal", "fay"} for pair in listed),
                f"report.html lists no independent pair: {[(p.item, p.student_a, p.student_b) for p in listed]}")
    steps.check("late" in book["dan"]["flags"] and float(book["dan"].get("late_penalty") or 0) > 0,
                f"dan's penalty is in the gradebook: {book['dan']}")
    steps.check("**Late: 10% of the total off" in (gradebook / "dan" / "feedback.md").read_text(),
                "dan's feedback says what lateness cost him")
    with open(gradebook / "canvas.csv", newline="", encoding="utf-8") as handle:
        canvas = {line[0]: line for line in csv.reader(handle)}
    steps.check(all(canvas[s][5] == book[s]["total"] for s in ("ann", "dan", "eve")),
                f"canvas.csv holds the totals with the written answers and the penalty: {canvas.get('dan')}")
    if args.screenshot:
        steps.timed("6. look at report.html", f"headless Chromium -> {args.screenshot}",
                    lambda: screenshot(gradebook / "report.html", args.screenshot))
    print("\n" + steps.table())
    print(f"\n{len(steps.missed)} outcome(s) missed" + "".join(f"\n- {what}" for what in steps.missed))
    return 1 if steps.missed else 0


def hand_grade(database: str) -> None:
    """What a teaching assistant does in the formgrader: a score and a comment for each typed answer."""
    from nbgrader.api import Gradebook

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"   # its alembic
    scores = {"ann": (1.0, 1.0), "dan": (1.0, 0.5), "eve": (0.5, 1.0), "gus": (1.0, 1.0), "hal": (1.0, 1.0),
              "cat": (0.0, None)}
    with Gradebook(database) as gradebook:
        for student, points in scores.items():
            for grade_id, score in zip(("explain_flip", "explain_transpose"), points):
                if score is None:
                    continue
                grade = gradebook.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
                grade.manual_score = score
                comment = gradebook.find_comment(grade_id, ASSIGNMENT, ASSIGNMENT, student)
                comment.manual_comment = "Well argued." if score == 1.0 else "Say why the flip is learned away."
        gradebook.db.commit()


def screenshot(page: Path, png: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                        "--window-size=1280,2400", f"--screenshot={png}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


if __name__ == "__main__":
    sys.exit(main())
