"""Wall time of grading one notebook: this autograder vs `nbgrader autograde`.

    .venv/bin/python tests/benchmarks/grading_time.py [--assignment 01_corr2d] [--runs 5]

Prints the median and range of `python -m autograder grade` on the solution and
on the blank release, and of `nbgrader autograde` on the solution notebook (a
temporary nbgrader course is built for it). Whole commands, as a user runs them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    # nbgrader runs `alembic` from PATH: put this environment's bin first.
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return elapsed


def summary(label: str, times: list[float]) -> None:
    print(f"{label:<45} median {statistics.median(times):6.2f} s   "
          f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="01_corr2d")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    a = args.assignment
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        grade = [sys.executable, "-m", "autograder", "grade", "--json", str(tmp / "r.json")]
        for label, notebook in (("autograder: solution", ROOT / "solutions" / a / f"{a}.ipynb"),
                                ("autograder: blank release", ROOT / "assignments" / a / f"{a}.ipynb")):
            summary(label, [timed(grade + [str(notebook)], ROOT) for _ in range(args.runs)])

        course = tmp / "course"
        shutil.copytree(ROOT / "solutions", course / "solutions")
        shutil.copy(ROOT / "nbgrader_config.py", course)
        nbgrader = str(BIN / "nbgrader")
        for command in (["db", "assignment", "add", a], ["generate_assignment", a, "--force"],
                        ["db", "student", "add", "alice"]):
            timed([nbgrader, *command], course)
        submitted = course / "submitted" / "alice" / a
        submitted.mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / a / f"{a}.ipynb", submitted)
        autograde = [nbgrader, "autograde", a, "--student", "alice", "--force"]
        summary("nbgrader autograde: solution", [timed(autograde, course) for _ in range(args.runs)])


if __name__ == "__main__":
    main()
