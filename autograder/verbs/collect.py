"""Collect students' repositories at a deadline into nbgrader's ``submitted/<student>/<assignment>/`` layout.

    python -m autograder collect roster.csv --deadline 2026-12-15T23:59:00+01:00 \\
        --org my-course-org --prefix cnn-course [--into submitted]

The roster is a CSV with a ``student`` column (the id nbgrader and the gradebook use) and either a
``github`` column (the username: GitHub Classroom names each repository ``<org>/<prefix>-<username>``)
or a ``url`` column (any URL or path git can clone). For each student the repository is fetched with
git, the newest commit of its default branch dated no later than the deadline is taken, and each released
notebook in it is written to ``<into>/<student>/<assignment>/<assignment>.ipynb``; a workflow of the student's
that differs from the released one is flagged (it shows the student a score of its own). Commits dated after the
deadline are reported as late and not collected; a student without a repository, or without a commit
before the deadline, is reported and gets no folder. ``<into>/collected.csv`` records, per student, the
repository, the commit taken, its date and what was flagged.

Commit dates come from the commits themselves, which a student can set; GitHub's own push times (its
API) are the stronger record where a late push matters.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from autograder.course import COURSE, assignment_names

GIT_TIMEOUT = 120    # seconds for one git command
TEMPLATE = COURSE.template
WORKFLOWS = ".github/workflows"


@dataclass
class Collected:
    student: str
    repository: str
    commit: str = ""
    date: str = ""
    notebooks: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


class CollectError(Exception):
    """A roster or deadline that cannot be used; the CLI exits 2."""


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 time with its time zone (``2026-12-15T23:59:00+01:00``, or ``...Z``)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CollectError(f"--deadline {text!r} is not an ISO 8601 time such as 2026-12-15T23:59:00+01:00") from None
    if moment.tzinfo is None:
        raise CollectError(f"--deadline {text!r} has no time zone: add one, e.g. +00:00")
    return moment


def read_roster(path: Path, org: str | None, prefix: str | None, base: str) -> list[tuple[str, str]]:
    """(student, repository URL) for every row of the roster; a student id on two rows is an error."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise CollectError(f"{path}: {error.strerror}") from None
    pairs = []
    for number, row in enumerate(rows, 2):
        student = (row.get("student") or "").strip()
        if not student or "/" in student or student.startswith("."):
            raise CollectError(f"{path}, line {number}: no usable 'student' id")
        url = (row.get("url") or "").strip()
        if not url:
            username = (row.get("github") or "").strip()
            if not (username and org and prefix):
                raise CollectError(f"{path}, line {number}: give a 'url', or a 'github' username with --org and "
                                   "--prefix")
            url = f"{base.rstrip('/')}/{org}/{prefix}-{username}.git"
        pairs.append((student, url))
    twice = sorted(student for student, count in Counter(student for student, _ in pairs).items() if count > 1)
    if twice:
        raise CollectError(f"{path}: student id(s) {', '.join(twice)} appear on more than one row: one row each")
    return pairs


def _git(*args: str, cwd: Path | None = None, text: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, timeout=GIT_TIMEOUT, env=env)


def collect_one(student: str, url: str, deadline: datetime, assignments: list[str], into: Path) -> Collected:
    found = Collected(student, url)
    with tempfile.TemporaryDirectory(prefix="collect-") as tmp:
        clone = Path(tmp) / "repo"
        try:
            run = _git("clone", "--quiet", "--bare", "--", url, str(clone))      # "--": a url is never an option
        except subprocess.TimeoutExpired:
            found.flags.append(f"no repository: cloning {url} took over {GIT_TIMEOUT} s")
            return found
        if run.returncode != 0:
            reason = (run.stderr.strip().splitlines() or ["git clone failed"])[-1]
            found.flags.append(f"no repository: {reason}")
            return found
        stamp = deadline.isoformat()
        before = _git("rev-list", "-1", f"--before={stamp}", "HEAD", cwd=clone).stdout.strip()
        late = _git("rev-list", "--count", f"--since={stamp}", "HEAD", cwd=clone).stdout.strip()
        if late.isdigit() and int(late):
            found.flags.append(f"late: {late} commit(s) dated after the deadline were not collected")
        if not before:
            found.flags.append("no commit dated before the deadline")
            return found
        found.commit = before      # a commit id git printed; still, revisions below come after --end-of-options
        found.date = _git("show", "-s", "--format=%cI", "--end-of-options", before, cwd=clone).stdout.strip()
        found.flags.extend(workflow_changes(clone, before))
        for assignment in assignments:
            name = f"assignments/{assignment}/{assignment}.ipynb"
            blob = _git("show", "--end-of-options", f"{before}:{name}", cwd=clone, text=False)
            if blob.returncode != 0:
                continue
            target = into / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
            found.notebooks.append(assignment)
        if not found.notebooks:
            found.flags.append("the commit holds none of the released notebooks")
    return found


def workflow_changes(clone: Path, commit: str) -> list[str]:
    """Flags for workflows of the student's commit that differ from the released ones (added, changed, deleted).

    The grade a student's own workflow shows is theirs to fake; the instructor's grading never reads it,
    but a changed workflow is worth a look.
    """
    listing = _git("ls-tree", "-r", "--end-of-options", commit, "--", WORKFLOWS, cwd=clone).stdout.splitlines()
    return workflow_flags({line.split("\t", 1)[1]: line.split()[2] for line in listing if "\t" in line})


def workflow_flags(theirs: dict[str, str]) -> list[str]:
    """Flags for a commit whose workflows (path -> git blob id) differ from the released ones."""
    released = _released_workflows()
    flags = [f"{path} was changed" for path in sorted(set(released) & set(theirs)) if released[path] != theirs[path]]
    flags += [f"{path} was deleted" for path in sorted(set(released) - set(theirs))]
    flags += [f"{path} was added" for path in sorted(set(theirs) - set(released))]
    return flags


@functools.cache
def _released_workflows() -> dict[str, str]:
    """Path -> git object id of each workflow the student template ships."""
    return {path.relative_to(TEMPLATE).as_posix(): _blob(path.read_bytes())
            for path in sorted((TEMPLATE / WORKFLOWS).glob("*")) if path.is_file()}


def _blob(data: bytes) -> str:
    """git's object id of a file's bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def collect(roster: Path, deadline: str, into: Path, assignments: list[str], org: str | None = None,
            prefix: str | None = None, base: str = "https://github.com") -> list[Collected]:
    """Collect every student of the roster; write ``into/collected.csv``; return what was found."""
    moment = parse_deadline(deadline)
    pairs = read_roster(roster, org, prefix, base)
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    results = [collect_one(student, url, moment, assignments, into) for student, url in pairs]
    write_record(into, results)
    return results


def write_record(into: Path, results: list[Collected]) -> None:
    """``into/collected.csv``: per student, the repository, the commit taken, its date, the notebooks, the flags."""
    with open(Path(into) / "collected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "repository", "commit", "commit_date", "notebooks", "flags"])
        for found in results:
            writer.writerow([found.student, found.repository, found.commit, found.date, " ".join(found.notebooks),
                             "; ".join(found.flags)])


def read_record(into: Path) -> list[Collected]:
    """What :func:`write_record` wrote (empty when there is no record)."""
    path = Path(into) / "collected.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [Collected(row["student"], row.get("repository", ""), row.get("commit", ""), row.get("commit_date", ""),
                          (row.get("notebooks") or "").split(), [f for f in (row.get("flags") or "").split("; ") if f])
                for row in csv.DictReader(handle) if row.get("student")]


# -- the verb ---------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    assignments = args.assignments or assignment_names(args.release)
    try:
        found = collect(args.roster, args.deadline, args.into, assignments, args.org, args.prefix, args.base)
    except CollectError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    for entry in found:
        status = f"{entry.commit[:10]} ({entry.date})" if entry.commit else "nothing collected"
        print(f"{entry.student:<20} {status}" + (f"  [{'; '.join(entry.flags)}]" if entry.flags else ""))
    print(f"collected {sum(1 for e in found if e.notebooks)} of {len(found)} students into {args.into}/ "
          f"(record: {args.into / 'collected.csv'})")
    return 0
