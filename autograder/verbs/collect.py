"""Collect students' repositories at a deadline into nbgrader's ``submitted/<student>/<assignment>/`` layout.

    python -m autograder collect roster.csv --deadline 2026-12-15T23:59:00+01:00 \\
        --org my-course-org --prefix cnn-course [--into submitted] [--timezone Europe/Berlin] \\
        [--late-window 48h --late-penalty 10] [--students ID...] [--assignments NAME...]

The roster (``autograder.roster``) names each student by an ``id`` (or ``student``) column, the id nbgrader
and the gradebook use, with a ``github`` username (GitHub Classroom names each repository
``<org>/<prefix>-<username>``) or a ``url`` (any URL or path git can clone), and optionally a ``deadline``
of the student's own (an extension), which overrides ``--deadline``. Deadlines carry an offset, or are local
times of ``--timezone``.

For each student the repository is fetched with git, and the newest commit of its default branch dated no
later than the deadline plus the late window is taken. Each released notebook in it is written to
``<into>/<student>/<assignment>/<assignment>.ipynb``, beside nbgrader's ``timestamp.txt`` (the commit's
date); a workflow of the student's that differs from the released one is flagged (it shows the student a
score of its own). A commit dated after the deadline but inside the window is late: the record says by how
much and what share of the student's points it costs (``--late-penalty`` percent per started day, at most
all of them; the gradebook takes it off). Commits dated after the window are reported and not collected; a
student without a repository, or without a commit before the end of the window, is reported and gets no
folder.

``<into>/collected.csv`` records, per student, the repository, the commit taken, its date, the student's
deadline, how late the commit was, the penalty and what was flagged. Collecting again (an extension: a
roster of one, or ``--students``) replaces the rows of the students collected and keeps the others; each
of those students' folders of the collected assignments is emptied first, so no notebook of an older
commit stays behind.

Commit dates come from the commits themselves, which a student can set; GitHub's own push times (its
API) are the stronger record where a late push matters.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.course import COURSE, assignment_names
from autograder.roster import RosterError, Student, read_roster

GIT_TIMEOUT = 120    # seconds for one git command
TEMPLATE = COURSE.template
WORKFLOWS = ".github/workflows"
RECORD = "collected.csv"
COLUMNS = ["student", "repository", "commit", "commit_date", "deadline", "late_seconds", "penalty", "notebooks",
           "flags"]
DAY = 86_400         # seconds
UNITS = {"d": DAY, "h": 3600, "min": 60, "m": 60, "s": 1}
DURATION = r"(\d+(?:\.\d+)?)(min|d|h|m|s)"     # a number and its unit


@dataclass
class Collected:
    """One student's row of ``collected.csv``: the commit taken and what is to be said about it.

    ``deadline`` is the student's own (ISO 8601), ``late_seconds`` how long after it the commit is dated (0 on
    time), ``penalty`` the share (0 to 1) of the student's points the lateness costs.
    """

    student: str
    repository: str
    commit: str = ""
    date: str = ""
    notebooks: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    deadline: str = ""
    late_seconds: float = 0.0
    penalty: float = 0.0


class CollectError(Exception):
    """A roster, deadline, zone or assignment name that cannot be used; the CLI exits 2."""


# -- times ----------------------------------------------------------------------------------------------------

def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Berlin``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):     # OSError: a folder of zones, such as "Europe"
        raise CollectError(f"--timezone {name!r} is not a time zone name such as Europe/Berlin or UTC") from None


def parse_deadline(text: str, zone: ZoneInfo | None = None, what: str = "--deadline") -> datetime:
    """An ISO 8601 time with its offset (``2026-12-15T23:59:00+01:00``, or ``...Z``), or a local time of ``zone``.

    An offset written in the text wins over ``zone``; a time with neither is an error, and so is a date
    without a time of day (midnight at its start is rarely what was meant).
    """
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CollectError(f"{what} {text!r} is not an ISO 8601 time such as 2026-12-15T23:59:00+01:00") from None
    try:
        date.fromisoformat(text)
    except ValueError:
        pass
    else:
        raise CollectError(f"{what} {text!r} has no time of day: write one, e.g. {text}T23:59:00")
    if moment.tzinfo is None:
        if zone is None:
            raise CollectError(f"{what} {text!r} has no time zone: add an offset (e.g. {text}+01:00) or name "
                               "the zone with --timezone (e.g. Europe/Berlin)")
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_duration(text: str) -> timedelta:
    """``48h``, ``2d``, ``90m`` (or ``90min``), ``1d12h``, ``30s``, ``0``: a length of time."""
    compact = re.sub(r"\s+", "", text.lower())
    if compact == "0":
        return timedelta(0)
    if not re.fullmatch(rf"(?:{DURATION})+", compact):
        raise ValueError(f"{text!r} is not a duration such as 48h, 2d, 90m or 1d12h")
    return timedelta(seconds=sum(float(number) * UNITS[unit] for number, unit in re.findall(DURATION, compact)))


def lateness_penalty(late_seconds: float, percent_per_day: float) -> float:
    """The share of the points a commit ``late_seconds`` late loses: ``percent_per_day`` for each day late, a day
    begun counting whole (25 h late at 10 % a day: 2 days, 0.2), at most 1 (all of them); 0 when on time."""
    if late_seconds <= 0 or percent_per_day <= 0:
        return 0.0
    return round(min(1.0, math.ceil(late_seconds / DAY) * percent_per_day / 100), 6)


def span(seconds: float) -> str:
    """``1 d 1 h``, ``3 h 5 min``, ``40 s``: a length of time for a person."""
    whole = int(seconds)
    days, rest = divmod(whole, DAY)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value} {unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if value]
    return " ".join(parts) if parts else f"{secs} s"


def nbgrader_timestamp(moment: datetime) -> str:
    """``timestamp.txt``'s text for ``moment``, in nbgrader's own format (``%Y-%m-%d %H:%M:%S.%f %Z``) in UTC,
    which ``nbgrader.utils.parse_utc`` reads back."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


# -- the roster and the assignments -------------------------------------------------------------------------

def checked_assignments(wanted: list[str] | None, release: Path) -> list[str]:
    """The assignments to collect: ``wanted`` without repeats (every released one when None), each one released."""
    known = assignment_names(release)
    if wanted is None:
        return known
    chosen = list(dict.fromkeys(wanted))
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise CollectError(f"no release of {', '.join(unknown)} under {release}; the released assignments are "
                           f"{', '.join(known) or 'none'}")
    return chosen


@dataclass(frozen=True)
class Plan:
    """Whom to collect: the student, the repository, the student's deadline."""

    student: str
    url: str
    deadline: datetime


def plan(roster: Path, deadline: datetime, org: str | None, prefix: str | None, base: str,
         zone: ZoneInfo | None = None, students: list[str] | None = None) -> list[Plan]:
    """A :class:`Plan` per student of the roster (or of ``students`` alone); every problem found before any clone."""
    try:
        everyone = read_roster(roster)
        chosen = everyone.only(students) if students else everyone

        def own(student: Student) -> datetime:
            if not student.deadline:
                return deadline
            return parse_deadline(student.deadline, zone, f"{everyone.where(student)}: deadline")

        return [Plan(student.id, everyone.repository(student, org, prefix, base), own(student))
                for student in chosen.students]
    except RosterError as error:
        raise CollectError(str(error)) from None


# -- one student ----------------------------------------------------------------------------------------------

def _git(*args: str, cwd: Path | None = None, text: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, timeout=GIT_TIMEOUT, env=env)


def history(clone: Path) -> list[tuple[str, datetime]]:
    """(commit, committer date) of every commit of HEAD, newest first (git's order; empty for an empty repository)."""
    lines = _git("log", "--format=%H %cI", "HEAD", cwd=clone).stdout.splitlines()
    return [(commit, datetime.fromisoformat(stamp)) for commit, stamp in (line.split() for line in lines if line)]


def collect_one(student: str, url: str, deadline: datetime, assignments: list[str], into: Path,
                window: timedelta = timedelta(0), percent_per_day: float = 0.0) -> Collected:
    """Collect one student: the newest commit dated no later than ``deadline + window``, its notebooks written
    under ``into/<student>/`` (whose folders of ``assignments`` are emptied first)."""
    found = Collected(student, url, deadline=deadline.isoformat())
    clear(into, student, assignments)
    cutoff = deadline + window
    end = "the deadline" if not window else f"the late window (deadline + {span(window.total_seconds())})"
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
        commits = history(clone)
        late = sum(1 for _, when in commits if when > cutoff)
        if late:
            found.flags.append(f"late: {late} commit(s) dated after {end} were not collected")
        taken = next(((commit, when) for commit, when in commits if when <= cutoff), None)
        if taken is None:
            found.flags.append(f"no commit dated before {end}")
            return found
        found.commit, when = taken     # a commit id git printed; still, revisions below come after --end-of-options
        found.date = when.isoformat()
        if when > deadline:
            found.late_seconds = (when - deadline).total_seconds()
            found.penalty = lateness_penalty(found.late_seconds, percent_per_day)
            found.flags.append(f"late by {span(found.late_seconds)}: {round(found.penalty * 100, 4):g} % off")
        found.flags.extend(workflow_changes(clone, found.commit))
        for assignment in assignments:
            name = f"assignments/{assignment}/{assignment}.ipynb"
            blob = _git("show", "--end-of-options", f"{found.commit}:{name}", cwd=clone, text=False)
            if blob.returncode != 0:
                continue
            folder = into / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{assignment}.ipynb").write_bytes(blob.stdout)
            (folder / "timestamp.txt").write_text(nbgrader_timestamp(when) + "\n", encoding="utf-8")
            found.notebooks.append(assignment)
        if not found.notebooks:
            found.flags.append("the commit holds none of the released notebooks")
    return found


def clear(into: Path, student: str, assignments: list[str]) -> None:
    """Remove ``into/<student>/<assignment>/`` of each assignment (and the student's folder, once empty)."""
    folder = Path(into) / student
    for assignment in assignments:
        target = folder / assignment
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
        folder.rmdir()


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


# -- the class --------------------------------------------------------------------------------------------------

def collect(roster: Path, deadline: str, into: Path, assignments: list[str], org: str | None = None,
            prefix: str | None = None, base: str = "https://github.com", *, timezone: str | None = None,
            late_window: timedelta = timedelta(0), late_penalty: float = 0.0,
            students: list[str] | None = None) -> list[Collected]:
    """Collect the roster's students (or ``students`` of it); merge them into ``into/collected.csv``; return them.

    ``late_penalty`` is in percent per started day late (:func:`lateness_penalty`).
    """
    if late_window < timedelta(0):
        raise CollectError(f"--late-window {late_window} is negative")
    if not 0 <= late_penalty <= 100:
        raise CollectError(f"--late-penalty {late_penalty:g} is not a percentage from 0 to 100")
    zone = time_zone(timezone) if timezone else None
    plans = plan(roster, parse_deadline(deadline, zone), org, prefix, base, zone, students)
    into = Path(into)
    try:
        earlier = read_record(into)          # the rows of the students not collected now are kept
    except ValueError as error:
        raise CollectError(f"{error}: mend or remove that record") from None
    into.mkdir(parents=True, exist_ok=True)
    results = [collect_one(p.student, p.url, p.deadline, assignments, into, late_window, late_penalty)
               for p in plans]
    write_record(into, merged(earlier, results))
    return results


def merged(earlier: list[Collected], now: list[Collected]) -> list[Collected]:
    """The rows of ``earlier`` with each student of ``now`` replaced in place; new students after them."""
    fresh = {found.student: found for found in now}
    rows = [fresh.pop(old.student, old) for old in earlier]
    return rows + [found for found in now if found.student in fresh]


def write_record(into: Path, results: list[Collected]) -> None:
    """``into/collected.csv``: per student, the repository, the commit taken, its date, the student's deadline, how
    late the commit was (seconds), the penalty (a share of the points), the notebooks, the flags."""
    with open(Path(into) / RECORD, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for found in results:
            writer.writerow([found.student, found.repository, found.commit, found.date, found.deadline,
                             f"{found.late_seconds:.10g}", f"{found.penalty:.6g}", " ".join(found.notebooks),
                             "; ".join(found.flags)])


def onto_row(row, found: Collected) -> None:
    """What collect recorded of a student, on their gradebook row (a ``report.gradebook.StudentRow``): its flags
    first, the commit taken and the late penalty. ``grade-all`` and ``written merge`` build rows the same way."""
    row.flags[:0] = [f"collect: {flag}" for flag in found.flags]
    row.commit, row.penalty = found.commit, found.penalty


def read_record(into: Path) -> list[Collected]:
    """What :func:`write_record` wrote (empty when there is no record; a record from before the deadline,
    late_seconds and penalty columns reads as on time)."""
    path = Path(into) / RECORD
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return [Collected(row["student"], row.get("repository") or "", row.get("commit") or "",
                          row.get("commit_date") or "", (row.get("notebooks") or "").split(),
                          [flag for flag in (row.get("flags") or "").split("; ") if flag], row.get("deadline") or "",
                          _number(path, reader.line_num, row, "late_seconds"), _number(path, reader.line_num, row,
                                                                                       "penalty"))
                for row in reader if row.get("student")]


def _number(path: Path, line: int, row: dict, column: str) -> float:
    text = (row.get(column) or "").strip()
    try:
        return float(text) if text else 0.0
    except ValueError:
        raise ValueError(f"{path}, line {line}: {column} {text!r} is not a number") from None


# -- the verb ---------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    try:
        assignments = checked_assignments(args.assignments, args.release)
        found = collect(args.roster, args.deadline, args.into, assignments, args.org, args.prefix, args.base,
                        timezone=args.timezone, late_window=args.late_window, late_penalty=args.late_penalty,
                        students=args.students)
    except CollectError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    for entry in found:
        status = f"{entry.commit[:10]} ({entry.date})" if entry.commit else "nothing collected"
        print(f"{entry.student:<20} {status}" + (f"  [{'; '.join(entry.flags)}]" if entry.flags else ""))
    others = len(read_record(args.into)) - len(found)
    print(f"collected {sum(1 for e in found if e.notebooks)} of {len(found)} students into {args.into}/ "
          f"(record: {args.into / RECORD}" + (f", which keeps the rows of {others} other student(s))" if others
                                                else ")"))
    return 0
