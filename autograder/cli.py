"""Command line: ``python -m autograder grade PATH... [--json FILE]``.

Exit status: 0 when grading completed (whatever the score), 2 for a usage
error, 1 for an internal error. A valid results file is written in every case.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

# nbformat imports jsonschema, which builds an IRI grammar (rfc3987_syntax) at
# import time: about 3 s, for a format no notebook schema uses. jsonschema skips
# that checker when the import fails.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder import sandbox  # noqa: E402 - light: numpy and the standard library

DEFAULT_RELEASE = Path(__file__).resolve().parent.parent / "assignments"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="grade notebooks, assignment folders or submission folders")
    grade.add_argument("paths", nargs="*", type=Path,
                       help="notebooks or folders (default: the released assignments/)")
    grade.add_argument("--json", type=Path, default=Path("results.json"), help="results file (default: %(default)s)")
    grade.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                       help="the trusted release notebooks (default: %(default)s)")
    grade.add_argument("--public-only", action="store_true", help="skip the hidden cases")
    grade.add_argument("--seed", type=_seed, default=None,
                       help="the seed of the hidden inputs, as recorded in results.json: replays that grading")
    grade.add_argument("--student", default=None,
                       help="whose notebooks these are (default: nbgrader's submitted/<student>/ folder, "
                            "else the notebook's content); it decides the hidden inputs")
    return parser


def _seed(text: str) -> int:
    from autograder.seeds import SEED_BITS

    if not text.isdigit() or int(text) >= 2**SEED_BITS:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to 2**{SEED_BITS} - 1, got {text!r}")
    return int(text)


def grade(args: argparse.Namespace) -> int:
    sandbox.course_roots.add(args.release.resolve().parent)
    # The zygote (which forks the workers) imports torch while this process imports torch, nbformat and pytest.
    sandbox.prestart()
    from autograder import report
    from autograder.grade import UsageError, find_notebooks, grade_notebook, load_releases

    results, problems = [], []
    status = 0
    try:
        releases = load_releases(args.release)
        targets = []
        for path in args.paths or [args.release]:
            try:
                targets.extend(find_notebooks(path, releases))
            except UsageError as error:
                problems.append(f"usage: {error}")
                status = 2
        for notebook, assignment in targets:
            results.append(grade_notebook(notebook, releases[assignment], hidden=not args.public_only,
                                          seed=args.seed, student=args.student))
            print(f"graded {notebook} in {results[-1].seconds:.1f} s", file=sys.stderr)
            if results[-1].internal_error:
                status = 1
    except UsageError as error:
        problems.append(f"usage: {error}")
        status = 2
    except Exception:  # noqa: BLE001 - the grader never dies without a results file
        problems.append("internal error of the autograder:\n" + traceback.format_exc())
        status = 1
    sandbox.reap()   # every process of every worker is gone before the results are out
    data = report.results_json(results, problems)
    report.write_json(data, args.json)
    print(report.table(data))
    print(f"\nresults written to {args.json}")
    report.github(data)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and 2
    return grade(args)
