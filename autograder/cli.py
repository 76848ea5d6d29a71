"""Command line: the student's verb ``grade``, and the instructor's ``release``, ``collect``, ``grade-all``, ...

    python -m autograder grade PATH... [--json FILE]
    python -m autograder release OUT_DIR [--assignments NAME...]
    python -m autograder collect ROSTER.csv --deadline ISO_TIME [--org ORG --prefix PREFIX] [--into submitted]
    python -m autograder grade-all SUBMITTED_DIR [--jobs N] [--out gradebook] [--shard I/N]
    python -m autograder merge OUT_DIR SHARD_OUT_DIR...
    python -m autograder fetch (--roster ROSTER.csv | --org ORG --prefix PREFIX) [--into inbox/submitted]
    python -m autograder publish SUBMITTED_DIR GRADEBOOK_DIR
    python -m autograder new NN_name [--no-release]

Exit status: 0 when grading completed (whatever the score), 2 for a usage
error, 1 for an internal error. A valid results file is written in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

# nbformat imports jsonschema, which builds an IRI grammar (rfc3987_syntax) at
# import time: about 3 s, for a format no notebook schema uses. jsonschema skips
# that checker when the import fails.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder.course import COURSE, assignment_names  # noqa: E402 - light: the standard library
from autograder.sandbox import process as sandbox  # noqa: E402 - light: numpy and the standard library
from autograder.verbs import new as new_assignment  # noqa: E402 - light: the standard library

DEFAULT_RELEASE = COURSE.assignments


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
                                "parallel, into a gradebook")
    everyone.add_argument("submitted", type=Path, help="nbgrader's submitted/<student>/<assignment>/ folder")
    everyone.add_argument("--out", type=Path, default=Path("gradebook"),
                          help="where gradebook.csv and each student's results.json and feedback.md go "
                               "(default: %(default)s)")
    everyone.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1,
                          help="students graded at once (default: the number of CPUs, %(default)s)")
    everyone.add_argument("--release", type=Path, default=DEFAULT_RELEASE,
                          help="the trusted release notebooks (default: %(default)s)")
    everyone.add_argument("--public-only", action="store_true", help="skip the hidden cases")
    everyone.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                          help="the assignments to grade (default: every one that a student submitted)")
    everyone.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                          help="grade only shard I of N of the students (one runner of N); join the shards' "
                               "outputs with the merge verb")
    everyone.add_argument("--nbgrader-db", default=None, metavar="URL",
                          help="nbgrader's database, for the written answers graded in its formgrader (default: "
                               "gradebook.db beside SUBMITTED_DIR, if there is one)")
    join = verbs.add_parser("merge", help="one gradebook from the outputs of grade-all --shard I/N")
    join.add_argument("out", type=Path, help="where the merged gradebook.csv and the students' files go")
    join.add_argument("shards", type=Path, nargs="+", help="each shard's --out folder")
    release = verbs.add_parser("release", help="build the repository students get: released notebooks, public "
                               "checks, the grader without hidden cases, its workflow")
    release.add_argument("out", type=Path, help="a folder that does not exist yet")
    release.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                         help="the assignments released so far (default: all of assignments/)")
    gather = verbs.add_parser("collect", help="fetch students' repositories at a deadline into nbgrader's "
                              "submitted/<student>/<assignment>/")
    gather.add_argument("roster", type=Path, help="CSV with a 'student' column and a 'github' or 'url' column")
    gather.add_argument("--deadline", required=True, help="ISO 8601 with a time zone, e.g. 2026-12-15T23:59:00+01:00")
    gather.add_argument("--into", type=Path, default=Path("submitted"), help="(default: %(default)s)")
    gather.add_argument("--org", help="GitHub organisation of the repositories <org>/<prefix>-<username>")
    gather.add_argument("--prefix", help="GitHub Classroom's repository prefix (the classroom assignment's name)")
    gather.add_argument("--base", default="https://github.com", help="where the organisations live (default: "
                        "%(default)s)")
    gather.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                        help="the notebooks to collect (default: every released one)")
    gather.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help="(default: %(default)s)")
    new = verbs.add_parser("fetch", help="fetch each student's newest commit that has no grade yet (GitHub API; "
                           "token in $AUTOGRADER_GITHUB_TOKEN)")
    source = new.add_mutually_exclusive_group(required=True)
    source.add_argument("--roster", type=Path, help="collect's roster CSV ('student' and 'github' or 'url')")
    source.add_argument("--all", dest="whole_org", action="store_true",
                        help="every repository of --org named <prefix>-<username>, the username as student id")
    new.add_argument("--org", help="GitHub organisation of the repositories <org>/<prefix>-<username>")
    new.add_argument("--prefix", help="GitHub Classroom's repository prefix (the classroom assignment's name)")
    new.add_argument("--into", type=Path, default=Path("inbox/submitted"),
                     help="a new or empty folder for submitted/<student>/<assignment>/ (default: %(default)s)")
    new.add_argument("--assignments", nargs="+", default=None, metavar="NAME",
                     help="the notebooks to fetch (default: every released one)")
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
    new_assignment.add_parser(verbs)
    return parser


def fetch(args: argparse.Namespace) -> int:
    from autograder import github as hub
    from autograder.verbs.collect import CollectError
    from autograder.verbs.fetch import fetch as fetch_new
    from autograder.verbs.fetch import organisation_repositories, roster_repositories

    if args.whole_org and not (args.org and args.prefix):
        print("usage: --all needs --org and --prefix", file=sys.stderr)
        return 2
    if args.into.exists() and any(args.into.iterdir()):
        print(f"usage: {args.into} is not empty: fetch into a new folder", file=sys.stderr)
        return 2
    assignments = args.assignments or assignment_names(args.release)
    try:
        github = hub.client(hub.api_url(args.api_url), hub.token_from_environment())
        students = (roster_repositories(args.roster, args.org, args.prefix) if args.roster
                    else organisation_repositories(github, args.org, args.prefix))
        if not students:
            print(f"warning: no repository of {args.org} is named {args.prefix}-<username>")
        found = fetch_new(github, students, assignments, args.into, regrade=args.regrade)
    except CollectError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    except hub.HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - listing the organisation failed
        if not hub.transient(error):
            print(f"error: GitHub: {hub.describe(error)}", file=sys.stderr)
            return 1
        print(f"warning: GitHub: {hub.describe(error)}; nothing fetched, the next run tries again")
        _outputs(count=0, shards="[]")
        return 0
    for entry in found.new:
        notebooks = ", ".join(entry.notebooks) or "no notebook"
        print(f"{entry.student:<20} {entry.commit[:10]} {notebooks}" + (f"  [{'; '.join(entry.flags)}]"
                                                                        if entry.flags else ""))
    for problem in found.problems:
        print(f"::warning title=fetch::{problem}" if os.environ.get("GITHUB_ACTIONS") else f"warning: {problem}")
    runners = found.runners(args.per_runner, args.max_runners)
    print(f"fetched {len(found.new)} new commit(s) into {args.into}/; {len(found.graded)} already graded; "
          f"{len(found.later)} left for the next run; {runners} grading runner(s)")
    _outputs(count=len(found.new), shards=json.dumps(list(range(1, runners + 1)) if found.new else []),
             runners=runners, assignments=" ".join(assignments))
    return 0


def publish(args: argparse.Namespace) -> int:
    from autograder import github as hub
    from autograder.verbs.publish import publish as post_results

    try:
        github = hub.client(hub.api_url(args.api_url), hub.token_from_environment())
        done = post_results(github, args.submitted, args.gradebook)
    except hub.HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in done.problems:
        print(f"::warning title=publish::{problem}" if os.environ.get("GITHUB_ACTIONS") else f"warning: {problem}")
    print(f"posted {len(done.posted)} grade(s); {len(done.later)} left for the next run")
    return 0


def _outputs(**values) -> None:
    """Step outputs in GitHub Actions (``$GITHUB_OUTPUT``); nothing elsewhere."""
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def collect(args: argparse.Namespace) -> int:
    from autograder.verbs.collect import CollectError
    from autograder.verbs.collect import collect as collect_class

    assignments = args.assignments or assignment_names(args.release)
    try:
        found = collect_class(args.roster, args.deadline, args.into, assignments, args.org, args.prefix, args.base)
    except CollectError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    for entry in found:
        status = f"{entry.commit[:10]} ({entry.date})" if entry.commit else "nothing collected"
        print(f"{entry.student:<20} {status}" + (f"  [{'; '.join(entry.flags)}]" if entry.flags else ""))
    print(f"collected {sum(1 for e in found if e.notebooks)} of {len(found)} students into {args.into}/ "
          f"(record: {args.into / 'collected.csv'})")
    return 0


def release(args: argparse.Namespace) -> int:
    from autograder.release import repository as template

    if args.out.exists():
        print(f"usage: {args.out} exists already: name a new folder", file=sys.stderr)
        return 2
    try:
        built = template.build(args.out, args.assignments)
    except ValueError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    notebooks = sorted(path.parent.name for path in built.glob("assignments/*/*.ipynb"))
    print(f"built the student repository in {built}: {', '.join(notebooks)}; no hidden case, no course secret")
    print("next: git init there, push it, and make it the template repository of the classroom assignment")
    return 0


def merge(args: argparse.Namespace) -> int:
    from autograder.verbs.grade_all import merge as merge_shards

    try:
        students = merge_shards(args.out, args.shards)
    except (OSError, ValueError) as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    print(f"merged {len(args.shards)} shards: {len(students)} students in {args.out / 'gradebook.csv'}")
    return 0


def _shard(text: str) -> tuple[int, int]:
    from autograder.verbs.grade_all import parse_shard

    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number of at least 1, got {text!r}")
    return int(text)


def _seed(text: str) -> int:
    from autograder.judge.seeds import SEED_BITS

    if not text.isdigit() or int(text) >= 2**SEED_BITS:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to 2**{SEED_BITS} - 1, got {text!r}")
    return int(text)


def grade(args: argparse.Namespace) -> int:
    # The zygote (which forks the workers) imports torch while this process imports torch, nbformat and pytest.
    sandbox.prestart()
    from autograder.grading.pipeline import UsageError, find_notebooks, grade_notebook, load_releases
    from autograder.report import results as report

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
    data = report.results_json(results, problems, internal_error=status == 1)
    report.write_json(data, args.json)
    print(report.table(data))
    print(f"\nresults written to {args.json}")
    report.github(data)
    return status


def grade_all(args: argparse.Namespace) -> int:
    from autograder.grading.pipeline import UsageError
    from autograder.verbs.grade_all import grade_class

    if not args.submitted.is_dir():
        print(f"usage: {args.submitted}: no such folder (expected nbgrader's submitted/<student>/<assignment>/)",
              file=sys.stderr)
        return 2
    database = args.nbgrader_db
    if database is None and (args.submitted.resolve().parent / "gradebook.db").is_file():
        database = f"sqlite:///{args.submitted.resolve().parent / 'gradebook.db'}"
    started = time.monotonic()
    try:
        rows = grade_class(args.submitted, args.release, args.out, jobs=args.jobs, hidden=not args.public_only,
                           assignments=args.assignments, nbgrader_db=database, shard=args.shard)
    except UsageError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - started
    from autograder.report import results as report

    report.github_class(rows, sum(rows[0].maxima.values()) if rows else 0.0)
    flagged = sum(1 for row in rows if row.flags)
    print(f"graded {len(rows)} students in {seconds:.1f} s with {args.jobs} job(s); {flagged} flagged")
    print(f"gradebook: {args.out / 'gradebook.csv'}; per student: {args.out}/<student>/results.json, feedback.md")
    return 1 if any(row.internal_error for row in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and 2
    verbs = {"grade-all": grade_all, "collect": collect, "release": release, "merge": merge, "fetch": fetch,
             "publish": publish, "new": new_assignment.run}
    return verbs.get(args.verb, grade)(args)
