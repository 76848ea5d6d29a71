"""Command line: the student's verb ``grade``, and the instructor's ``release``, ``collect``, ``grade-all``, ...

    python -m autograder grade PATH... [--json FILE]
    python -m autograder release OUT_DIR [--assignments NAME...]
    python -m autograder collect ROSTER.csv --deadline ISO_TIME [--timezone ZONE] [--org ORG --prefix PREFIX]
        [--into submitted] [--late-window DURATION --late-penalty PERCENT] [--students ID...]
    python -m autograder grade-all SUBMITTED_DIR [--jobs N] [--out DIR] [--resume | --force] [--shard I/N]
        [--gradescope] [--canvas-roster CSV] [--canvas-assignment NAME=ID]
    python -m autograder merge OUT_DIR SHARD_OUT_DIR...
    python -m autograder fetch (--roster ROSTER.csv | --org ORG --prefix PREFIX) [--into inbox/submitted]
    python -m autograder publish SUBMITTED_DIR GRADEBOOK_DIR [--pass-at FRACTION]
    python -m autograder class-report GRADEBOOK_DIR [--submitted DIR] [--threshold X]
    python -m autograder new NN_name [--no-release]
    python -m autograder written register SUBMITTED_DIR [--out DIR] [--db URL] [--roster ROSTER.csv]
    python -m autograder written merge GRADEBOOK_DIR [--db URL] [--submitted SUBMITTED_DIR]

Exit status: 0 when grading completed (whatever the score), 2 for a usage
error, 1 for an internal error. A valid results file is written in every case.
grade-all stopped by SIGINT or SIGTERM exits 130 or 143, its gradebook holding
the students finished so far.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from datetime import timedelta
from pathlib import Path

# nbformat imports jsonschema, which builds an IRI grammar (rfc3987_syntax) at
# import time: about 3 s, for a format no notebook schema uses. jsonschema skips
# that checker when the import fails.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder.course import COURSE  # noqa: E402 - light: the standard library
from autograder.verbs import new as new_assignment  # noqa: E402 - light: the standard library

DEFAULT_RELEASE = COURSE.assignments
# verb -> (module of autograder.verbs, its function): this file only parses and dispatches.
VERBS = {"grade": ("grade", "run"), "grade-all": ("grade_all", "run"), "merge": ("grade_all", "run_merge"),
         "release": ("release", "run"), "collect": ("collect", "run"), "fetch": ("fetch", "run"),
         "publish": ("publish", "run"), "new": ("new", "run"), "class-report": ("class_report", "run"),
         "written": ("written", "run")}


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
    everyone = verbs.add_parser("grade-all", help="grade every student of nbgrader's submitted/ folder, in "
                                "parallel, into a gradebook",
                                description="Grade every student of nbgrader's submitted/ folder, in parallel, into "
                                "a gradebook, rewritten as each student is finished. Ctrl-C or SIGTERM stops every "
                                "process of the run and keeps the students finished (exit 130 or 143); --resume "
                                "goes on from there.")
    everyone.add_argument("submitted", type=Path, metavar="SUBMITTED_DIR",
                          help="nbgrader's submitted/<student>/<assignment>/ folder")
    everyone.add_argument("--out", type=Path, default=None,
                          help="where gradebook.csv and each student's results.json and feedback.md go; a new or "
                               "empty folder, unless --resume or --force (default: gradebook beside "
                               "SUBMITTED_DIR: submitted/ -> gradebook/, inbox/submitted/ -> inbox/gradebook/)")
    again = everyone.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="go on in the --out of an earlier (interrupted) run: a student whose notebooks, grader "
                            "and seeds are unchanged since their results.json keeps it; the others (and internal "
                            "errors) are graded")
    again.add_argument("--force", action="store_true",
                       help="grade everyone again into the --out of an earlier run, deleting its students' folders "
                            "and gradebook first")
    everyone.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1,
                          help="students graded at once (default: the number of CPUs, %(default)s)")
    everyone.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                          help="the trusted release notebooks (default: %(default)s)")
    everyone.add_argument("--public-only", action="store_true", help="skip the hidden cases")
    everyone.add_argument("--push", action="store_true",
                          help="feedback on each student's newest push (the every-push round), not the final "
                               "grading: hidden inputs from a seed of the commit in collected.csv, which no final "
                               "grading uses, and the students' messages show the kind of each hidden input, not its "
                               "value (their instructor's feedback-instructor.md shows it)")
    everyone.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                          help="the assignments to grade (default: every one that a student submitted)")
    everyone.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                          help="grade only shard I of N of the students (one runner of N); join the shards' "
                               "outputs with the merge verb")
    everyone.add_argument("--nbgrader-db", default=None, metavar="URL",
                          help="nbgrader's database, for the written answers graded in its formgrader (default: "
                               "gradebook.db beside SUBMITTED_DIR, if there is one)")
    everyone.add_argument("--canvas-roster", type=Path, default=None, metavar="CSV",
                          help="who each student is in Canvas, for canvas.csv: a 'student' column and any of 'name', "
                               "'canvas_id', 'sis_user_id', 'sis_login_id', 'section' (default: our id as the SIS "
                               "Login ID)")
    everyone.add_argument("--canvas-assignment", type=_canvas_assignment, action="append", default=None,
                          metavar="NAME=ID", help="the Canvas id of an assignment (repeat per assignment): its "
                          "canvas.csv column becomes 'NAME (ID)', which updates that assignment")
    everyone.add_argument("--gradescope", action="store_true",
                          help="also write <student>/gradescope/<assignment>.json in Gradescope's results format")
    join = verbs.add_parser("merge", help="one gradebook from the outputs of grade-all --shard I/N")
    join.add_argument("out", type=Path, help="where the merged gradebook.csv and the students' files go")
    join.add_argument("shards", type=Path, nargs="+", help="each shard's --out folder")
    join.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                      help="the trusted release notebooks, for the class's report.html (default: %(default)s)")
    release = verbs.add_parser("release", help="build the repository students get: released notebooks, public "
                               "checks, the grader without hidden cases, its workflow")
    release.add_argument("out", type=Path, help="a folder that does not exist yet")
    release.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                         help="the assignments released so far, each named once (default: all of assignments/)")
    gather = verbs.add_parser("collect", help="fetch students' repositories at a deadline into nbgrader's "
                              "submitted/<student>/<assignment>/")
    gather.add_argument("roster", type=Path, help="CSV: an 'id' (or 'student') column, a 'github' or 'url' column, "
                        "optionally 'deadline' (the student's own); other columns are ignored")
    gather.add_argument("--deadline", required=True, help="ISO 8601 with an offset, e.g. 2026-12-15T23:59:00+01:00, "
                        "or a local time with --timezone")
    gather.add_argument("--timezone", default=None, metavar="ZONE",
                        help="the zone of deadlines written without an offset, e.g. Europe/Berlin")
    gather.add_argument("--late-window", type=_duration, default="0", metavar="DURATION",
                        help="how long after the deadline a commit is still taken, as late: 48h, 2d, 90m "
                             "(default: none)")
    gather.add_argument("--late-penalty", type=_percent, default=0.0, metavar="PERCENT",
                        help="points taken off a late commit per started day late, in percent of the student's "
                             "points, at most 100 %% in all (default: %(default)g)")
    gather.add_argument("--students", nargs="+", default=None, metavar="ID",
                        help="collect only these students of the roster; the record keeps the others' rows")
    gather.add_argument("--into", type=Path, default=Path("submitted"), help="(default: %(default)s)")
    gather.add_argument("--org", help="GitHub organisation of the repositories <org>/<prefix>-<username>")
    gather.add_argument("--prefix", help="GitHub Classroom's repository prefix (the classroom assignment's name)")
    gather.add_argument("--base", default="https://github.com", help="where the organisations live (default: "
                        "%(default)s)")
    gather.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                        help="the notebooks to collect, each a released assignment (default: every released one)")
    gather.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help="(default: %(default)s)")
    new = verbs.add_parser("fetch", help="fetch each student's newest commit that has no grade yet (GitHub API; "
                           "token in $AUTOGRADER_GITHUB_TOKEN)")
    source = new.add_mutually_exclusive_group(required=True)
    source.add_argument("--roster", type=Path, help="collect's roster CSV ('id' or 'student', and 'github' or "
                        "'url')")
    source.add_argument("--all", dest="whole_org", action="store_true",
                        help="every repository of --org named <prefix>-<username>, the username as student id")
    new.add_argument("--org", help="GitHub organisation of the repositories <org>/<prefix>-<username>")
    new.add_argument("--prefix", help="GitHub Classroom's repository prefix (the classroom assignment's name)")
    new.add_argument("--into", type=Path, default=Path("inbox/submitted"),
                     help="a new or empty folder for submitted/<student>/<assignment>/ (default: %(default)s)")
    new.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                     help="the notebooks to fetch, each a released assignment (default: every released one)")
    new.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help="(default: %(default)s)")
    new.add_argument("--regrade", action="store_true", help="fetch graded commits too (after the cases changed)")
    new.add_argument("--api-url", default=None, help="GitHub's REST API (default: $GITHUB_API_URL, else "
                     "https://api.github.com)")
    new.add_argument("--per-runner", type=_jobs, default=30, help="students one grading runner takes, for the "
                     "'shards' output in GitHub Actions (default: %(default)s)")
    new.add_argument("--max-runners", type=_jobs, default=10, help="(default: %(default)s)")
    post = verbs.add_parser("publish", help="post grade-all's results to the fetched commits: a status with the "
                            "score, a comment with the feedback (token in $AUTOGRADER_GITHUB_TOKEN)")
    post.add_argument("submitted", type=Path, help="the folder fetch wrote (its collected.csv)")
    post.add_argument("gradebook", type=Path, help="grade-all's (or merge's) output folder")
    post.add_argument("--api-url", default=None, help="(default: $GITHUB_API_URL, else https://api.github.com)")
    post.add_argument("--pass-at", type=_fraction, default=1.0, metavar="FRACTION",
                      help="the commit status is success from this share of the points on, e.g. 0.5 (default: "
                           "%(default)s, full points)")
    view = verbs.add_parser("class-report", help="write a gradebook's report.html (the class, its items and "
                            "failures, flags, similar solutions) and similarity.csv again from what is on disk")
    view.add_argument("gradebook", type=Path, help="grade-all's (or merge's) output folder")
    view.add_argument("--submitted", type=Path, default=None,
                      help="nbgrader's submitted/<student>/<assignment>/ folder: compare the students' code and "
                           "write similarity.csv (default: list the pairs of the similarity.csv already there)")
    view.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                      help="the trusted release notebooks (default: %(default)s)")
    view.add_argument("--threshold", type=_fraction, default=None, metavar="X",
                      help="list the pairs whose similarity is at least X, from 0 to 1 (default: 0.6)")
    new_assignment.add_parser(verbs)
    hand = verbs.add_parser("written", help="written answers graded by hand in nbgrader's formgrader: register the "
                            "graded class in nbgrader's gradebook, then merge the scores and comments given there",
                            description="After grade-all: `written register submitted` records the class in "
                            "nbgrader's gradebook (no notebook is run) so the formgrader (Jupyter: Nbgrader > "
                            "Formgrader) lists it; once the written answers are graded there, `written merge "
                            "gradebook` brings their scores and comments into each results.json, feedback.md and "
                            "gradebook.csv.")
    steps = hand.add_subparsers(dest="action", required=True)
    enter = steps.add_parser("register", help="record grade-all's results in nbgrader's gradebook, with the "
                             "formgrader's autograded/ pages, without running any notebook (seconds for a class)")
    enter.add_argument("submitted", type=Path, help="nbgrader's submitted/<student>/<assignment>/ folder; the "
                       "folder above it is nbgrader's course directory")
    enter.add_argument("--out", type=Path, default=None,
                       help="grade-all's --out, with each student's results.json (default: as grade-all's, the "
                            "folder gradebook beside SUBMITTED_DIR)")
    enter.add_argument("--db", default=None, metavar="URL",
                       help="nbgrader's database (default: gradebook.db beside SUBMITTED_DIR, as nbgrader_config.py "
                            "lays out the course directory)")
    enter.add_argument("--roster", type=Path, default=None,
                       help="CSV of the class: an 'id' (nbgrader's) or 'student' (collect's) column, optionally "
                            "first_name, last_name, email; every student is listed, with or without a submission")
    enter.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                       help="the trusted release notebooks (default: %(default)s)")
    bring = steps.add_parser("merge", help="the written answers' scores and comments from nbgrader's gradebook "
                             "into each results.json, feedback.md and gradebook.csv; grades nothing")
    bring.add_argument("gradebook", type=Path, help="grade-all's --out folder")
    bring.add_argument("--db", default=None, metavar="URL",
                       help="nbgrader's database (default: gradebook.db beside SUBMITTED_DIR)")
    bring.add_argument("--submitted", type=Path, default=None,
                       help="nbgrader's submitted/ folder, for collect's record (default: submitted beside "
                            "GRADEBOOK_DIR)")
    bring.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                       help="the trusted release notebooks (default: %(default)s)")
    return parser


def _shard(text: str) -> tuple[int, int]:
    from autograder.verbs.grade_all import parse_shard

    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(text: str) -> timedelta:
    from autograder.verbs.collect import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _canvas_assignment(text: str) -> tuple[str, str]:
    from autograder.report.exports import parse_canvas_assignment

    try:
        return parse_canvas_assignment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a percentage from 0 to 100, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a fraction from 0 to 1 (0.5: half the points), got {text!r}")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number of at least 1, got {text!r}")
    return int(text)


def _seed(text: str) -> int:
    from autograder.judge.seeds import SEED_BITS

    if not text.isdigit() or int(text) >= 2**SEED_BITS:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to 2**{SEED_BITS} - 1, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and 2
    # Each verb's module is imported only when it runs: `grade` never pays for GitHub's client, nor `fetch` for torch.
    module, function = VERBS[args.verb]
    return getattr(importlib.import_module(f"autograder.verbs.{module}"), function)(args)
