"""Does fetch take each student's newest ungraded commit through the GitHub API, and lose no one on an error?

Students' repositories are local bare git repositories; the API is tests/fake_github.py on 127.0.0.1, which
PyGithub reaches over real HTTP.
"""

from __future__ import annotations

import csv
import json

import pytest

from autograder import cli
from autograder import github as hub
from autograder.verbs.collect import read_record
from autograder.verbs.fetch import fetch, organisation_repositories, roster_repositories
from tests.fake_github import FakeGitHub, make_class
from tests.support import ASSIGNMENT_IDS, build_submission, git

TOKEN = "ghs_test0123456789abcdefABCDEF0123456789"
WANTED = ["01_corr2d", "02_padding_stride_channels"]


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_API_PACE", "0")


@pytest.fixture
def api(tmp_path):
    with FakeGitHub(TOKEN) as server:
        server.roster = make_class(server, tmp_path, {"alice": [(None, True)], "bob": [(None, False)]})
        yield server


def students(api, roster=None):
    return roster_repositories(roster or api.roster, "course-org", "cnn")


def head(api, name):
    return api.resolve(f"course-org/cnn-{name}", "HEAD")


def test_new_commits_are_fetched_with_their_notebooks(api, tmp_path):
    github = hub.client(api.url, TOKEN)
    found = fetch(github, students(api), WANTED, tmp_path / "inbox")
    assert [entry.student for entry in found.new] == ["alice", "bob"] and not found.later and not found.problems
    solved = build_submission(tmp_path / "solved", "01_corr2d")
    assert (tmp_path / "inbox" / "alice" / "01_corr2d" / "01_corr2d.ipynb").read_bytes() == solved.read_bytes()
    assert not (tmp_path / "inbox" / "alice" / "02_padding_stride_channels").exists()    # not in her repository
    record = {entry.student: entry for entry in read_record(tmp_path / "inbox")}
    assert record["bob"].commit == head(api, "bob") and record["bob"].repository == "course-org/cnn-bob"
    assert record["alice"].notebooks == ["01_corr2d"] and record["alice"].date == "2026-12-15T20:00:00+01:00"
    assert all(authorised for _, _, authorised in api.log)


def test_a_commit_with_its_status_is_skipped_and_a_pending_one_is_not(api, tmp_path):
    api.statuses[("course-org/cnn-alice", head(api, "alice"))] = [
        {"id": 1, "state": "failure", "context": hub.CONTEXT, "description": "3/11 points", "target_url": None,
         "url": "", "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"}]
    api.statuses[("course-org/cnn-bob", head(api, "bob"))] = [
        {"id": 2, "state": "pending", "context": hub.CONTEXT, "description": "queued", "target_url": None,
         "url": "", "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"}]
    github = hub.client(api.url, TOKEN)
    found = fetch(github, students(api), WANTED, tmp_path / "inbox")
    assert found.graded == ["alice"] and [entry.student for entry in found.new] == ["bob"]
    assert not (tmp_path / "inbox" / "alice").exists()
    again = fetch(github, students(api), WANTED, tmp_path / "again", regrade=True)
    assert [entry.student for entry in again.new] == ["alice", "bob"]


def test_a_new_push_after_grading_is_fetched(api, tmp_path):
    sha = head(api, "alice")
    api.statuses[("course-org/cnn-alice", sha)] = [
        {"id": 1, "state": "success", "context": hub.CONTEXT, "description": "11/11", "target_url": None,
         "url": "", "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"}]
    work = tmp_path / "alice-work"
    git("clone", "-q", str(api.repos["course-org/cnn-alice"]), str(work), cwd=tmp_path)
    (work / "notes.txt").write_text("one more")
    git("commit", "-q", "-am", "more", cwd=work)
    git("push", "-q", str(api.repos["course-org/cnn-alice"]), "HEAD:main", cwd=work)
    found = fetch(hub.client(api.url, TOKEN), students(api), WANTED, tmp_path / "inbox")
    assert {entry.student: entry.commit for entry in found.new}["alice"] == head(api, "alice") != sha


def test_a_vanished_or_empty_repository_is_reported_and_the_others_fetched(api, tmp_path):
    roster = tmp_path / "roster2.csv"
    roster.write_text("student,github\nalice,alice\ncarol,carol\nbob,bob\ndave,dave\n")
    git("init", "-q", "--bare", str(tmp_path / "empty.git"), cwd=tmp_path)
    api.add("course-org/cnn-dave", tmp_path / "empty.git")             # accepted the assignment, pushed nothing
    found = fetch(hub.client(api.url, TOKEN), students(api, roster), WANTED, tmp_path / "inbox")
    assert [entry.student for entry in found.new] == ["alice", "bob"]
    assert any(problem.startswith("carol: no repository course-org/cnn-carol (HTTP 404") for problem in found.problems)
    assert not any("gone" in problem for problem in found.problems)
    assert "dave: course-org/cnn-dave has no commit yet" in found.problems
    record = {entry.student: entry for entry in read_record(tmp_path / "inbox")}
    assert not record["carol"].commit and record["carol"].flags[0].startswith("no repository: HTTP 404")
    assert not record["dave"].commit and record["dave"].flags == ["no commit yet"]


@pytest.mark.parametrize("secondary", [False, True], ids=["primary", "secondary"])
def test_a_rate_limit_stops_the_fetch_and_the_next_run_takes_the_rest(api, tmp_path, secondary):
    api.rate_limit("GET", r"/cnn-bob/branches/", secondary=secondary)
    github = hub.client(api.url, TOKEN)
    found = fetch(github, students(api), WANTED, tmp_path / "inbox")
    assert [entry.student for entry in found.new] == ["alice"]
    assert found.later == [("bob", found.later[0][1])] and "rate limit" in found.later[0][1]
    assert any("left for the next run" in problem for problem in found.problems)
    assert [entry.student for entry in read_record(tmp_path / "inbox")] == ["alice"]
    later = fetch(github, students(api), WANTED, tmp_path / "later")      # the limit has passed
    assert [entry.student for entry in later.new] == ["alice", "bob"]


def test_server_errors_are_retried_then_left_for_later(api, tmp_path):
    api.fail("GET", r"/cnn-alice/branches/", status=502, times=2)        # retried: alice is fetched
    api.fail("GET", r"/cnn-bob/branches/", status=503, times=99)         # never answers: left for later
    found = fetch(hub.client(api.url, TOKEN), students(api), WANTED, tmp_path / "inbox")
    assert [entry.student for entry in found.new] == ["alice"]
    assert found.later == [("bob", "HTTP 503: Server Error")]
    assert sum(1 for method, path, _ in api.log if "cnn-alice/branches" in path) == 3


def test_a_refused_token_stops_with_a_clear_error(api, tmp_path):
    with pytest.raises(hub.HubError, match="refused the token .*HTTP 401: Bad credentials"):
        fetch(hub.client(api.url, "ghs_wrong"), students(api), WANTED, tmp_path / "inbox")


def test_big_notebooks_come_through_the_blob_api(api, tmp_path):
    api.inline_limit = 100       # every notebook is "over 1 MB" now
    fetch(hub.client(api.url, TOKEN), students(api), WANTED, tmp_path / "inbox")
    solved = build_submission(tmp_path / "solved", "01_corr2d")
    assert (tmp_path / "inbox" / "alice" / "01_corr2d" / "01_corr2d.ipynb").read_bytes() == solved.read_bytes()
    assert any("/git/blobs/" in path for _, path, _ in api.log)


def test_a_changed_workflow_and_a_commit_without_notebooks_are_flagged(tmp_path):
    from tests.support import student_repo

    with FakeGitHub(TOKEN) as api:
        faked = "on: push\njobs: {fake: {runs-on: ubuntu-latest, steps: [{run: echo Points 99/99}]}}\n"
        api.add("course-org/cnn-erin", student_repo(tmp_path, "cnn-erin", [(None, True)], workflow=faked))
        found = fetch(hub.client(api.url, TOKEN), [("erin", "course-org/cnn-erin")], ["03_pooling"],
                      tmp_path / "inbox")
    assert found.new[0].flags == [".github/workflows/grade.yml was changed",
                                  "the commit holds none of the released notebooks"]


def test_the_organisation_listing_finds_the_classroom_repositories(api, tmp_path):
    from tests.support import student_repo

    api.add("course-org/other-project", student_repo(tmp_path / "x", "other", [(None, True)]))
    listed = organisation_repositories(hub.client(api.url, TOKEN), "course-org", "cnn")
    assert listed == [("alice", "course-org/cnn-alice"), ("bob", "course-org/cnn-bob")]


def test_the_command_line_writes_the_runner_count_for_the_workflow(api, tmp_path, monkeypatch, capsys):
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    into = tmp_path / "inbox" / "submitted"
    code = cli.main(["fetch", "--all", "--org", "course-org", "--prefix", "cnn", "--into", str(into),
                     "--api-url", api.url, "--per-runner", "1", "--max-runners", "5"])
    assert code == 0, capsys.readouterr()
    assert outputs.read_text().splitlines() == ["count=2", "shards=[1, 2]", "runners=2",
                                                "assignments=" + " ".join(ASSIGNMENT_IDS)]
    with open(into / "collected.csv", newline="") as handle:
        assert [row["student"] for row in csv.DictReader(handle)] == ["alice", "bob"]
    assert cli.main(["fetch", "--all", "--org", "course-org", "--prefix", "cnn", "--into", str(into),
                     "--api-url", api.url]) == 2                              # not empty: usage error
    monkeypatch.delenv(hub.TOKEN_VARIABLE)
    assert cli.main(["fetch", "--all", "--org", "course-org", "--prefix", "cnn", "--into", str(tmp_path / "n"),
                     "--api-url", api.url]) == 1
    assert "AUTOGRADER_GITHUB_TOKEN is not set" in capsys.readouterr().err


def test_nothing_new_gives_an_empty_matrix_and_no_runner_count(api, tmp_path, monkeypatch, capsys):
    for name in ("alice", "bob"):
        api.statuses[(f"course-org/cnn-{name}", head(api, name))] = [
            {"id": 1, "state": "success", "context": hub.CONTEXT, "description": "", "target_url": None,
             "url": "", "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"}]
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    assert cli.main(["fetch", "--roster", str(api.roster), "--org", "course-org", "--prefix", "cnn",
                     "--into", str(tmp_path / "inbox"), "--api-url", api.url]) == 0
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert values["count"] == "0" and json.loads(values["shards"]) == [] and values["runners"] == "0"
    out = capsys.readouterr().out
    assert "2 already graded" in out and out.rstrip().endswith("nothing to grade") and "runner" not in out


def test_an_organisation_that_cannot_be_listed_is_a_warning_or_an_error(api, tmp_path, monkeypatch, capsys):
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    api.fail("GET", r"^/orgs/course-org/repos", status=503, times=99)      # GitHub is down: try the next run
    assert cli.main(["fetch", "--all", "--org", "course-org", "--prefix", "cnn", "--into", str(tmp_path / "a"),
                     "--api-url", api.url]) == 0
    assert "HTTP 503" in capsys.readouterr().out and outputs.read_text().splitlines()[0] == "count=0"
    assert cli.main(["fetch", "--all", "--org", "no-such-org", "--prefix", "cnn", "--into", str(tmp_path / "b"),
                     "--api-url", api.url]) == 1                           # a wrong organisation: say so
    assert "HTTP 404" in capsys.readouterr().err


def test_a_student_id_on_two_rows_of_the_roster_is_a_usage_error(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    roster = tmp_path / "twice.csv"
    roster.write_text("student,github\nalice,alice\nbob,bob\nbob,alice\n")
    code = cli.main(["fetch", "--roster", str(roster), "--org", "course-org", "--prefix", "cnn",
                     "--into", str(tmp_path / "inbox"), "--api-url", api.url])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("usage: ") and "student id(s) bob appear on more than one row" in error
    assert not (tmp_path / "inbox").exists() and not api.log                  # nothing asked of GitHub


def test_a_roster_in_nbgraders_format_saved_by_a_spreadsheet_is_read(api, tmp_path):
    roster = tmp_path / "nbgrader.csv"
    roster.write_text("id;first_name;last_name;email;github\nbob;Bob;;;bob\nalice;Alice;;;alice\n",
                      encoding="utf-8-sig")
    found = fetch(hub.client(api.url, TOKEN), students(api, roster), WANTED, tmp_path / "inbox")
    assert [entry.student for entry in found.new] == ["bob", "alice"]


def test_an_assignment_without_a_release_is_a_usage_error(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    code = cli.main(["fetch", "--roster", str(api.roster), "--org", "course-org", "--prefix", "cnn",
                     "--into", str(tmp_path / "inbox"), "--api-url", api.url, "--assignments", "01_corr2d", "1_corr2d"])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("usage: no release of 1_corr2d under ") and "01_corr2d, " in error
    assert not (tmp_path / "inbox").exists() and not api.log                  # nothing asked of GitHub
