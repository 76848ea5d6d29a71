"""Start and police the worker process that runs student code.

The worker gets its own session and process group, an empty environment, a
fresh temporary working directory, the walls of ``autograder.confine`` and a
wall-clock deadline on every request; a missed deadline, a malformed or forged
reply, or a dead worker kills it with everything it started. Requests and
replies travel over two private pipes (``autograder.wire``), never over the
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
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import confine, wire

PACKAGE_PARENT = Path(__file__).resolve().parent.parent
LOG_TAIL_BYTES = 2000
EXIT_GRACE_SECONDS = 5.0


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
    processes: int = 64             # RLIMIT_NPROC, when the worker runs as its own user
    call_seconds: float = dataclasses.field(default_factory=lambda: _seconds("AUTOGRADER_CALL_SECONDS", 10.0))
    load_seconds: float = dataclasses.field(default_factory=lambda: _seconds("AUTOGRADER_LOAD_SECONDS", 30.0))
    # Time one notebook may lose to calls that ran out of time; once spent, calls get short deadlines.
    budget_seconds: float = dataclasses.field(default_factory=lambda: _seconds("AUTOGRADER_BUDGET_SECONDS", 45.0))
    spent_call_seconds: float = 2.0  # the deadline of a call once the budget is spent
    start_seconds: float = 120.0    # for the worker to start (import torch) before any student code


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


# What student code must not see: the judge, hidden cases, solutions, other
# submissions and feedback, the tests, and .git (where a CI checkout keeps its token).
HIDDEN = ("autograder", "solutions", "submitted", "autograded", "feedback", "tests", "gradebook", ".git")
# Course folders whose HIDDEN entries the worker must not see: this package's
# repository, and the one holding the release being graded (the CLI adds it).
course_roots: set[Path] = {PACKAGE_PARENT}


def hidden_directories() -> list[str]:
    return sorted({str(root / name) for root in course_roots for name in HIDDEN if (root / name).is_dir()})


def _effective(limits: Limits) -> dict:
    """The limits as the worker applies them. A CUDA context reserves far more
    address space than any RLIMIT_AS that would stop a memory bomb, so with a GPU
    that one limit is lifted (the wall clock and the GPU's own memory remain)."""
    values = dataclasses.asdict(limits)
    if _cuda_present():
        values["address_space"] = None
    return values


@functools.cache
def _cuda_present() -> bool:
    import torch

    return torch.cuda.is_available()


_STARTER = ("import sys; sys.path.insert(0, sys.argv[1]); import autograder.worker as worker; worker.main()")


class WorkerProcess:
    """One live worker: send a request, get a reply within a deadline."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.walls = confine.isolation()
        _become_subreaper()
        self.home = tempfile.mkdtemp(prefix="autograder-worker-")
        self.log_path = Path(self.home) / ".worker-output.log"
        request_read, self.request_write = os.pipe()
        self.reply_read, reply_write = os.pipe()
        config = {"fd_in": request_read, "fd_out": reply_write, "limits": _effective(self.limits),
                  "mount_namespace": self.walls.mount_namespace, "user_namespace": self.walls.user_namespace,
                  "uid": self.walls.uid, "hide": hidden_directories()}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*self.walls.prefix, sys.executable, "-I", "-X", "faulthandler", "-c", _STARTER,
                 str(PACKAGE_PARENT), json.dumps(config)],
                pass_fds=(request_read, reply_write),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                env=_worker_environment(self.home),
                start_new_session=True,
            )
        os.close(request_read)
        os.close(reply_write)
        self.pid_namespace = ""   # learnt after start-up: every process in it dies with the worker

    # -- transport with deadlines -------------------------------------------------------
    def request(self, header: dict, blobs: list[bytes], seconds: float) -> tuple[dict, list[bytes]]:
        """Send one request and return the reply that carries its nonce; any fault kills the worker."""
        if not self.alive:
            raise self._fault("the worker is no longer running")
        deadline = time.monotonic() + seconds
        try:
            wire.send(self.request_write, dict(header, deadline=seconds), blobs, deadline)
            reply, reply_blobs = wire.receive(self.reply_read, deadline)
        except TimeoutError:
            raise self._fault(f"no answer within {seconds:g} s (wall clock)", timed_out=True) from None
        except wire.WireError as error:
            raise self._fault(f"the worker broke the protocol ({error})") from None
        except (EOFError, OSError) as error:
            self._wait(1.0)
            raise self._fault(self._death_reason(error)) from None
        if reply.get("nonce") != header.get("nonce"):
            raise self._fault("the worker's reply was not the answer to this call "
                              "(something wrote into the grader's pipe)")
        if "hung" in reply:
            hung = reply["hung"] if isinstance(reply["hung"], dict) else None
            raise self._fault(f"no answer within {seconds:g} s (wall clock)", timed_out=True, hung=hung)
        return reply, reply_blobs

    def _death_reason(self, error: Exception) -> str:
        code = self.process.poll()
        if code is None:
            return f"the worker broke the protocol ({error})"
        if code < 0:
            name = signal.Signals(-code).name
            hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed, maybe out of memory)",
                    "SIGSEGV": " (crashed)"}.get(name, "")
            return f"the worker was ended by {name}{hint}"
        return f"the worker exited with status {code} (sys.exit or os._exit in your code?)"

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
        """Remember the worker's PID namespace (once it answered), to wait for all of it at close."""
        if self.walls.strong:
            self.pid_namespace = _pid_namespace_of_child(self.process.pid)

    def close(self, wait: bool = True) -> None:
        """Kill the worker and everything it started; with ``wait``, return once all of it is gone.

        A worker killed for a fault is not waited for (its processes take about a
        second to exit); the next close that waits, or the grader's exit, does it.
        """
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.kill()
        self._wait(EXIT_GRACE_SECONDS)
        _dying.append((self.pid_namespace, self.process.pid))
        if wait:
            reap()
        for fd in (self.request_write, self.reply_read):
            try:
                os.close(fd)
            except OSError:
                pass
        self.request_write = self.reply_read = -1
        shutil.rmtree(self.home, ignore_errors=True)

    def _wait(self, seconds: float) -> None:
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            pass

    @property
    def alive(self) -> bool:
        return self.request_write >= 0 and self.process.poll() is None


def _pid_namespace_of_child(pid: int) -> str:
    """The PID namespace of ``unshare``'s child (the worker's init), or "" if unknown."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return os.readlink(f"/proc/{children[0]}/ns/pid") if children else ""
    except (OSError, IndexError):
        return ""


def _processes() -> list[tuple[int, str, int]]:
    """(pid, PID namespace, session id) of every live process this user may inspect.

    A zombie is dead already: this process reaps the ones it inherited (see
    :func:`_become_subreaper`) and leaves the others to their parent.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            namespace = os.readlink(f"/proc/{entry.name}/ns/pid")
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            state, parent, session = fields[0], int(fields[1]), int(fields[3])
        except (OSError, ValueError, IndexError):
            continue
        if state == "Z":
            if parent == os.getpid():
                _reap_zombie(int(entry.name))
            continue
        found.append((int(entry.name), namespace, session))
    return found


def _reap_zombie(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


@functools.cache
def _become_subreaper() -> None:
    """Inherit the worker's orphans (its PID namespace's init, once ``unshare`` is killed), to reap them.

    Otherwise they wait, as zombies, for the machine's init, which may be slow to reap.
    """
    import ctypes

    PR_SET_CHILD_SUBREAPER = 36
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_dying: list[tuple[str, int]] = []   # (PID namespace, session) of killed workers


def reap() -> None:
    """Kill what is left of every killed worker (its PID namespace, or its session); wait until it is gone."""
    deadline = time.monotonic() + EXIT_GRACE_SECONDS
    while _dying:
        namespaces = {namespace for namespace, _ in _dying if namespace}
        sessions = {session for _, session in _dying}
        strays = [pid for pid, namespace, sid in _processes() if namespace in namespaces or sid in sessions]
        if not strays or time.monotonic() > deadline:
            _dying.clear()
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


# -- a worker started ahead of need ------------------------------------------------------------

_spare: WorkerProcess | None = None
_refills = 0


def prestart(limits: Limits | None = None, refills: int = 0) -> None:
    """Start a worker now, before it is needed, so its ``import torch`` overlaps the judge's.

    ``refills``: how many more times to start a fresh spare when one is taken
    (grading N notebooks wants N - 1). Unused spares are killed at exit.
    """
    global _spare, _refills
    limits = limits or Limits()
    _refills = max(_refills, refills)
    if _spare is not None and _spare.limits != limits:
        _spare.close(wait=False)
        _spare = None
    if _spare is None:
        _spare = WorkerProcess(limits)


def new_worker(limits: Limits) -> WorkerProcess:
    """A started worker: the spare when it fits (then a new spare, while refills last), else a new one."""
    global _spare, _refills
    if _spare is not None and not _spare.alive:
        _spare.close(wait=False)
        _spare = None
    if _spare is None or _spare.limits != limits:
        return WorkerProcess(limits)
    spare, _spare = _spare, None
    if _refills > 0:
        _refills -= 1
        _spare = WorkerProcess(limits)
    return spare


@atexit.register
def _drop_spare() -> None:
    global _spare
    if _spare is not None:
        _spare.close()
        _spare = None
    reap()

