"""Start and police the worker process that runs student code.

The worker gets its own process group and session, an empty environment, a
fresh temporary working directory, resource limits (see ``LIMITS`` below and
``autograder/README.md``) and a wall-clock deadline on every request; a missed
deadline kills the whole group. Requests and replies travel over two private
pipes, never over the worker's stdout, which goes to a capped log file.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import worker as codec

WORKER_SCRIPT = Path(codec.__file__).resolve()
LOG_TAIL_BYTES = 2000


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; see autograder/README.md for the reasons."""

    cpu_seconds: int = 600          # CPU time over the worker's whole life
    file_bytes: int = 64 << 20      # largest file (and stdout log) it may write
    open_files: int = 256
    address_space: int = 4 << 30    # virtual memory: a worker with torch loaded peaks near 0.6 GiB
    processes: int = 64             # RLIMIT_NPROC, when the worker runs as its own user
    call_seconds: float = 30.0      # default wall-clock deadline per request
    start_seconds: float = 120.0    # for the worker to start (import torch) before any student code
    load_seconds: float = 60.0      # deadline for one notebook cell at load time


LIMITS = Limits()


class WorkerFault(Exception):
    """The worker died or missed its deadline; it has been killed."""

    def __init__(self, reason: str, log_tail: str = "", timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = log_tail
        self.timed_out = timed_out


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


REPOSITORY = WORKER_SCRIPT.parent.parent
# What student code must not see: the judge, hidden cases, solutions, other
# submissions and feedback, the tests, and .git (where a CI checkout keeps its token).
HIDDEN = ("autograder", "solutions", "submitted", "autograded", "feedback", "tests", "gradebook", ".git")
UNPRIVILEGED_UID = 65534  # nobody


@dataclasses.dataclass(frozen=True)
class Isolation:
    """How the worker is walled off on this machine (decided once per process)."""

    prefix: tuple[str, ...] = ()     # command that starts the worker in its namespaces
    mount_namespace: bool = False
    user_namespace: bool = False
    uid: int | None = None

    def describe(self) -> str:
        if not self.prefix:
            return "no namespaces (unshare unavailable): limits, deadlines and an empty environment only"
        parts = ["own network (no access)", "own process tree", "read-only filesystem, private working directory",
                 "judge, cases, solutions and .git hidden"]
        parts.append(f"runs as uid {self.uid}" if self.uid is not None else "no capabilities (nested user namespace)")
        return "; ".join(parts)


NAMESPACES = ("--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc")


@functools.cache
def isolation() -> Isolation:
    """The strongest isolation this machine allows: root namespaces, user namespaces, or none."""
    unshare = shutil.which("unshare")
    if unshare is None or os.environ.get("AUTOGRADER_NO_NAMESPACES"):
        return Isolation()
    if os.geteuid() == 0 and _runs([unshare, *NAMESPACES, "true"]):
        if _python_is_world_readable():
            return Isolation((unshare, *NAMESPACES), mount_namespace=True, uid=UNPRIVILEGED_UID)
        # Python lives where an unprivileged user cannot read it (pyenv under /root):
        # stay uid 0 but give up every capability in a nested user namespace.
        return Isolation((unshare, *NAMESPACES), mount_namespace=True, user_namespace=True)
    user = (unshare, "--user", "--map-root-user", *NAMESPACES)
    if _runs([*user, "true"]):
        return Isolation(user, mount_namespace=True, user_namespace=True)
    return Isolation()


def _python_is_world_readable() -> bool:
    """Can an unprivileged user run this interpreter and import torch?"""
    import stat

    import numpy

    for target in (Path(sys.executable).resolve(), Path(sys.base_prefix) / "lib", Path(numpy.__file__)):
        for path in [target, *target.parents]:
            mode = path.stat().st_mode
            needed = stat.S_IXOTH if path.is_dir() else stat.S_IROTH
            if not mode & needed:
                return False
    return True


def _runs(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _effective(limits: Limits) -> dict:
    """The limits as the worker applies them. A CUDA context reserves far more
    address space than any RLIMIT_AS that would stop a memory bomb, so with a GPU
    that one limit is lifted (the wall clock and the GPU's own memory remain)."""
    values = dataclasses.asdict(limits)
    if _cuda_present():
        values["address_space"] = resource.RLIM_INFINITY
    return values


@functools.cache
def _cuda_present() -> bool:
    import torch

    return torch.cuda.is_available()


# Course folders whose HIDDEN entries the worker must not see: this package's
# repository, and the one holding the release being graded (the CLI adds it).
course_roots: set[Path] = {REPOSITORY}


def hidden_directories() -> list[str]:
    return sorted({str(root / name) for root in course_roots for name in HIDDEN if (root / name).is_dir()})


_spare: WorkerProcess | None = None
_refills = 0


def prestart(limits: Limits = LIMITS, refills: int = 0) -> None:
    """Start a worker now, before it is needed, so its ``import torch`` overlaps the judge's.

    ``refills``: how many more times to start a fresh spare when one is taken
    (grading N notebooks wants N - 1). Unused spares are killed at exit.
    """
    global _spare, _refills
    _refills = refills
    if _spare is None:
        _spare = WorkerProcess(limits)
        atexit.register(_drop_spare)


def new_worker(limits: Limits = LIMITS) -> WorkerProcess:
    """A started worker: the spare when it fits, else a new one."""
    global _spare, _refills
    spare, _spare = _spare, None
    if spare is not None and (spare.limits != limits or not spare.alive):
        spare.close()
        spare = None
    if spare is not None and _refills > 0:
        _refills -= 1
        _spare = WorkerProcess(limits)
    return spare or WorkerProcess(limits)


def _drop_spare() -> None:
    global _spare
    if _spare is not None:
        _spare.close()
        _spare = None


class WorkerProcess:
    """One live worker: send a request, get a reply within a deadline."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self.home = tempfile.mkdtemp(prefix="autograder-worker-")
        self.log_path = Path(self.home) / ".worker-output.log"
        request_read, self.request_write = os.pipe()
        self.reply_read, reply_write = os.pipe()
        walls = isolation()
        config = {"fd_in": request_read, "fd_out": reply_write, "limits": _effective(limits),
                  "mount_namespace": walls.mount_namespace, "user_namespace": walls.user_namespace,
                  "uid": walls.uid, "hide": hidden_directories()}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*walls.prefix, sys.executable, "-I", "-X", "faulthandler", str(WORKER_SCRIPT), json.dumps(config)],
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

    # -- transport with deadlines -------------------------------------------
    def request(self, header: dict, blobs: list[bytes], seconds: float) -> tuple[dict, list[bytes]]:
        deadline = time.monotonic() + seconds
        if self.process.poll() is not None:
            raise self._fault("the worker is no longer running")
        try:
            self._send(header, blobs, deadline)
            return self._receive(deadline)
        except TimeoutError:
            raise self._fault(f"no answer within {seconds:g} s (wall clock)", timed_out=True) from None
        except (EOFError, BrokenPipeError, OSError, ValueError) as error:
            self.process_wait(1.0)
            raise self._fault(self._death_reason(error)) from None

    def _send(self, header: dict, blobs: list[bytes], deadline: float) -> None:
        head = codec.json.dumps(dict(header, blobs=[len(b) for b in blobs])).encode()
        view = memoryview(b"".join([codec._HEADER.pack(len(head)), head, *blobs]))
        while view:
            self._wait(self.request_write, deadline, write=True)
            view = view[os.write(self.request_write, view[: 1 << 16]):]

    def _receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        (head_size,) = codec._HEADER.unpack(self._read(codec._HEADER.size, deadline))
        if head_size > codec.MAX_MESSAGE_BYTES:
            raise ValueError("reply header too large")
        header = codec.json.loads(self._read(head_size, deadline))
        sizes = header.get("blobs", [])
        if not isinstance(sizes, list) or sum(int(s) for s in sizes) > codec.MAX_MESSAGE_BYTES:
            raise ValueError("reply too large")
        return header, [self._read(int(size), deadline) for size in sizes]

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            self._wait(self.reply_read, deadline)
            chunk = os.read(self.reply_read, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError("the worker closed its reply pipe")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    @staticmethod
    def _wait(fd: int, deadline: float, write: bool = False) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready = select.select([], [fd], [], remaining) if write else select.select([fd], [], [], remaining)
        if not any(ready):
            raise TimeoutError

    # -- faults and shutdown -------------------------------------------------
    def process_wait(self, seconds: float) -> None:
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            pass

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

    def _fault(self, reason: str, timed_out: bool = False) -> WorkerFault:
        tail = self.log_tail()
        self.close()
        return WorkerFault(reason, tail, timed_out)

    def log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        """Kill the whole process group and remove the working directory."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        else:
            try:  # children the worker left behind in its group
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.process_wait(5.0)
        for fd in (self.request_write, self.reply_read):
            try:
                os.close(fd)
            except OSError:
                pass
        self.request_write = self.reply_read = -1
        shutil.rmtree(self.home, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self.request_write >= 0 and self.process.poll() is None
