"""Fetch every student's newest commit that has no grade yet, for grading with the hidden cases.

    AUTOGRADER_GITHUB_TOKEN=... python -m autograder fetch (--roster roster.csv | --org ORG --prefix PREFIX) \\
        [--into inbox/submitted] [--regrade]

The students are the roster's (``autograder.roster``: the CSV of ``collect``; fetch does not read its
``deadline`` column) or, without one, every repository of ``ORG`` named ``<PREFIX>-<username>`` (GitHub
Classroom's names; the student id is the username). For each, the newest
commit of the default branch is looked up, and skipped when it already carries the ``autograder`` commit
status that ``publish`` posts (success, failure or error: the commit's own status is the record, nothing
else is kept). Otherwise each released notebook in it is written to ``<into>/<student>/<assignment>/``,
and ``<into>/collected.csv`` records the repository, the commit and what was flagged, as ``collect`` does;
``grade-all`` grades that folder with no token in reach, and ``publish`` posts the results back.

Everything goes through GitHub's REST API (PyGithub), so this job needs no git credentials. A repository
that does not exist (a roster row whose student never accepted the assignment) or has vanished is reported
and skipped; with no new commit, there is nothing to grade and no grading runner is asked for. A rate
limit or a server that keeps failing stops the fetch there, with a message: those students keep no
status, so the next run fetches them.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from autograder import github as hub
from autograder.roster import RosterError, read_roster
from autograder.verbs.collect import Collected, CollectError, checked_assignments, workflow_flags, write_record

WORKFLOWS = ".github/workflows"
NOT_STARTED = object()     # a student not read because an earlier one met the rate limit


@dataclass
class Fetched:
    """What a fetch found: the commits to grade, and every student it did not fetch, with why."""

    new: list[Collected] = field(default_factory=list)
    graded: list[str] = field(default_factory=list)        # students whose newest commit has its status
    later: list[tuple[str, str]] = field(default_factory=list)   # (student, why): rate limit, server errors
    problems: list[str] = field(default_factory=list)

    def runners(self, per_runner: int, most: int) -> int:
        """How many grading runners the new commits need: one per ``per_runner`` students, at most ``most``
        (none when there is nothing new)."""
        if not self.new:
            return 0
        return max(1, min(most, math.ceil(len(self.new) / max(1, per_runner))))


def roster_repositories(roster: Path, org: str | None, prefix: str | None) -> list[tuple[str, str]]:
    """(student, "owner/name") for every row of ``collect``'s roster; :class:`RosterError` for a row without one."""
    everyone = read_roster(roster)
    pairs = []
    for student in everyone.students:
        url = everyone.repository(student, org, prefix, "https://github.com")
        parts = [part for part in urlparse(url).path.split("/") if part]
        if len(parts) < 2:
            raise RosterError(f"{everyone.where(student)}: {url!r} names no GitHub repository owner/name")
        pairs.append((student.id, f"{parts[-2]}/{parts[-1].removesuffix('.git')}"))
    return pairs


def organisation_repositories(github, org: str, prefix: str) -> list[tuple[str, str]]:
    """(username, "org/<prefix>-<username>") for every repository of the organisation with that prefix."""
    start = f"{prefix}-"
    return sorted((repo.name[len(start):], repo.full_name) for repo in github.get_organization(org).get_repos()
                  if repo.name.startswith(start) and len(repo.name) > len(start))


def graded(commit) -> bool:
    """Has ``publish`` posted this commit's result (a final ``autograder`` status)?"""
    return any(status.context == hub.CONTEXT and status.state != "pending"
               for status in commit.get_combined_status().statuses)


def fetch_one(repo, student: str, assignments: list[str], into: Path, regrade: bool) -> Collected | None:
    """The student's newest commit, its notebooks written under ``into``; None when it is graded already."""
    from github import GithubException

    name = repo.default_branch              # 404 here: the repository is gone
    try:
        commit = repo.get_branch(name).commit
    except GithubException as error:
        if error.status in (404, 409):      # an empty repository has no branch yet
            return Collected(student, repo.full_name, flags=["no commit yet"])
        raise
    if not regrade and graded(commit):
        return None
    found = Collected(student, repo.full_name, commit.sha, commit.commit.committer.date.isoformat())
    found.flags.extend(workflow_flags(_workflow_blobs(repo, commit.sha)))
    for assignment in assignments:
        data = _file(repo, f"assignments/{assignment}/{assignment}.ipynb", commit.sha)
        if data is None:
            continue
        target = into / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        found.notebooks.append(assignment)
    if not found.notebooks:
        found.flags.append("the commit holds none of the released notebooks")
    return found


def _file(repo, path: str, ref: str) -> bytes | None:
    """A file's bytes at ``ref``, or None when it is not there. Past 1 MB the contents API leaves the
    content out; the blob API gives it whole."""
    from github import GithubException

    try:
        entry = repo.get_contents(path, ref=ref)
    except GithubException as error:
        if error.status == 404:
            return None
        raise
    if isinstance(entry, list) or entry.type != "file":
        return None
    if entry.encoding == "base64" and entry.content is not None:
        return base64.b64decode(entry.content)
    return base64.b64decode(repo.get_git_blob(entry.sha).content)


def _workflow_blobs(repo, ref: str) -> dict[str, str]:
    """Path -> git blob id of each file of the commit's ``.github/workflows``."""
    from github import GithubException

    try:
        listing = repo.get_contents(WORKFLOWS, ref=ref)
    except GithubException as error:
        if error.status == 404:
            return {}
        raise
    return {entry.path: entry.sha for entry in (listing if isinstance(listing, list) else [listing])
            if entry.type == "file"}


def fetch(github, students: list[tuple[str, str]], assignments: list[str], into: Path,
          regrade: bool = False) -> Fetched:
    """Fetch the new commits of ``students`` ((student, "owner/name") pairs); write ``into/collected.csv``.

    :data:`hub.CONNECTIONS` students are read at once. Raises :class:`hub.HubError` when the token is refused.
    """
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()       # a rate limit: the students not started yet wait for the next run

    def one(pair: tuple[str, str]):
        if stop.is_set():
            return NOT_STARTED, None
        try:
            return fetch_one(github.get_repo(pair[1]), pair[0], assignments, into, regrade), None
        except Exception as error:   # noqa: BLE001 - sorted below: no student is lost to one error
            if hub.rate_limited(error) or hub.fatal(error):
                stop.set()
            return None, error

    with concurrent.futures.ThreadPoolExecutor(hub.CONNECTIONS) as pool:
        outcomes = list(pool.map(one, students))
    done = Fetched()
    record: list[Collected] = []
    limit = next((error for _, error in outcomes if error is not None and hub.rate_limited(error)), None)
    for (student, full_name), (found, error) in zip(students, outcomes):
        if found is NOT_STARTED:
            why = f"rate limit reached ({hub.describe(limit)})" if limit else "the token was refused"
            done.later.append((student, why))
        elif error is None and found is None:
            done.graded.append(student)
        elif error is None and not found.commit:
            record.append(found)
            done.problems.append(f"{student}: {full_name} has no commit yet")
        elif error is None:
            done.new.append(found)
            record.append(found)
        elif hub.fatal(error):
            raise hub.HubError(f"GitHub refused the token reading {full_name} ({hub.describe(error)}): "
                               "check its permissions (README, 'Scores on every push')") from error
        elif hub.vanished(error):
            record.append(Collected(student, full_name, flags=[f"no repository: {hub.describe(error)}"]))
            missing = "no repository" if getattr(error, "status", None) == 404 else "the repository is gone"
            done.problems.append(f"{student}: {missing} {full_name} ({hub.describe(error)}); skipped")
        elif hub.transient(error):
            done.later.append((student, hub.describe(error)))
        else:
            raise error
    if done.later:
        done.problems.append(f"{len(done.later)} student(s) left for the next run: "
                             + "; ".join(f"{student} ({why})" for student, why in done.later[:5])
                             + (" ..." if len(done.later) > 5 else ""))
    write_record(into, record)
    return done


# -- the verb ---------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    if args.whole_org and not (args.org and args.prefix):
        print("usage: --all needs --org and --prefix", file=sys.stderr)
        return 2
    if args.into.exists() and any(args.into.iterdir()):
        print(f"usage: {args.into} is not empty: fetch into a new folder", file=sys.stderr)
        return 2
    try:
        assignments = checked_assignments(args.assignments, args.release)
        github = hub.client(hub.api_url(args.api_url), hub.token_from_environment())
        students = (roster_repositories(args.roster, args.org, args.prefix) if args.roster
                    else organisation_repositories(github, args.org, args.prefix))
        if not students:
            print(f"warning: no repository of {args.org} is named {args.prefix}-<username>")
        found = fetch(github, students, assignments, args.into, regrade=args.regrade)
    except (CollectError, RosterError) as error:
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
        hub.step_outputs(count=0, shards="[]")
        return 0
    for entry in found.new:
        notebooks = ", ".join(entry.notebooks) or "no notebook"
        print(f"{entry.student:<20} {entry.commit[:10]} {notebooks}" + (f"  [{'; '.join(entry.flags)}]"
                                                                        if entry.flags else ""))
    for problem in found.problems:
        print(f"::warning title=fetch::{problem}" if os.environ.get("GITHUB_ACTIONS") else f"warning: {problem}")
    runners = found.runners(args.per_runner, args.max_runners)
    print(f"fetched {len(found.new)} new commit(s) into {args.into}/; {len(found.graded)} already graded; "
          f"{len(found.later)} left for the next run; "
          + (f"{runners} grading runner(s)" if runners else "nothing to grade"))
    hub.step_outputs(count=len(found.new), shards=json.dumps(list(range(1, runners + 1))), runners=runners,
                     assignments=" ".join(assignments))
    return 0
