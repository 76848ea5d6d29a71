"""Post each fetched commit's grade back to it: a commit status with the score, a comment with the feedback.

    AUTOGRADER_GITHUB_TOKEN=... python -m autograder publish inbox/submitted inbox/gradebook [--pass-at FRACTION]

It reads files only: ``fetch``'s record (``<submitted>/collected.csv``: student, repository, commit) and what
``grade-all`` wrote (``<gradebook>/<student>/results.json`` and ``feedback.md``, whose messages never hold
a hidden input or expected value). It runs no student code, so it may hold the token; the job that graded
held none.

Per commit: first a comment with the per-item table and the teaching messages (unless an earlier,
interrupted run posted the same one), then the ``autograder`` status: ``success`` from ``--pass-at`` of the
automatic points on (a fraction; 1, the default, is full points), ``failure`` below, its description the
score, its link the comment. The status is the record ``fetch``
reads, so it goes last: a commit whose posting broke off has no status and is graded again on the next
run. A commit without any released notebook gets an ``error`` status (nothing to grade until the next
push); a student whose grading failed gets nothing and is graded again. A rate limit stops the posting
there, with a message; a vanished repository is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder import github as hub
from autograder.judge.seeds import PUSH
from autograder.report.markdown import quiet
from autograder.report.results import feedback_markdown
from autograder.verbs.collect import Collected, read_record

MAX_DESCRIPTION = 140      # GitHub cuts a status description there
MAX_COMMENT = 60_000       # GitHub refuses comments over 65,536 characters


@dataclass
class Published:
    posted: list[str] = field(default_factory=list)
    later: list[tuple[str, str]] = field(default_factory=list)     # (student, why): graded again next run
    problems: list[str] = field(default_factory=list)


def verdict(entry: Collected, data: dict | None, pass_at: float = 1.0) -> tuple[str, str] | None:
    """(state, description) of the commit's status, or None when there is no grade to post: ``success`` when the
    score is at least ``pass_at`` (a fraction) of the points possible."""
    if not entry.notebooks:
        return "error", "No notebook of the course in this commit: the grader reads assignments/NN_name/NN_name.ipynb"
    if data is None or data.get("internal_error"):
        return None
    score, possible = data["score"], data["max_score"]
    state = "success" if possible > 0 and score >= pass_at * possible - 1e-9 else "failure"
    description = f"{score:g}/{possible:g} points with the hidden checks"
    assignments = _by_assignment(data)
    parts = ", ".join(f"{name.split('_', 1)[0]}: {earned:g}/{most:g}" for name, (earned, most) in assignments)
    if len(assignments) > 1 and len(description) + len(parts) + 3 <= MAX_DESCRIPTION:
        description += f" ({parts})"
    return state, description[:MAX_DESCRIPTION]


def _by_assignment(data: dict) -> list[tuple[str, tuple[float, float]]]:
    sums: dict[str, list[float]] = {}
    for test in data["tests"]:
        pair = sums.setdefault(test["extra_data"]["assignment"], [0.0, 0.0])
        pair[0] += test["score"]
        pair[1] += test["max_score"]
    return [(name, (round(earned, 4), round(most, 4))) for name, (earned, most) in sums.items()]


def comment(entry: Collected, data: dict, feedback: str) -> str:
    """The commit comment: a heading with the score, then the student's feedback (``feedback_markdown`` for the
    student: no replay command, seed or path of the grader's machine)."""
    body = feedback.split("\n", 1)[1] if feedback.startswith("# ") else feedback    # its own heading goes
    lines = [f"### Autograder: {data['score']:g}/{data['max_score']:g} points for {entry.commit[:7]}", "",
             "Graded with the hidden checks as well as the public ones. " + (
                 "Their inputs are drawn for this commit, and the messages give each hidden input's kind, not its "
                 "value: your final grade meets inputs of its own. Written answers are graded by hand later."
                 if any(PUSH in seed.get("from", "") for seed in data.get("seeds", [])) else
                 "This is the final grading of your submission."), "", body.strip()]
    text = quiet("\n".join(lines))         # no @-mention pings anyone
    if len(text) > MAX_COMMENT:
        text = text[:MAX_COMMENT] + "\n\n… (cut: the whole report is in your instructor's gradebook)\n"
    return text


def publish(github, submitted: Path, gradebook: Path, pass_at: float = 1.0) -> Published:
    """Post every commit of ``submitted/collected.csv`` that was graded into ``gradebook``; a status is ``success``
    from ``pass_at`` of the points on.

    Raises :class:`hub.HubError` when the token is refused.
    """
    done = Published()
    entries = [entry for entry in read_record(Path(submitted)) if entry.commit]
    for number, entry in enumerate(entries):
        results = Path(gradebook) / entry.student / "results.json"
        data = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else None
        decided = verdict(entry, data, pass_at)
        if decided is None:
            why = "its grading failed" if data else "it was not graded (no results.json)"
            done.later.append((entry.student, why))
            done.problems.append(f"{entry.student}: nothing posted, {why}; the next run grades it again")
            continue
        state, description = decided
        try:
            commit = github.get_repo(entry.repository).get_commit(entry.commit)
            link = None
            if entry.notebooks and data is not None:
                body = comment(entry, data, feedback_markdown(entry.student, data, for_student=True))
                # An earlier run that posted this very comment and then stopped: keep that one.
                earlier = next((old for old in commit.get_comments() if old.body.strip() == body.strip()), None)
                link = (earlier or commit.create_comment(body)).html_url
            commit.create_status(state, **({"target_url": link} if link else {}), description=description,
                                 context=hub.CONTEXT)
        except Exception as error:  # noqa: BLE001 - sorted below: no grade is lost to one error
            if hub.fatal(error):
                raise hub.HubError(f"GitHub refused the token posting to {entry.repository} "
                                   f"({hub.describe(error)}): it needs write access to commit statuses "
                                   "and contents (README, 'Scores on every push')") from error
            if hub.vanished(error):
                done.problems.append(f"{entry.student}: {entry.repository} is gone ({hub.describe(error)}); "
                                     "nothing posted")
                continue
            if hub.rate_limited(error):
                why = f"rate limit reached ({hub.describe(error)})"
                done.later.extend((later.student, why) for later in entries[number:])
                done.problems.append(f"{why}: {len(entries) - number} commit(s) keep no status; the next run "
                                     "grades and posts them")
                break
            if hub.transient(error):
                done.later.append((entry.student, hub.describe(error)))
                done.problems.append(f"{entry.student}: posting failed ({hub.describe(error)}); the next run "
                                     "grades it again")
                continue
            raise
        done.posted.append(entry.student)
    return done


# -- the verb ---------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    try:
        github = hub.client(hub.api_url(args.api_url), hub.token_from_environment())
        done = publish(github, args.submitted, args.gradebook, args.pass_at)
    except hub.HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in done.problems:
        print(f"::warning title=publish::{problem}" if os.environ.get("GITHUB_ACTIONS") else f"warning: {problem}")
    print(f"posted {len(done.posted)} grade(s); {len(done.later)} left for the next run")
    return 0
