"""Start and police the worker process that runs student code.

The worker gets its own session and process group, an empty environment, a
fresh temporary working directory, the walls of ``autograder.sandbox.confine`` and a
deadline on every request; a missed deadline, a malformed or forged
reply, or a dead worker kills it with everything it started.

Deadlines are in CPU seconds of the worker and everything it started, read by
this process from outside (:class:`Meter`: the kernel's process clocks, never
a clock that student code can reach), so a busy machine does not use them up.
Each request also has a generous wall-clock cap. A call that reaches it
without using its CPU time was either waiting on its own (``sleep``, a lock:
its time off the CPU was not spent queueing for one, and the judge's readings
found none of its threads runnable), which is the student's
doing, or starved by the machine's other work, which is the grader's: a
:class:`GraderFault`, graded again, never charged. Requests and
replies travel over two private pipes (``autograder.sandbox.wire``), never over the
worker's stdout, which goes to a capped log file.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import confine, wire

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
LOG_TAIL_BYTES = 2000
EXIT_GRACE_SECONDS = 5.0
# The deadlines students are told about, in CPU seconds (every notebook's rules cell:
# autograder/release/rules_cell.py).
CALL_SECONDS, LOAD_SECONDS, BUDGET_SECONDS, SPENT_CALL_SECONDS = 10.0, 30.0, 45.0, 2.0
TRAINING_SECONDS = 60.0   # a call that trains (01's learn_kernel, 05's train): cases pass it as the call's timeout
# The wall-clock cap of a request with a CPU deadline: this many times the deadline, plus WALL_SLACK seconds.
WALL_FACTOR, WALL_SLACK = 4.0, 5.0
# A call that spent this many times its deadline off the CPU by its own doing (sleeping, waiting on a lock or a
# pipe, not queueing for a CPU) has run out of time as surely as one that used its CPU seconds.
WAIT_FACTOR = 2.0
POLL_SECONDS = 0.02       # how often the judge reads a running call's CPU time
WATCHDOG_MARGIN = 0.5     # the worker's watchdog reports a running call this long before either limit
# torch's threads in every worker, whatever the machine and --jobs: CPU-time deadlines and speed checks
# (whose reference also runs on one thread) mean the same everywhere, and float sums come out in one order.
WORKER_THREADS = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _seconds(variable: str, default: float) -> float:
    """A deadline from the judge's environment (never the worker's), for tests and slow machines."""
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; see autograder/README.md for the reasons.

    Deadlines can be set from the judge's environment: ``AUTOGRADER_CALL_SECONDS``,
    ``AUTOGRADER_LOAD_SECONDS`` and ``AUTOGRADER_BUDGET_SECONDS``.
    """

    cpu_seconds: int = 600          # CPU time over the worker's whole life
    file_bytes: int = 64 << 20      # largest file (and stdout log) it may write
    open_files: int = 256
    address_space: int = 4 << 30    # virtual memory: a worker with torch loaded peaks near 0.6 GiB
    processes: int = 64             # processes and threads it may start beyond torch's own threads (RLIMIT_NPROC)
    call_seconds: float = dataclasses.field(default_factory=lambda: _seconds("AUTOGRADER_CALL_SECONDS", CALL_SECONDS))
    load_seconds: float = dataclasses.field(default_factory=lambda: _seconds("AUTOGRADER_LOAD_SECONDS", LOAD_SECONDS))
    # Time one notebook may lose to calls that ran out of time; once spent, calls get short deadlines.
    budget_seconds: float = dataclasses.field(default_factory=lambda: _seconds("AUTOGRADER_BUDGET_SECONDS",
                                                                                     BUDGET_SECONDS))
    spent_call_seconds: float = SPENT_CALL_SECONDS  # the deadline of a call once the budget is spent
    start_seconds: float = 120.0    # for the worker to start (import torch) before any student code


class GraderFault(Exception):
    """The grader's own machinery failed (the zygote did not fork, a worker died before any student code ran):
    nothing of it is the student's doing, so no score may rest on it. Grading retries, then reports an
    internal error."""


class WorkerFault(Exception):
    """The worker died, missed its deadline or broke the protocol; it has been killed."""

    def __init__(self, reason: str, log_tail: str = "", timed_out: bool = False,
                 hung: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = log_tail
        self.timed_out = timed_out
        self.hung = hung     # where the call was stuck, as the worker's watchdog saw it


def _worker_environment(home: str) -> dict[str, str]:
    """Nothing from the judge's environment: no CI, GITHUB_* or tokens."""
    return {
        "OMP_NUM_THREADS": str(WORKER_THREADS),
        "MKL_NUM_THREADS": str(WORKER_THREADS),
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": home,
        "PYTHONDONTWRITEBYTECODE": "1",
        # numpy's BLAS would start threads at import, and a threaded process
        # cannot enter the nested user namespace that drops its capabilities.
        "OPENBLAS_NUM_THREADS": "1",
    }


def _effective(limits: Limits) -> dict:
    """The limits as the worker applies them. A CUDA context reserves far more
    address space than any RLIMIT_AS that would stop a memory bomb, so with a GPU
    that one limit is lifted (the wall clock and the GPU's own memory remain).
    Torch's own threads count against the process limit, so they are added to it."""
    values = dataclasses.asdict(limits)
    values["processes"] += WORKER_THREADS
    if _cuda_present():
        values["address_space"] = None
    return values


@functools.cache
def _cuda_present() -> bool:
    import torch

    return torch.cuda.is_available()


_STARTER = ("import json, sys; sys.path.insert(0, sys.argv[1]); import autograder.sandbox.zygote as zygote; "
            "zygote.main(json.loads(sys.argv[2]))")


class Zygote:
    """The process that forks workers (``autograder.sandbox.zygote``), started once behind the walls.

    A zygote is this process's own, or, started with ``slots``, one that as many processes forked from this
    one share (``grade-all``'s judges): it serves a control socket per slot, and each of those processes takes
    a slot of its own (:meth:`claim`), so their requests never interleave. Only the process that started it
    kills it.
    """

    def __init__(self, slots: int = 0) -> None:
        self.walls = confine.isolation()
        _session.become_subreaper()
        self.owner = os.getpid()
        self.home = tempfile.mkdtemp(prefix="autograder-zygote-")
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(max(slots, 1))]
        self.controls = [ours for ours, _ in pairs]
        self.control: socket.socket | None = None if slots else self.controls[0]
        theirs = [their.fileno() for _, their in pairs]
        # "parent": the zygote dies with this process (zygote._die_with_parent), and ends at once if it is gone
        config = {"control_fds": theirs, "namespaces": self.walls.strong, "parent": os.getpid()}
        with open(Path(self.home) / "zygote.log", "wb") as log:
            self.process = subprocess.Popen(
                [*self.walls.zygote_prefix, sys.executable, "-I", "-X", "faulthandler", "-c", _STARTER,
                 str(PACKAGE_PARENT), json.dumps(config)],
                pass_fds=theirs, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.home, env=_worker_environment(self.home), start_new_session=True)
        for _, their in pairs:
            their.close()
        self.pid = self.process.pid
        self.started = _start_time(self.pid)     # with the pid, names this process even once the pid is reused
        self.free = -1                            # the slots not yet taken, two bytes each, in a pipe
        if slots:
            self.free, write = os.pipe()
            os.write(write, b"".join(slot.to_bytes(2, "big") for slot in range(slots)))
            os.close(write)
            os.set_blocking(self.free, False)

    @property
    def alive(self) -> bool:
        """Whether it runs, asked from any process (not only its parent, which alone could wait for it)."""
        return self.started is not None and _start_time(self.pid) == self.started

    @property
    def serving(self) -> bool:
        """Whether this process can ask it for workers: it runs, and this process holds a slot of it."""
        return self.control is not None and self.control.fileno() >= 0 and self.alive

    def claim(self) -> bool:
        """In a process forked from the one that started this shared zygote: take a free slot, close the others'
        sockets here; False (and nothing held) if none is left."""
        try:
            slot = os.read(self.free, 2) if self.free >= 0 else b""
        except BlockingIOError:
            slot = b""
        mine = self.controls[int.from_bytes(slot, "big")] if len(slot) == 2 else None
        for control in self.controls:
            if control is not mine:
                control.close()
        self.controls, self.control = [mine] if mine else [], mine
        self._close_free()
        return mine is not None

    def spawn(self, request: dict, fds: list[int], seconds: float) -> int:
        """Fork a worker with these pipes and log; return the pid of its waiting parent (GraderFault if not)."""
        try:
            if self.control is None:
                raise OSError("this process holds no slot of the zygote")
            self.control.settimeout(seconds)
            socket.send_fds(self.control, [json.dumps(request).encode()], fds)
            reply = json.loads(self.control.recv(4096))
            return int(reply["pid"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            try:
                log = (Path(self.home) / "zygote.log").read_text(errors="replace")[-LOG_TAIL_BYTES:]
            except OSError:
                log = ""
            self.close()
            raise GraderFault(f"the zygote did not fork a worker ({type(error).__name__}: {error})\n{log}") from None

    def close(self) -> None:
        """Stop asking it for workers; the process that started it also kills it, and with it its workers."""
        for control in self.controls:
            control.close()
        self._close_free()
        if os.getpid() != self.owner:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.home, ignore_errors=True)

    def _close_free(self) -> None:
        if self.free >= 0:
            os.close(self.free)
            self.free = -1


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started (in clock ticks since boot), or None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) if len(fields) > 19 and fields[0] not in "ZX" else None


def _process_clock(pid: int) -> float:
    """CPU seconds of every thread, live or ended, of process ``pid`` (CPUCLOCK_SCHED of its thread group).

    The kernel's own nanosecond count, readable for any process this one can name; no clock inside the
    worker is asked."""
    return time.clock_gettime(((~pid) << 3) | 2)


class Meter:
    """The CPU time of a worker and of every process it started, whether any of their threads is runnable, and
    how long its main thread queued for a CPU.

    Processes it started and already waited for are counted through its children's times (``/proc/PID/stat``);
    those still running, or dead and not yet waited for, through their own clocks.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu(self) -> float:
        return self.sample()[0]

    def sample(self) -> tuple[float, bool]:
        """CPU seconds of the whole tree, and whether any of its threads is runnable (running or queued)."""
        total, runnable, pending, seen = 0.0, False, [self.pid], set()
        while pending:
            pid = pending.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                total += _process_clock(pid)
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS    # cutime, cstime
                for task in os.listdir(f"/proc/{pid}/task"):
                    if not runnable:
                        runnable = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
                    pending.extend(int(child) for child in
                                   Path(f"/proc/{pid}/task/{task}/children").read_text().split())
            except (OSError, ValueError, IndexError):
                continue   # it ended meanwhile
        return total, runnable

    def queued(self) -> float:
        """Seconds the worker's main thread has spent runnable but waiting for a CPU (``/proc/PID/schedstat``)."""
        try:
            return int(Path(f"/proc/{self.pid}/schedstat").read_text().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0


@dataclass
class Usage:
    """What one request cost: seconds on the wall clock, CPU seconds (None where not measured), queueing, and
    the wall-clock seconds in which the judge, reading the tree's threads every POLL_SECONDS, found none runnable."""

    wall: float = 0.0
    cpu: float | None = None
    queued: float = 0.0
    idle: float = 0.0


class WorkerProcess:
    """One live worker, forked by the zygote: send a request, get a reply within a deadline.

    The zygote's child waits for the worker and, when it ends, sends its exit
    status down the reply pipe; the worker itself is the child's only child.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.home = tempfile.mkdtemp(prefix="autograder-worker-")
        self.log_path = Path(self.home) / ".worker-output.log"
        request_read, self.request_write = os.pipe()
        self.reply_read, reply_write = os.pipe()
        config = confine.walls(self.home, _effective(self.limits))
        request = {"home": self.home, "environment": _worker_environment(self.home), "config": config}
        self.parent = self.pid = 0
        self.pid_namespace = ""   # learnt after start-up: every process in it dies with the worker
        try:
            self.zygote = zygote()
            with open(self.log_path, "wb") as log:
                self.parent = self.zygote.spawn(request, [request_read, reply_write, log.fileno()],
                                                self.limits.start_seconds)
        except GraderFault:
            self.close()
            raise
        finally:
            os.close(request_read)
            os.close(reply_write)

    # -- transport with deadlines -------------------------------------------------------
    def request(self, header: dict, blobs: list[bytes], seconds: float) -> tuple[dict, list[bytes]]:
        """Send one request and return the reply that carries its nonce; any fault kills the worker.

        ``seconds`` is a deadline in CPU seconds once the worker has answered its first request (before, on
        the wall clock). What the request cost is left in ``self.usage``.
        """
        if not self.alive:
            raise self._fault("the worker is no longer running")
        meter = Meter(self.pid) if self.pid else None
        cap = seconds * WALL_FACTOR + WALL_SLACK if meter else seconds
        started = time.monotonic()
        cpu_before, queued_before = (meter.cpu(), meter.queued()) if meter else (0.0, 0.0)
        self.usage = Usage()
        idle, sampled = 0.0, started

        def usage() -> Usage:
            nonlocal idle, sampled
            now = time.monotonic()
            if meter is None:
                return Usage(now - started)
            cpu, runnable = meter.sample()
            if not runnable:             # the interval since the last reading is counted as the call's own waiting
                idle += now - sampled
            sampled = now
            return Usage(now - started, max(cpu - cpu_before, 0.0), max(meter.queued() - queued_before, 0.0), idle)

        try:
            wire.send(self.request_write, dict(header, deadline=seconds, wall=cap, margin=WATCHDOG_MARGIN), blobs,
                      started + cap)
            while not wire.readable(self.reply_read, POLL_SECONDS if meter else cap):
                over = self._over(seconds, cap, usage())
                if over:
                    raise over
            reply, reply_blobs = wire.receive(self.reply_read, started + cap)
        except TimeoutError:
            if meter:
                raise self._over(seconds, cap, usage(), at_cap=True) from None
            raise self._fault(f"no answer within {seconds:g} s (wall clock)", timed_out=True) from None
        except wire.WireError as error:
            raise self._fault(f"the worker broke the protocol ({error})") from None
        except (EOFError, OSError) as error:
            self._blame_the_zygote()
            raise self._fault(self._death_reason(error)) from None
        self.usage = usage()
        if "ended" in reply and reply.get("nonce") is None:
            self._blame_the_zygote()
            status = reply["ended"] if type(reply["ended"]) is int else 0
            raise self._fault(self._death_reason(_Ended(status)))
        if reply.get("nonce") != header.get("nonce"):
            raise self._fault("the worker's reply was not the answer to this call "
                              "(something wrote into the grader's pipe)")
        if "hung" in reply:
            # The worker's watchdog reports where a call is stuck shortly before its CPU deadline or its wall-clock
            # cap; the judge decides by its own measure which it was, and so whose fault the delay is.
            hung = reply["hung"] if isinstance(reply["hung"], dict) else None
            used = self.usage
            if meter is None:
                raise self._fault(f"no answer within {seconds:g} s (wall clock)", timed_out=True, hung=hung)
            margin = 2 * WATCHDOG_MARGIN
            over = self._over(seconds - margin, cap - margin, used, hung, deadline=seconds)
            if over:
                raise over
            raise self._fault("the worker reported a call as stuck before it reached any limit "
                              "(did the notebook replace the grader's clocks?)")
        return reply, reply_blobs

    def _over(self, seconds: float, cap: float, used: Usage, hung: dict | None = None, at_cap: bool = False,
              deadline: float | None = None) -> Exception | None:
        """The fault for a call past a limit, or None: its CPU deadline and the time it spent waiting on its own
        (sleep, a lock) are the student's; the wall-clock cap, reached without either, is the machine's."""
        deadline = deadline or seconds
        if used.cpu is not None and used.cpu >= seconds:
            return self._fault(f"no answer within {deadline:g} s of CPU time", timed_out=True, hung=hung)
        # Off the CPU by its own doing: by the kernel's count of its main thread's queueing (which a wait not yet
        # ended leaves out) and by the judge's readings (where any runnable thread, the worker's own watchdog
        # waiting for a CPU while the main thread waits for the GIL among them, counts as not waiting).
        if min(used.wall - used.queued, used.idle) >= WAIT_FACTOR * seconds:
            return self._fault(f"no answer within {deadline:g} s of CPU time, and it had spent {WAIT_FACTOR:g} "
                               "times as long waiting (sleep, a lock, a pipe?)", timed_out=True, hung=hung)
        if used.wall >= cap or at_cap:
            self.close(wait=False)
            return GraderFault(f"the machine was too busy: after {used.wall:.0f} s on the wall clock the call had "
                               f"had only {used.cpu or 0:.1f} of its {deadline:g} CPU seconds ({used.queued:.0f} s "
                               "queued for a CPU); it is graded again, and nothing is charged to the student")
        return None

    def _blame_the_zygote(self) -> None:
        """A worker that ended with its zygote (which student code cannot reach) ended by the grader's fault."""
        if not self.zygote.alive:
            self.close(wait=False)
            raise GraderFault("the zygote that forked the worker died while the worker ran")

    def _death_reason(self, error: Exception) -> str:
        if isinstance(error, _Ended):
            code = error.status
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"signal {-code}"
                hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed, maybe out of memory)",
                        "SIGSEGV": " (crashed)"}.get(name, "")
                return f"the worker was ended by {name}{hint}"
            return f"the worker exited with status {code} (sys.exit or os._exit in your code?)"
        return f"the worker ended ({error})"

    def _fault(self, reason: str, timed_out: bool = False, hung: dict | None = None) -> WorkerFault:
        tail = self.log_tail()
        self.close(wait=False)
        return WorkerFault(reason, tail, timed_out, hung)

    def log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- shutdown ---------------------------------------------------------------------------
    def note_started(self) -> None:
        """Find the worker (the zygote's child's child) and its PID namespace, once it answered."""
        self.pid = _only_child(self.parent)
        if self.pid and confine.isolation().strong:
            try:
                self.pid_namespace = os.readlink(f"/proc/{self.pid}/ns/pid")
            except OSError:
                self.pid_namespace = ""

    def close(self, wait: bool = True) -> None:
        """Kill the worker and everything it started; with ``wait``, return once all of it is gone.

        A worker killed for a fault is not waited for; the next close that
        waits, or the grader's exit, does it.
        """
        self.pid = self.pid or _only_child(self.parent)
        marked = _boot_ticks()     # before the kill: every process of this worker started before it
        for pid in (self.pid, self.parent):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)   # the first process of its PID namespace: all of it dies
                except (ProcessLookupError, PermissionError):
                    pass
        if self.parent:
            try:
                os.killpg(self.parent, signal.SIGKILL)   # without namespaces: the worker's session
            except (ProcessLookupError, PermissionError):
                pass
            _session.dying.append((self.pid_namespace, self.parent, marked))
        if wait:
            reap()
        for fd in (self.request_write, self.reply_read):
            try:
                os.close(fd)
            except OSError:
                pass
        self.request_write = self.reply_read = -1
        shutil.rmtree(self.home, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self.request_write >= 0 and _running(self.parent)


class _Ended(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"status {status}")
        self.status = status


def _only_child(pid: int) -> int:
    """The child of ``pid`` (the worker, forked a moment after its parent), or 0."""
    deadline = time.monotonic() + 1.0
    while pid and time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0
        if children:
            return int(children[0])
        time.sleep(0.001)
    return 0


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _processes() -> list[tuple[int, str, int, int]]:
    """(pid, PID namespace, session id, start time in clock ticks since boot) of every live process this user
    may inspect.

    A zombie is dead already: this process reaps the ones it inherited (see
    :meth:`Sandbox.become_subreaper`) and leaves the others to their parent.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            namespace = os.readlink(f"/proc/{entry.name}/ns/pid")
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            state, parent, session, started = fields[0], int(fields[1]), int(fields[3]), int(fields[19])
        except (OSError, ValueError, IndexError):
            continue
        if state == "Z":
            if parent == os.getpid():
                _reap_zombie(int(entry.name))
            continue
        found.append((int(entry.name), namespace, session, started))
    return found


def _boot_ticks() -> int:
    """Now, in the unit of a process's start time in ``/proc/PID/stat``: clock ticks since boot."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))


def _strays(dying: list[tuple[str, int, int]]) -> list[int]:
    """The live processes of killed workers: in a killed worker's PID namespace or session, and started before
    it was killed. The kernel hands a freed namespace's number, and a freed pid (a session's id), to the next
    one made: a worker of another grader, or this one's next, that has it now was started after the kill."""
    found = []
    for pid, namespace, session, started in _processes():
        if any(((gone and namespace == gone) or (leader > 0 and session == leader)) and started <= marked
               for gone, leader, marked in dying):
            found.append(pid)
    return found


def _reap_zombie(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _children(pid: int) -> list[int]:
    """The children of process ``pid``, forked by any of its threads."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def descendants(spare: frozenset[tuple[int, int]] = frozenset()) -> set[tuple[int, int]]:
    """(pid, start time) of every live process below this one: its children, theirs, and so on (orphans it
    inherited as a subreaper included), but for those of ``spare`` and what is below them. Zombies are dead
    already, and nothing is below them any more."""
    found: set[tuple[int, int]] = set()
    pending = _children(os.getpid())
    while pending:
        pid = pending.pop()
        started = _start_time(pid)
        if started is None:
            continue
        if (pid, started) not in spare and (pid, started) not in found:
            found.add((pid, started))
            pending.extend(_children(pid))
    return found


def kill_descendants(spare: frozenset[tuple[int, int]] = frozenset(), seconds: float = EXIT_GRACE_SECONDS) -> None:
    """Kill every process below this one but those of ``spare`` (an earlier :func:`descendants`, so that what a
    caller started before is left to it); return once none is left, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = descendants(spare)
        if not found or time.monotonic() > deadline:
            return
        for pid, started in found:
            if _start_time(pid) == started:      # the same process, not one that took its pid meanwhile
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        time.sleep(0.02)


class Sandbox:
    """One process's zygote (its own, or a slot of one it shares with the processes forked beside it) and the
    killed workers it has yet to see gone. The module's functions act on the process's one session."""

    def __init__(self) -> None:
        self.current: Zygote | None = None    # the zygote this process asks for workers
        self.shared: Zygote | None = None     # the zygote this process started for the processes it forks
        self.dying: list[tuple[str, int, int]] = []   # (PID namespace, session, boot ticks) of killed workers
        self.subreaper = 0                    # the pid that asked to be one: a forked child is none

    def zygote(self) -> Zygote:
        """The live zygote, started (again) when needed."""
        if self.current is None or not self.current.serving:
            if self.current is not None:
                self.current.close()
            self.current = Zygote()
        return self.current

    def share(self, slots: int) -> None:
        """Start a zygote that ``slots`` processes forked from this one share (:meth:`join`); one shared before
        is killed, so that no slot that a process ended with in the middle of a request is handed out again."""
        self.stop_sharing()
        self.shared = Zygote(slots)

    def stop_sharing(self) -> None:
        """Kill the shared zygote, and with it the workers it forked."""
        if self.shared is not None:
            self.shared.close()
            self.shared = None

    def join(self) -> None:
        """In a process forked from one that shares a zygote: take a slot of it (a zygote of its own if there is
        none), started now. What the parent holds is left to the parent."""
        shared, self.shared = self.shared, None
        self.forget()
        if shared is not None and shared.claim():
            self.current = shared
        elif shared is not None:
            shared.close()
        self.zygote()

    def forget(self) -> None:
        """In a forked process: the zygote and the killed workers are the parent's (closing them here only
        closes this process's copies of its sockets)."""
        if self.current is not None:
            self.current.close()
            self.current = None
        self.dying.clear()

    def restart(self) -> None:
        """A fresh zygote after a fault of the grader's own: the old one and all its workers are killed first.
        A shared zygote is only let go (the other processes go on with it); this process gets its own."""
        self.stop()
        self.zygote()

    def stop(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
        self.reap()

    def reap(self) -> None:
        """Kill what is left of every killed worker (its PID namespace, or its session); wait until it is gone."""
        deadline = time.monotonic() + EXIT_GRACE_SECONDS
        while self.dying:
            strays = _strays(self.dying)
            if not strays or time.monotonic() > deadline:
                self.dying.clear()
                return
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def become_subreaper(self) -> None:
        """Inherit the orphans of the zygotes this process starts (its workers' go to their zygote), to reap them.

        Otherwise they wait, as zombies, for the machine's init, which may be slow to reap.
        """
        if self.subreaper == os.getpid():
            return
        import ctypes

        PR_SET_CHILD_SUBREAPER = 36
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass
        self.subreaper = os.getpid()


_session = Sandbox()


def zygote() -> Zygote:
    """This process's live zygote, started (again) when needed."""
    return _session.zygote()


def reap() -> None:
    """Kill what is left of every killed worker; wait until it is gone."""
    _session.reap()


# -- the zygote, started ahead of need -----------------------------------------------------------

def prestart() -> None:
    """Start the zygote now, so its ``import torch`` overlaps the judge's."""
    _session.zygote()


def share(slots: int) -> None:
    """Start, now, the one zygote that ``slots`` processes about to be forked from this one share (:func:`join`)."""
    _session.share(slots)


def stop_sharing() -> None:
    """Kill the zygote started by :func:`share`."""
    _session.stop_sharing()


def join() -> None:
    """In a process forked from one that called :func:`share`: a slot of that zygote, or a zygote of its own."""
    _session.join()


def forget_zygote() -> None:
    """In a process forked from one with a zygote: that zygote is the parent's; start afresh."""
    _session.forget()


def restart() -> None:
    """A fresh zygote after a fault of the grader's own (one of this process's own, never a shared one)."""
    _session.restart()


@atexit.register
def stop() -> None:
    """Kill every zygote this process started (in a forked process, only close its copies of their sockets),
    and what is left of the workers it killed. At exit, or where a process leaves without running atexit."""
    _session.stop()
    _session.stop_sharing()
