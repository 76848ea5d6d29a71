"""Does grading a class give every student their own fair result, whatever the others submitted?"""

from __future__ import annotations

import csv
import json
import os

import pytest

from autograder.notebook import read_release
from autograder.verbs.grade_all import grade_class
from tests.support import ASSIGNMENTS, ROOT, SAMPLES, build_submission, read_sample, run_cli

ASSIGNMENT = "01_corr2d"
ATTACKS = ROOT / "tests" / "attacks" / ASSIGNMENT


def _submit(submitted, student, overrides=None, solved=True):
    folder = submitted / student
    build_submission(folder, ASSIGNMENT, overrides, solved=solved)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of seven, graded with two judge processes."""
    root = tmp_path_factory.mktemp("class")
    submitted = root / "submitted"
    _submit(submitted, "alice")
    _submit(submitted, "bob", read_sample(SAMPLES / ASSIGNMENT / "conv2d_layer_without_bias.py")[0])
    _submit(submitted, "carol", solved=False)
    dave = submitted / "dave" / ASSIGNMENT
    dave.mkdir(parents=True)
    (dave / f"{ASSIGNMENT}.ipynb").write_text("this is not a notebook")
    (submitted / "erin").mkdir()
    for student, attack in (("mallory", "os_exit_at_import.py"), ("trudy", "infinite_loop.py")):
        text = (ATTACKS / attack).read_text()
        _submit(submitted, student, {"corr2d": text})
    rows = grade_class(submitted, ASSIGNMENTS, root / "out", jobs=2, progress=False)
    return root / "out", {row.student: row for row in rows}




def test_every_student_gets_a_row_a_results_file_and_feedback(graded):
    out, rows = graded
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "mallory", "trudy"]
    for student in rows:
        data = json.loads((out / student / "results.json").read_text())
        assert {"score", "max_score", "tests", "output"} <= set(data)
        assert (out / student / "feedback.md").read_text().startswith(f"# Feedback for {student}")


def test_scores_are_each_students_own(graded):
    _, rows = graded
    maximum = sum(read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").item_points().values())
    assert rows["alice"].automatic == pytest.approx(maximum)            # graded beside mallory and trudy
    assert rows["carol"].automatic == 0
    bob = rows["bob"]
    assert bob.scores[f"{ASSIGNMENT}/Conv2D"] < bob.maxima[f"{ASSIGNMENT}/Conv2D"]
    assert all(bob.scores[key] == pytest.approx(bob.maxima[key]) for key in bob.scores if not key.endswith("Conv2D"))
    assert rows["mallory"].scores[f"{ASSIGNMENT}/corr2d"] == 0 and rows["trudy"].scores[f"{ASSIGNMENT}/corr2d"] == 0
    assert any("os._exit" in flag for flag in rows["mallory"].flags)     # her exiting cell is skipped, and said
    assert rows["trudy"].scores[f"{ASSIGNMENT}/receptive_field"] > 0     # a hang costs only what it touches


def test_odd_submissions_are_flagged_not_crashed(graded):
    _, rows = graded
    assert any("not valid JSON" in flag for flag in rows["dave"].flags), rows["dave"].flags
    assert f"{ASSIGNMENT}: no submission" in rows["erin"].flags and rows["erin"].automatic == 0
    assert not rows["alice"].flags and not rows["bob"].flags       # only the assignment submitted is graded


def test_each_student_meets_the_hidden_inputs_of_their_own_seed(graded):
    _, rows = graded
    seeds = {student: row.seeds.get(ASSIGNMENT) for student, row in rows.items() if row.seeds}
    assert {"alice", "bob"} <= set(seeds) and len(set(seeds.values())) == len(seeds)
    alice = json.loads((graded[0] / "alice" / "results.json").read_text())
    assert alice["seeds"][0]["from"] == "student 'alice'"


def test_the_gradebook_has_a_row_per_student_and_a_column_per_item(graded):
    out, rows = graded
    with open(out / "gradebook.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [line["student"] for line in table] == sorted(rows)
    alice = table[0]
    items = read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").item_points()
    assert all(float(alice[f"{ASSIGNMENT}/{item}"]) == points for item, points in items.items())
    assert float(alice["automatic"]) == sum(items.values())
    assert float(alice["manual_pending"]) > 0                     # 01's written answers wait for a person
    assert alice["seeds"].startswith(f"{ASSIGNMENT}:")
    assert "no submission" in next(line for line in table if line["student"] == "erin")["flags"]


def test_feedback_says_why_without_hidden_values(graded):
    out, _ = graded
    bob = (out / "bob" / "feedback.md").read_text()
    assert "**failed**" in bob and "What went wrong" in bob and "Conv2D" in bob
    assert "def ref_" not in bob and "BEGIN HIDDEN" not in bob
    alice = (out / "alice" / "feedback.md").read_text()
    assert "**failed**" not in alice and "Graded by hand" in alice


def test_the_command_line_grades_a_class_and_rejects_a_missing_folder(tmp_path):
    _submit(tmp_path / "submitted", "zoe")
    summary = tmp_path / "summary.md"
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary))
    run = run_cli("grade-all", tmp_path / "submitted", "--jobs", "1", "--out", tmp_path / "out", "--public-only",
                  env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "graded 1 students" in run.stdout and (tmp_path / "out" / "gradebook.csv").is_file()
    page = (tmp_path / "out" / "report.html").read_text()     # the class's view, and the code compared
    assert "zoe" in page and (tmp_path / "out" / "similarity.csv").is_file() and "class view:" in run.stdout
    assert "| zoe |" in summary.read_text()
    missing = run_cli("grade-all", tmp_path / "nothing")
    assert missing.returncode == 2 and "no such folder" in missing.stderr






# -- a class across runners: shards, and their merge ---------------------------------------------------

def test_every_student_is_in_exactly_one_shard_which_does_not_move():
    from autograder.verbs.grade_all import shard_of

    students = [f"student{i:03d}" for i in range(300)]
    counts = [sum(1 for s in students if shard_of(s, 4) == index) for index in (1, 2, 3, 4)]
    assert sum(counts) == 300 and all(50 <= count <= 100 for count in counts), counts    # about 75 each
    # from the id alone, the same in every process (Python's own hash() of a str would not be)
    assert [shard_of(name, 4) for name in ("alice", "bob", "carol", "dave")] == [4, 3, 3, 4]


@pytest.mark.parametrize("text, message", [("0/3", "1 <= I <= N"), ("4/3", "1 <= I <= N"), ("two", "I/N")])
def test_a_shard_is_i_of_n(text, message):
    from autograder.verbs.grade_all import parse_shard

    assert parse_shard("2/5") == (2, 5)
    with pytest.raises(ValueError, match=message):
        parse_shard(text)




def test_a_class_graded_in_shards_and_merged_is_the_class_graded_at_once(tmp_path):
    for student in ("ann", "ben", "cat", "dan", "eve"):
        _submit(tmp_path / "submitted", student, solved=student != "ben")
    whole = grade_class(tmp_path / "submitted", ASSIGNMENTS, tmp_path / "whole", hidden=False, progress=False)
    for index in (1, 2):
        run = run_cli("grade-all", tmp_path / "submitted", "--public-only", "--jobs", "1", "--shard", f"{index}/2",
                      "--out", tmp_path / f"shard{index}")
        assert run.returncode == 0, run.stdout + run.stderr
    joined = run_cli("merge", tmp_path / "merged", *(tmp_path / f"shard{i}" for i in (1, 2)), timeout=120)
    assert joined.returncode == 0 and "5 students" in joined.stdout, joined.stderr
    assert (tmp_path / "merged" / "gradebook.csv").read_text() == (tmp_path / "whole" / "gradebook.csv").read_text()
    assert sorted(p.name for p in (tmp_path / "merged").iterdir() if p.is_dir()) == [row.student for row in whole]


# -- one zygote for the class ------------------------------------------------------------------------------

def _zygote_log(monkeypatch, tmp_path, fail_first_spawn: bool = False):
    """Log every zygote started and every worker asked for, as lines "start|spawn PROCESS ZYGOTE"; with
    ``fail_first_spawn``, the first request of the whole class (whichever judge makes it) fails."""
    from autograder.sandbox import process as sandbox

    log, first = tmp_path / "zygotes", tmp_path / "first-spawn"
    start, spawn = sandbox.Zygote.__init__, sandbox.Zygote.spawn

    def logged_start(self, *args, **kwargs):
        start(self, *args, **kwargs)
        with open(log, "a") as handle:
            handle.write(f"start {os.getpid()} {self.pid}\n")

    def logged_spawn(self, request, fds, seconds):
        with open(log, "a") as handle:
            handle.write(f"spawn {os.getpid()} {self.pid}\n")
        if fail_first_spawn:
            try:
                os.close(os.open(first, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                self.close()
                raise sandbox.GraderFault("injected: the zygote did not fork a worker")
        return spawn(self, request, fds, seconds)

    monkeypatch.setattr(sandbox.Zygote, "__init__", logged_start)
    monkeypatch.setattr(sandbox.Zygote, "spawn", logged_spawn)
    return lambda: [(kind, int(process), int(zygote)) for kind, process, zygote in
                    (line.split() for line in log.read_text().splitlines())]


def _full_marks(tmp_path, rows):
    for row in rows:
        data = json.loads((tmp_path / "out" / row.student / "results.json").read_text())
        assert not row.internal_error and data["score"] == 11, data["output"]


def test_the_judges_of_a_class_share_one_zygote(tmp_path, monkeypatch):
    events = _zygote_log(monkeypatch, tmp_path)
    for student in ("ann", "ben", "cat", "dan"):
        _submit(tmp_path / "submitted", student)
    rows = grade_class(tmp_path / "submitted", ASSIGNMENTS, tmp_path / "out", jobs=2, progress=False)
    _full_marks(tmp_path, rows)
    starts = [(process, zygote) for kind, process, zygote in events() if kind == "start"]
    assert starts and starts == [(os.getpid(), starts[0][1])], "one zygote, started before the judges"
    spawns = [(process, zygote) for kind, process, zygote in events() if kind == "spawn"]
    assert {zygote for _, zygote in spawns} == {starts[0][1]}, "every worker came from it"
    assert len({process for process, _ in spawns}) == 2, "both judges asked it for workers"
    assert not _alive(starts[0][1]), "it is stopped once the class is graded"


def test_a_judge_that_meets_a_grader_fault_gets_its_own_zygote_and_the_others_keep_the_shared_one(tmp_path,
                                                                                                   monkeypatch):
    events = _zygote_log(monkeypatch, tmp_path, fail_first_spawn=True)
    for student in ("ann", "ben", "cat", "dan"):
        _submit(tmp_path / "submitted", student)
    rows = grade_class(tmp_path / "submitted", ASSIGNMENTS, tmp_path / "out", jobs=2, progress=False)
    _full_marks(tmp_path, rows)
    log = events()
    [(_, _, shared), (_, faulty, private)] = [event for event in log if event[0] == "start"]
    assert log[0] == ("start", os.getpid(), shared)
    restart = log.index(("start", faulty, private))
    assert ("spawn", faulty, shared) in log[:restart], "the judge whose request failed started a zygote of its own"
    after = log[restart + 1:]
    assert {zygote for kind, process, zygote in after if process == faulty} == {private}
    others = [zygote for kind, process, zygote in after if kind == "spawn" and process != faulty]
    assert others and set(others) == {shared}, "the other judge went on with the shared zygote"


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- faults of the grader's own: retried, then never final ---------------------------------------------

def _faulty_zygotes(monkeypatch, tmp_path, faulty_pools: int):
    """Every zygote of the first ``faulty_pools`` pools of judges fails to fork a worker; later ones work."""
    from autograder.sandbox import process as sandbox
    from autograder.verbs import grade_all

    starts = tmp_path / "judge-starts"
    start_judge, spawn = grade_all._start_judge, sandbox.Zygote.spawn
    state = {"faulty": False}

    def start(releases, threads, *rest):
        with open(starts, "a") as handle:           # each judge process of each pool signs in
            handle.write(f"{os.getpid()}\n")
        state["faulty"] = len(starts.read_text().split()) <= 2 * faulty_pools     # two judges per pool
        start_judge(releases, threads, *rest)

    def failing_spawn(self, request, fds, seconds):
        if state["faulty"]:
            raise sandbox.GraderFault("injected: the zygote did not fork a worker")
        return spawn(self, request, fds, seconds)

    monkeypatch.setattr(grade_all, "_start_judge", start)
    monkeypatch.setattr(sandbox.Zygote, "spawn", failing_spawn)
    return starts


def test_a_student_whose_grading_met_a_grader_fault_is_graded_again_in_a_fresh_pool(tmp_path, monkeypatch):
    starts = _faulty_zygotes(monkeypatch, tmp_path, faulty_pools=1)
    for student in ("alice", "bob"):
        _submit(tmp_path / "submitted", student)
    rows = grade_class(tmp_path / "submitted", ASSIGNMENTS, tmp_path / "out", jobs=2, progress=False)
    assert len(starts.read_text().split()) > 2, "a fresh pool of judges was started"
    for row in rows:
        data = json.loads((tmp_path / "out" / row.student / "results.json").read_text())
        assert not row.internal_error and not data["internal_error"] and data["score"] == 11, data["output"]


def test_a_grading_the_grader_could_not_finish_is_never_a_final_score(tmp_path, monkeypatch):
    from autograder.verbs.collect import Collected
    from autograder.verbs.publish import verdict

    _faulty_zygotes(monkeypatch, tmp_path, faulty_pools=2)
    _submit(tmp_path / "submitted", "alice")
    [row] = grade_class(tmp_path / "submitted", ASSIGNMENTS, tmp_path / "out", jobs=2, progress=False)
    data = json.loads((tmp_path / "out" / "alice" / "results.json").read_text())
    assert row.internal_error and data["internal_error"]
    assert any("internal error" in flag.lower() for flag in row.flags), row.flags
    assert "sys.exit" not in json.dumps(data), "the student is not blamed for the grader's fault"
    entry = Collected("alice", "org/alice", commit="0" * 40, notebooks=[f"{ASSIGNMENT}.ipynb"])
    assert verdict(entry, data) is None, "publish posts no status for it: the next run grades it again"
