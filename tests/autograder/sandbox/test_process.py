"""Is student code confined to a policed worker that dies alone, quickly, and leaves nothing behind?"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest

from autograder.notebook import Cell
from autograder.sandbox import process as sandbox
from autograder.sandbox.confine import isolation
from autograder.sandbox.process import Limits
from autograder.student.base import StudentError
from autograder.student.sandboxed import Student

FAST = Limits(call_seconds=2, load_seconds=2, budget_seconds=20)
PROBE = Cell("probe", "import os\ndef probe():\n    return os.getpid(), sorted(os.environ), os.getcwd()\n"
                      "def add(a, b):\n    return a + b\n")


def test_the_worker_is_another_process_with_an_empty_environment(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    with Student([PROBE], FAST) as student:
        pid, env, cwd = student.probe()
        assert student.in_force, "the worker reports what confines it"
    assert pid != os.getpid()
    if isolation().strong:
        assert pid == 1, "each worker is the first process of a PID namespace of its own"
    assert "CI" not in env and "GITHUB_TOKEN" not in env
    assert not any(name.startswith("GITHUB") for name in env)
    assert cwd != os.getcwd()


def test_errors_at_load_are_reported_and_later_cells_still_load():
    bad = ["import sys\nsys.exit(0)", "raise KeyboardInterrupt", "class Escape(BaseException): pass\nraise Escape()"]
    cells = [Cell(f"bad{i}", source) for i, source in enumerate(bad)]
    with Student([*cells, PROBE], FAST) as student:
        assert student.add(2, 3) == 5
        assert set(student.load.errors) == {"bad0", "bad1", "bad2"}


def test_a_dead_zygote_is_started_again():
    sandbox.zygote().close()
    with Student([PROBE], FAST) as student:
        assert student.add(1, 2) == 3


def test_processes_forked_beside_each_other_share_one_zygote_and_one_that_restarts_gets_its_own():
    sandbox.share(2)
    shared = sandbox._session.shared
    try:
        restarted = _in_a_forked_judge(_restarts)
        assert restarted != shared.pid, "a judge that restarts gets a zygote of its own"
        assert shared.alive, "and the shared one stays up for the other judges"
        assert _in_a_forked_judge(_asks_once) == shared.pid, "the next judge still asks the shared zygote"
    finally:
        sandbox.stop_sharing()
    assert not shared.alive, "the process that shared it stops it"


def _asks_once() -> int:
    with Student([PROBE], FAST) as student:
        assert student.add(1, 2) == 3
    return sandbox.zygote().pid


def _restarts() -> int:
    first = _asks_once()
    sandbox.restart()
    assert sandbox.zygote().owner == os.getpid()
    second = _asks_once()
    assert first != second
    return second


def _in_a_forked_judge(task) -> int:
    """Run ``task`` in a process forked from this one, as ``grade-all`` forks its judges; what it returns."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read)
            sandbox.join()
            os.write(write, str(task()).encode())
            sandbox.stop()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and text.isdigit(), "the forked judge's task failed"
    return int(text)


def test_cells_that_kill_or_hang_the_worker_are_skipped():
    cells = [Cell("dies", "import os\nos._exit(0)"), Cell("hangs", "while True:\n    pass")]
    with Student([*cells, PROBE], FAST) as student:
        assert student.add(2, 3) == 5
        assert student.load.skipped == ["dies", "hangs"]


def test_a_call_that_kills_the_worker_fails_alone_and_the_next_call_works():
    cell = Cell("f", "def f():\n    import os\n    os._exit(0)\n")
    with Student([cell, PROBE], FAST) as student:
        with pytest.raises(StudentError, match="exited with status 0"):
            student.f()
        assert student.add(1, 1) == 2


def test_a_hang_is_located_and_later_calls_that_reach_it_fail_at_once():
    cell = Cell("f", "def spin(x):\n    while True:\n        pass\ndef outer(x):\n    return spin(x) + 1\n")
    with Student([cell, PROBE], FAST) as student:
        with pytest.raises(StudentError, match=r"stuck in spin in cell f, line 2"):
            student.outer(1)
        with pytest.raises(StudentError, match="spin did not return"):
            student.outer(2)
        with pytest.raises(StudentError, match="not run, spin did not return"):
            student.spin(3)
        assert student.add(1, 2) == 3
    first, second, third = student.records[:3]
    assert first.timed_out and first.seconds >= FAST.call_seconds - 1
    assert not second.timed_out and second.seconds < 1, "a call that reaches a hung function must not wait"
    assert not third.timed_out and third.seconds == 0


def test_once_the_budget_is_spent_calls_get_short_deadlines():
    cell = Cell("f", "import time\ndef slow(s):\n    time.sleep(s)\n    return s\n"
                     "def spin(s):\n    while True:\n        pass\n")
    limits = Limits(call_seconds=2, load_seconds=3, budget_seconds=1.5, spent_call_seconds=1)
    with Student([cell], limits) as student:
        with pytest.raises(StudentError, match="within 2 s of CPU time; it was stuck in spin"):
            student.call("spin", 5)          # its own deadline while the budget lasts
        assert student.budget_left < 0
        with pytest.raises(StudentError, match="within 1 s of CPU time, and it had spent 2 times as long waiting"):
            student.call("slow", 60)         # a second, different hang: waiting is no way around the deadline
        del student.blocked["slow"]
        assert student.slow(0.1) == 0.1
    spun, slept = student.records[:2]
    assert spun.timed_out
    assert slept.timed_out and 2 <= slept.seconds < 10, "a sleeping call ends at twice its deadline"


SPIN = Cell("spin", "import time\ndef spin(cpu_seconds):\n    end = time.process_time() + cpu_seconds\n"
                   "    while time.process_time() < end:\n        pass\n    return cpu_seconds\n")


def test_a_deadline_is_cpu_time_that_the_judge_reads_from_outside():
    with Student([SPIN], Limits(call_seconds=1)) as student:
        record = student.record("spin", 0.3)
        assert 0.3 <= record.cpu_seconds < 0.3 + 0.25, "the worker's CPU time, wire included, and no more"
        assert record.seconds >= record.cpu_seconds
        meter = sandbox.Meter(student._worker.pid)
        assert meter.cpu() >= 0.3 and meter.queued() >= 0


@pytest.mark.parametrize("kernel_counts_queueing", [True, False], ids=["schedstat", "no-schedstat"])
def test_a_call_starved_of_cpu_by_the_machine_is_the_graders_fault_not_the_students(kernel_counts_queueing,
                                                                                      monkeypatch):
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs CPU affinity to starve the worker")
    if not kernel_counts_queueing:
        # A kernel adds a wait to /proc/PID/schedstat only when it ends: a thread still queued reads as not queued.
        # CI once read ~0 s queued after 2 s of starvation and called it the student's own waiting.
        monkeypatch.setattr(sandbox.Meter, "queued", lambda self: 0.0)
    cpu = min(os.sched_getaffinity(0))
    hogs = [sandbox.subprocess.Popen([sandbox.sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{cpu}}})\n"
                                      "while True: pass"]) for _ in range(3)]
    try:
        with Student([SPIN], Limits(call_seconds=1)) as student:
            assert student.spin(0.01) == 0.01
            worker = student._worker.pid
            os.sched_setaffinity(worker, {cpu})              # one CPU, shared with three busy processes
            os.setpriority(os.PRIO_PROCESS, worker, 19)      # at the lowest priority: it barely runs
            autogroup = Path(f"/proc/{worker}/autogroup")     # its session's group too, where there are groups
            if autogroup.exists():
                autogroup.write_text("19")
            with pytest.raises(sandbox.GraderFault, match="the machine was too busy"):
                student.spin(0.5)                            # half its CPU deadline: never the student's fault
            assert "spin" not in student.blocked and student.budget_left == student.limits.budget_seconds
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def test_a_forged_reply_kills_the_worker_and_is_reported():
    forge = ("import os\n"
             "def forge():\n"
             "    for fd in range(3, 64):   # every descriptor that takes a write: the reply pipe among them\n"
             "        try:\n"
             "            os.write(fd, (5).to_bytes(8, 'little') + b'[1,2]')\n"
             "        except OSError:\n"
             "            pass\n"
             "    while True:\n"
             "        pass\n")
    with Student([Cell("f", forge), PROBE], FAST) as student:
        with pytest.raises(StudentError, match="broke the protocol"):
            student.forge()
        assert student.add(1, 1) == 2


def test_every_process_the_worker_started_is_gone_when_it_closes():
    if not isolation().strong:
        pytest.skip("without namespaces, a process that leaves the worker's session cannot be followed")
    # Each child execs an interpreter whose command line carries a mark: the test can find it from outside.
    fork = ("import os, sys\n"
            "def flood(n):\n"
            "    for i in range(n):\n"
            "        try:\n"
            "            child = os.fork()\n"
            "        except OSError:\n"
            "            return i\n"
            "        if child == 0:\n"
            "            if i % 2:\n"
            "                os.setsid()\n"
            "            os.execv(sys.executable, [sys.executable, '-S', '-c', 'import time; time.sleep(600)', MARK])\n"
            "    return n\n")
    with Student([Cell("f", f"MARK = {LEFT_BEHIND!r}\n" + fork)], FAST) as student:
        started = student.call("flood", 200, timeout=30)     # up to the worker's process limit
        assert started >= 32
        assert len(_marked()) >= 32, "the test sees the processes it means to find"
    sandbox.reap()
    assert not _marked()


LEFT_BEHIND = "left-behind-by-the-flood"


def _marked() -> list[str]:
    """Processes whose command line carries the flood's mark."""
    return [entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()
            and LEFT_BEHIND.encode() in _cmdline(entry)]


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize("kind", ["session", "pid namespace"])
def test_the_reaper_spares_a_process_that_took_a_killed_workers_namespace_or_session_later(kind):
    """The kernel hands a freed PID namespace's number, and a freed pid, to the next one made: another
    grader's worker can have a killed worker's namespace or session by the time this grader reaps it."""
    import subprocess
    import time

    if kind == "pid namespace" and not isolation().strong:
        pytest.skip("no PID namespaces here")
    command = ["unshare", "--pid", "--fork", "sleep", "60"] if kind == "pid namespace" else ["sleep", "60"]
    before = sandbox._boot_ticks()
    time.sleep(0.05)      # a few clock ticks: the process below starts after the kill marked at `before`
    newcomer = subprocess.Popen(command, start_new_session=True)
    try:
        found = _process_in(newcomer.pid, kind)
        namespace, session = (found[1], -1) if kind == "pid namespace" else ("", newcomer.pid)
        reaper = sandbox.Sandbox()
        reaper.dying.append((namespace, session, before))
        reaper.reap()
        assert _process_in(newcomer.pid, kind), "a process started after the kill was killed as the worker's"
        reaper.dying.append((namespace, session, sandbox._boot_ticks()))
        reaper.reap()
        assert not _process_in(newcomer.pid, kind), "a process of the killed worker was left alive"
    finally:
        newcomer.kill()
        newcomer.wait()


def _process_in(pid: int, kind: str) -> tuple | None:
    """The live process that ``kind`` is about: the session leader itself, or the first one in its new namespace."""
    import time

    for _ in range(200):
        if kind == "session":
            return next((entry for entry in sandbox._processes() if entry[0] == pid), None)
        ours = os.readlink("/proc/self/ns/pid")
        inside = [entry for entry in sandbox._processes() if entry[1] != ours and entry[2] == pid]
        if inside:
            return inside[0]
        time.sleep(0.01)
    return None


BUSY = Cell("busy", "import time\ndef busy(seconds):\n    end = time.process_time() + seconds\n"
                    "    while time.process_time() < end:\n        pass\n    return seconds\n")


def _grader_that_reaps_late(pipe, go) -> None:
    """Grader A: grades (starts and kills) a few workers, as ``grade_notebook`` leaves them, and reaps on cue."""
    sandbox.forget_zygote()
    for _ in range(6):
        with Student([BUSY], FAST) as student:
            student.call("busy", 0)
    pipe.send([entry[0] for entry in sandbox._session.dying])
    go.wait(30)
    sandbox.reap()


def test_a_grader_that_reaps_never_kills_another_graders_worker_in_the_middle_of_a_call():
    """Another grader's worker often has a killed worker's namespace number (the kernel reuses the lowest free one).
    Before the reaper compared start times, grader A's reap killed grader B's worker in the middle of a call:
    "the worker was ended by SIGKILL", charged to B's student (issue 21's heavy-load runs; a solution lost 0.5 of
    02's corr2d_multi_in_out on CI while two nbgrader autogrades ran at once)."""
    import multiprocessing
    import threading

    if not isolation().strong:
        pytest.skip("no PID namespaces here")
    context = multiprocessing.get_context("fork")
    for _ in range(3):
        mine, theirs = context.Pipe()
        go = context.Event()
        grader = context.Process(target=_grader_that_reaps_late, args=(theirs, go))
        grader.start()
        assert mine.poll(120), f"grader A did not get going (exit code {grader.exitcode})"
        dying = mine.recv()
        with Student([BUSY], FAST) as student:
            student.call("busy", 0)
            namespace = os.readlink(f"/proc/{student._worker.pid}/ns/pid")
            threading.Timer(0.3, go.set).start()        # A reaps while B's call runs
            assert student.call("busy", 1.0) == 1.0
        grader.join(30)
        if namespace in dying:
            return      # B's worker held a number of A's killed workers, and lived
    pytest.fail("B's worker never held a killed worker's namespace number: the test did not test")
