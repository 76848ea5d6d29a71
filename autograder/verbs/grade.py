"""``python -m autograder grade PATH...``: the student's verb, and the instructor's for one notebook.

Writes results.json (whatever happens: a valid file in every case), prints the table, and inside
GitHub Actions writes the job summary. Exit status: 0 graded, 1 internal error, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from autograder.sandbox import process as sandbox


def run(args: argparse.Namespace) -> int:
    # The zygote (which forks the workers) imports torch while this process imports torch, nbformat and pytest.
    sandbox.prestart()
    from autograder.pipeline import Run, UsageError, grade_paths, load_releases
    from autograder.report import results as report
    from autograder.report import terminal

    graded, problems, status = Run(), [], 0
    try:
        releases = load_releases(args.release)
        graded = grade_paths(args.paths or [args.release], releases, hidden=not args.public_only, seed=args.seed,
                             student=args.student,
                             progress=lambda result: print(f"graded {result.path} in {result.seconds:.1f} s",
                                                           file=sys.stderr))
        problems = [f"usage: {problem}" for problem in graded.unusable]
        status = 1 if graded.internal_error else 2 if problems else 0
    except UsageError as error:
        problems.append(f"usage: {error}")
        status = 2
    except Exception:  # noqa: BLE001 - the grader never dies without a results file
        problems.append("internal error of the autograder:\n" + traceback.format_exc())
        status = 1
    sandbox.reap()   # every process of every worker is gone before the results are out
    data = report.results_json(graded.results, problems, internal_error=status == 1)
    report.write_json(data, args.json)
    print(terminal.table(data))
    print(f"\nresults written to {args.json}")
    report.github(data)
    return status
