"""Does an interrupted grade-all stop everything it started, keep the students it finished, and go on from there?

The fast tests grade with a stand-in for the pipeline (no zygote, no worker); the slow ones start
``python -m autograder grade-all`` on a class with an endless submission and stop it with a signal.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.cli import build_parser
from autograder.judge import seeds
from autograder.pipeline import Run, load_releases
from autograder.sandbox.process import _children  # the one walk of /proc the grader uses to stop its own
from autograder.verbs import grade_all
from autograder.verbs.grade_all import default_out, fingerprint, grade_class, grader_digest
from tests.support import ASSIGNMENTS, ATTACKS, ROOT, build_submission

ASSIGNMENT = "01_corr2d"


def _table(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- the output folder ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("submitted, out", [("submitted", "gradebook"), ("inbox/submitted/", "inbox/gradebook"),
                                            ("/term/class", "/term/gradebook")])
def test_the_default_out_is_the_gradebook_beside_the_submitted_folder(submitted, out):
    assert default_out(Path(submitted)) == Path(out)
    args = build_parser().parse_args(["grade-all", submitted])
    assert args.out is None and not args.resume and not args.force, "run() fills in the default"


def test_the_default_out_of_the_working_folder_is_beside_it_not_inside(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_out(Path(".")) == tmp_path.parent / "gradebook"


def test_resume_and_force_do_not_go_together():
    from autograder.cli import main

    assert main(["grade-all", "submitted", "--resume", "--force"]) == 2


# -- grading with a stand-in for the pipeline: what is graded, what is taken over ----------------------------

@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """grade_class without zygotes or workers: each judge logs the student it grades and finds no notebook
    gradable (a results.json with its fingerprint, and a row, all the same). Returns the log's reader."""
    log = tmp_path / "graded.log"

    def start(releases, threads, parent=None):
        grade_all._releases = releases

    def grade_paths(paths, releases, hidden=True, student=None, push=None):
        with open(log, "a") as handle:
            handle.write(f"{student}\n")
        return Run()

    monkeypatch.setattr(grade_all, "_warm_up", lambda jobs: None)
    monkeypatch.setattr(grade_all, "_start_judge", start)
    monkeypatch.setattr(grade_all, "grade_paths", grade_paths)

    def graded() -> list[str]:
        names = sorted(log.read_text().split()) if log.exists() else []
        log.unlink(missing_ok=True)
        return names

    return graded


def _class(root: Path, students=("ann", "ben", "cat", "dan")) -> Path:
    for student in students:
        build_submission(root / "submitted" / student, ASSIGNMENT, solved=student != "ben")
    return root / "submitted"


def _grade(submitted: Path, out: Path, **options):
    return grade_class(submitted, ASSIGNMENTS, out, jobs=2, progress=False, **options)


def test_resume_takes_over_only_the_students_whose_notebooks_grader_and_seeds_are_unchanged(tmp_path, stand_in,
                                                                                         monkeypatch, capsys):
    submitted, out = _class(tmp_path), tmp_path / "gradebook"
    monkeypatch.setenv(seeds.SECRET_ENV, "the term's secret")
    _grade(submitted, out)
    assert stand_in() == ["ann", "ben", "cat", "dan"]
    kept = {student: (out / student / "results.json").read_bytes() for student in ("ann", "dan")}

    build_submission(submitted / "ben", ASSIGNMENT)                   # ben handed in a new notebook
    cat = json.loads((out / "cat" / "results.json").read_text())
    cat["internal_error"] = True                                       # cat's grading failed last time
    (out / "cat" / "results.json").write_text(json.dumps(cat))
    (out / "dan" / "feedback.md").unlink()                             # rebuilt from dan's results.json
    capsys.readouterr()
    rows = _grade(submitted, out, resume=True)
    assert stand_in() == ["ben", "cat"]
    assert "--resume: 2 of 4 students taken over" in capsys.readouterr().out
    assert [row.student for row in rows] == [line["student"] for line in _table(out)] == ["ann", "ben", "cat", "dan"]
    assert all((out / student / "results.json").read_bytes() == data for student, data in kept.items())
    assert (out / "dan" / "feedback.md").read_text().startswith("# Feedback for dan")

    _grade(submitted, out, resume=True)
    assert stand_in() == [], "nothing changed: everyone is taken over"
    _grade(submitted, out, resume=True, hidden=False)
    assert stand_in() == ["ann", "ben", "cat", "dan"], "public checks only is another grading"
    monkeypatch.setenv(seeds.SECRET_ENV, "a new secret")
    _grade(submitted, out, resume=True, hidden=False)
    assert stand_in() == ["ann", "ben", "cat", "dan"], "another course secret draws other hidden inputs"


def test_the_fingerprint_names_the_grader_each_notebook_the_hidden_cases_and_the_seeds(tmp_path):
    submitted = _class(tmp_path, ("ann",))
    releases = {ASSIGNMENT: load_releases(ASSIGNMENTS)[ASSIGNMENT]}
    grader = grader_digest(releases)
    stamp = fingerprint(submitted / "ann", releases, True, grader)
    notebook = submitted / "ann" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert stamp == {"grader": grader, "notebooks": {ASSIGNMENT: hashlib.sha256(notebook.read_bytes()).hexdigest()},
                     "hidden": True,
                     "seeds": {ASSIGNMENT: seeds.for_notebook(notebook, ASSIGNMENT, [], student="ann").value}}
    assert json.loads(json.dumps(stamp)) == stamp, "it compares equal once read back from results.json"
    assert grader_digest({}) != grader, "the release notebooks graded are part of the grader"
    assert fingerprint(tmp_path / "nobody", releases, True, grader)["notebooks"] == {}


def test_the_gradebook_is_written_again_as_each_student_is_finished(tmp_path, stand_in, monkeypatch):
    submitted, out = _class(tmp_path), tmp_path / "gradebook"
    written = []
    write = grade_all.book.write_gradebook

    def counted(rows, releases, path):
        written.append([row.student for row in rows])
        write(rows, releases, path)

    monkeypatch.setattr(grade_all.book, "write_gradebook", counted)
    _grade(submitted, out)
    assert [len(rows) for rows in written] == [0, 1, 2, 3, 4, 4]
    assert all(rows == sorted(rows) for rows in written), "sorted every time"


def test_an_out_that_holds_an_earlier_run_is_refused_unless_resume_or_force(tmp_path, stand_in, capsys,
                                                                            monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    submitted, out = _class(tmp_path, ("ann", "ben")), tmp_path / "gradebook"
    _grade(submitted, out)
    (out / "zoe").mkdir()                                   # a student of the earlier run, gone from the class
    (out / "zoe" / "results.json").write_text("{}")
    (out / "notes.txt").write_text("the instructor's own")
    stand_in()

    def grade_all_verb(*flags: str) -> int:
        args = build_parser().parse_args(["grade-all", str(submitted), "--out", str(out), "--jobs", "1", *flags])
        return grade_all.run(args)

    before = (out / "gradebook.csv").read_bytes()
    assert grade_all_verb() == 2
    message = capsys.readouterr().err
    assert "not empty" in message and "--resume" in message and "--force" in message
    assert stand_in() == [] and (out / "gradebook.csv").read_bytes() == before, "nothing was touched"

    assert grade_all_verb("--force") == 0
    assert stand_in() == ["ann", "ben"] and not (out / "zoe").exists(), "the earlier run's students are gone"
    assert (out / "notes.txt").exists(), "what grade-all did not write stays"
    assert grade_all_verb("--resume") == 0 and stand_in() == []
    empty = tmp_path / "empty"
    empty.mkdir()
    args = build_parser().parse_args(["grade-all", str(submitted), "--out", str(empty), "--jobs", "1"])
    assert grade_all.run(args) == 0, "an empty folder is new enough"


# -- the real thing: a class with an endless submission, stopped by a signal ---------------------------------

def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, session, start time) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[3]), int(fields[19])


class Tree:
    """Every process seen below one process while it ran: (pid, start time) -> (depth, session)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[tuple[int, int], tuple[int, int]] = {}

    def record(self) -> None:
        pending = [(self.root, 0)]
        while pending:
            pid, depth = pending.pop()
            stat = _stat(pid)
            if stat is None or stat[0] == "Z":
                continue
            self.seen.setdefault((pid, stat[2]), (depth, stat[1]))
            pending.extend((child, depth + 1) for child in _children(pid))

    def alive(self) -> list[str]:
        """The processes of the run still running (zombies are dead): seen below the root, or in the session of
        one that was (a process of a worker's session, say, forked after the last look)."""
        sessions = {session for _, session in self.seen.values()}
        left = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            stat = _stat(int(entry.name))
            if stat and stat[0] != "Z" and ((int(entry.name), stat[2]) in self.seen or stat[1] in sessions):
                left.append(f"{entry.name} ({Path(f'/proc/{entry.name}/cmdline').read_bytes()[:80]!r})")
        return left


def _start(submitted: Path, out: Path, *flags: str) -> subprocess.Popen:
    """grade-all in a session of its own, public checks only, where a call may run for 10 minutes (an endless
    one runs until it is stopped). The deadlines are part of the grader's fingerprint: every run here has them."""
    env = dict(os.environ, AUTOGRADER_CALL_SECONDS="600")
    logs = out.parent / f"{out.name}.stdout", out.parent / f"{out.name}.stderr"
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(submitted), "--out", str(out),
                             "--jobs", "2", "--public-only", "--release", str(ASSIGNMENTS), *flags],
                            cwd=ROOT, env=env, stdout=open(logs[0], "w"), stderr=open(logs[1], "w"),
                            start_new_session=True)


def _output(out: Path) -> tuple[str, str]:
    return ((out.parent / f"{out.name}.stdout").read_text(), (out.parent / f"{out.name}.stderr").read_text())


def _endless_class(root: Path) -> Path:
    """aaron's corr2d never returns (and he is graded first); ben and cat are quick."""
    submitted = root / "submitted"
    loop = next(path for path in ATTACKS if path.name == "infinite_loop.py").read_text()
    build_submission(submitted / "aaron", ASSIGNMENT, {"corr2d": loop})
    for student in ("ben", "cat"):
        build_submission(submitted / student, ASSIGNMENT)
    return submitted


def _interrupt(submitted: Path, out: Path, number: int) -> tuple[subprocess.Popen, Tree]:
    """Start grade-all, wait until ben and cat are in the gradebook while aaron's worker runs, send ``number``
    (SIGINT as Ctrl-C does, to the whole foreground process group); the process and every process seen."""
    process = _start(submitted, out)
    tree = Tree(process.pid)
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and process.poll() is None:
        tree.record()
        try:
            if len(_table(out)) == 2:
                break
        except (OSError, csv.Error):
            pass
        time.sleep(0.05)
    assert process.poll() is None, "grade-all ended before the signal:\n" + "\n".join(_output(out))
    assert [line["student"] for line in _table(out)] == ["ben", "cat"], "written as each student is finished"
    for _ in range(20):         # a second more of aaron's endless call
        tree.record()
        time.sleep(0.05)
    assert max(depth for depth, _ in tree.seen.values()) >= 3, "a worker ran (judges, zygote, its child, worker)"
    if number == signal.SIGINT:
        os.killpg(process.pid, number)
    else:
        process.send_signal(number)
    return process, tree


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM",
                                                                                         "SIGKILL"])
def test_a_signal_stops_every_process_of_the_run_and_keeps_the_students_finished(tmp_path, number):
    submitted, out = _endless_class(tmp_path), tmp_path / "gradebook"
    process, tree = _interrupt(submitted, out, number)
    code = process.wait(60)
    deadline = time.monotonic() + 5
    while tree.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tree.alive(), f"still running 5 s after {signal.Signals(number).name}"
    stdout, stderr = _output(out)
    if number == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    assert code == 128 + number, stdout + stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [f"interrupted: 2 of 3 students graded; {out / 'gradebook.csv'} holds "
                                           "them; --resume goes on"], stderr
    assert [line["student"] for line in _table(out)] == ["ben", "cat"]
    assert not (out / "aaron" / "results.json").exists()


def test_resume_goes_on_where_an_interrupted_run_stopped(tmp_path):
    submitted, out = _endless_class(tmp_path), tmp_path / "gradebook"
    process, _ = _interrupt(submitted, out, signal.SIGTERM)
    assert process.wait(60) == 128 + signal.SIGTERM
    finished = {student: (out / student / "results.json").stat().st_mtime_ns for student in ("ben", "cat")}
    ben = json.loads((out / "ben" / "results.json").read_text())
    assert set(ben["fingerprint"]["seeds"]) == {ASSIGNMENT} and ben["fingerprint"]["hidden"] is False

    again = _start(submitted, out)
    assert again.wait(120) == 2 and "--resume" in _output(out)[1] and "--force" in _output(out)[1]

    build_submission(submitted / "aaron", ASSIGNMENT)          # aaron's corr2d returns now
    resumed = _start(submitted, out, "--resume")
    assert resumed.wait(400) == 0, "\n".join(_output(out))
    assert "--resume: 2 of 3 students taken over" in _output(out)[0]
    assert {student: (out / student / "results.json").stat().st_mtime_ns for student in finished} == finished
    assert [line["student"] for line in _table(out)] == ["aaron", "ben", "cat"]
    aaron = json.loads((out / "aaron" / "results.json").read_text())
    assert not aaron["internal_error"] and aaron["score"] == ben["score"] > 0
