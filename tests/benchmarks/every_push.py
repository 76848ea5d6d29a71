"""One round of scores on every push, as the workflow runs it: fetch, grade-all, publish, against the fake API.

    .venv/bin/python tests/benchmarks/every_push.py [--students 6] [--assignments 01_corr2d ... 05_lenet]
                                                    [--class-size 300] [--turnaround 600] [--setup 150]

Builds the students' repositories (each holds every named assignment: every third one the solution, one
the blank release, the others the assignment's sample mistakes in turn), serves them with
tests/fake_github.py, and times each verb as a whole command. Prints the API requests per student, the
grading seconds per student (grade-all --jobs 2 on this 2-core machine, the size of GitHub's standard
runner for private repositories) and, from them, the grading runners a class of --class-size needs so
that the grade job ends within --turnaround seconds, --setup of them going to starting the runner and
installing the grader. Network latency to GitHub is not in these figures: the fake API answers locally.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fake_github import FakeGitHub  # noqa: E402
from tests.support import SAMPLES, build_submission, git, read_sample, run_cli  # noqa: E402


def repository(base: Path, name: str, assignments: list[str], index: int) -> Path:
    work = base / "work" / name
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    for assignment in assignments:
        samples = sorted((SAMPLES / assignment).glob("*.py"))
        overrides = read_sample(samples[index % len(samples)])[0] if index % 3 and samples and index != 1 else None
        build_submission(work / "assignments", assignment, overrides, solved=index != 1)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "work", cwd=work)
    bare = base / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=base)
    return bare


def run(args: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    done = run_cli(*args, cwd=cwd, env=env, timeout=None)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--assignments", nargs="+", default=sorted(p.name for p in (ROOT / "assignments").glob("0*")))
    parser.add_argument("--class-size", type=int, default=300)
    parser.add_argument("--turnaround", type=float, default=600.0)
    parser.add_argument("--setup", type=float, default=150.0)
    args = parser.parse_args()
    token = "ghs_" + secrets.token_hex(18)
    n = args.students
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub(token) as api:
        tmp = Path(tmp)
        for index in range(n):
            name = f"cnn-student{index:03d}"
            api.add(f"course-org/{name}", repository(tmp / "github", name, args.assignments, index))
        plain = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_GITHUB_TOKEN"}
        plain["AUTOGRADER_API_PACE"] = "0"
        holding = dict(plain, AUTOGRADER_GITHUB_TOKEN=token)
        print(f"{n} students, each with {len(args.assignments)} notebook(s): {' '.join(args.assignments)} "
              f"({os.cpu_count()} CPUs)")
        fetched = run(["fetch", "--all", "--org", "course-org", "--prefix", "cnn", "--into", "inbox/submitted",
                       "--assignments", *args.assignments, "--api-url", api.url], holding, tmp)
        reads = sum(1 for method, _, _ in api.log if method == "GET")
        print(f"fetch:     {fetched:6.1f} s   {reads / n:5.1f} API reads per student")
        graded = run(["grade-all", "inbox/submitted", "--jobs", "2", "--assignments", *args.assignments,
                      "--out", "gradebook"], plain, tmp)
        per_student = graded / n
        print(f"grade-all: {graded:6.1f} s   {per_student:5.2f} s per student (--jobs 2)")
        before = len(api.log)
        published = run(["publish", "inbox/submitted", "gradebook", "--api-url", api.url], holding, tmp)
        writes = sum(1 for method, _, _ in api.log[before:] if method == "POST")
        print(f"publish:   {published:6.1f} s   {writes / n:5.1f} API writes per student (paced 1 s apart on "
              f"GitHub: {writes / n * args.class_size / 60:.0f} min for {args.class_size} students)")
        budget = args.turnaround - args.setup
        runners = math.ceil(args.class_size * per_student / budget)
        print(f"grading runners for {args.class_size} new commits within {args.turnaround:.0f} s "
              f"({args.setup:.0f} s of it setting up): ceil({args.class_size} x {per_student:.2f} s / "
              f"{budget:.0f} s) = {runners}")


if __name__ == "__main__":
    main()
