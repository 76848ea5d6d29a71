"""Grading a class: `grade-all --jobs 1` against `--jobs 2`, and against `nbgrader autograde` on the same class.

    .venv/bin/python tests/benchmarks/class_grading.py [--students 12] [--assignment 01_corr2d] [--jobs 1 2]
                                                       [--no-nbgrader]

Builds a class in a temporary nbgrader course: every third student hands in the instructor's
solution, one the blank release, the others one of the assignment's sample mistakes
(tests/samples/) in turn. Times each whole command, as an instructor runs it, and prints the
wall time per notebook.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import SAMPLES, build_submission, read_sample  # noqa: E402

BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path) -> float:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")   # nbgrader runs alembic
    started = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--assignment", default="01_corr2d")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="grade-all's --jobs, one run each")
    parser.add_argument("--no-nbgrader", action="store_true")
    args = parser.parse_args()
    a, n = args.assignment, args.students
    samples = sorted((SAMPLES / a).glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(ROOT / "solutions", course / "solutions")
        shutil.copy(ROOT / "nbgrader_config.py", course)
        students = [f"student{i:03d}" for i in range(n)]
        for i, student in enumerate(students):
            overrides = read_sample(samples[i % len(samples)])[0] if i % 3 and samples and i != 1 else None
            build_submission(course / "submitted" / student, a, overrides, solved=i != 1)
        print(f"{n} students of {a} ({os.cpu_count()} CPUs)")
        for jobs in args.jobs:
            seconds = timed([sys.executable, "-m", "autograder", "grade-all", "submitted", "--jobs", str(jobs),
                             "--out", f"gradebook-{jobs}", "--release", str(ROOT / "assignments")], course)
            print(f"grade-all --jobs {jobs}: {seconds:6.1f} s, {seconds / n:5.2f} s per notebook")
        if not args.no_nbgrader:
            nbgrader = str(BIN / "nbgrader")
            timed([nbgrader, "db", "assignment", "add", a], course)
            timed([nbgrader, "generate_assignment", a, "--force"], course)
            for student in students:
                timed([nbgrader, "db", "student", "add", student], course)
            seconds = timed([nbgrader, "autograde", a, "--force"], course)
            print(f"nbgrader autograde: {seconds:6.1f} s, {seconds / n:5.2f} s per notebook")


if __name__ == "__main__":
    main()
