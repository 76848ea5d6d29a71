"""Start and police the worker process that runs student code.

The worker gets its own process group and session, an empty environment, a
fresh temporary working directory, resource limits (see ``LIMITS`` below and
``autograder/README.md``) and a wall-clock deadline on every request; a missed
deadline kills the whole group. Requests and replies travel over two private
pipes, never over the worker's stdout, which goes to a capped log file.
"""

from __future__ import annotations

import atexit
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
    address_space: int = 16 << 30   # virtual memory; torch reserves a few GiB
    call_seconds: float = 30.0      # default wall-clock deadline per request
    load_seconds: float = 60.0      # deadline for one notebook cell at load time


LIMITS = Limits()


class WorkerFault(Exception):
    """The worker died or missed its deadline; it has been killed."""

    def __init__(self, reason: str, log_tail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = log_tail


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
    }


def _limit_resources(limits: Limits) -> None:
    """Runs in the child between fork and exec."""
    def cap(kind: int, value: int) -> None:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value if hard == resource.RLIM_INFINITY else hard))

    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_AS, limits.address_space)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file fails the write, not the worker


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
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-X", "faulthandler", str(WORKER_SCRIPT),
                 str(request_read), str(reply_write)],
                pass_fds=(request_read, reply_write),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                env=_worker_environment(self.home),
                start_new_session=True,
                preexec_fn=lambda: _limit_resources(limits),
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
            raise self._fault(f"no answer within {seconds:g} s (wall clock)") from None
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

    def _fault(self, reason: str) -> WorkerFault:
        tail = self.log_tail()
        self.close()
        return WorkerFault(reason, tail)

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
