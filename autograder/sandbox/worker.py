"""The only process that runs student code: it loads the notebook's cells and answers calls.

Forked by ``autograder.sandbox.zygote`` for the judge, in an empty environment and a
temporary directory, behind the walls of ``autograder.sandbox.confine``. It reads requests from
one pipe and answers on another, over ``autograder.sandbox.wire``; the student's stdout
and stderr go to a capped file the judge never parses. Objects that are not
data (a student's ``nn.Module``) stay here, named by a numeric handle.

Every answer to a call carries what the call did: its value, the arguments it
modified, and the watched routes it took (forbidden operators seen by the
dispatch monitor, numpy/scipy convolutions and autograd seen by tripwires:
``autograder.sandbox.monitor``), each with the notebook cell whose code took it. A call still running shortly
before its CPU deadline or its wall-clock cap is answered by a watchdog thread, naming the student's
function it is stuck in, so the judge can fail later calls that reach it at once.
The watchdog is started once, before any student code runs: nothing a student
does later (holding every process slot, say) can keep it from starting.

Everything this module needs is imported before :func:`confine.confine` moves
the worker into a root of its own, where this package's folder does not exist.
"""

from __future__ import annotations

import builtins
import ctypes
import os
import select
import signal
import sys
import threading
import time
import traceback
from typing import Any

import numpy as np

from autograder.sandbox import confine, monitor, values, wire

PR_SET_PDEATHSIG = 1
# The watchdog's clocks, bound before any student code runs: replacing time.monotonic later changes nothing here.
_cpu, _monotonic = time.process_time, time.monotonic


class Hung(Exception):
    """Raised in place of a student function that did not return in an earlier call."""


class Worker:
    """Runs the notebook's code cells, then answers calls on its namespace."""

    def __init__(self, fd_in: int, fd_out: int, in_force: list[str]) -> None:
        import torch  # already imported by the zygote, as is pyplot

        self.torch = torch
        self.fd_in, self.fd_out = fd_in, fd_out
        self.in_force = in_force
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self.objects: dict[int, Any] = {}
        self.trusted_cells: set[str] = set()
        self._lock = threading.Lock()
        self._open_nonce: str | None = None   # the request not answered yet
        self._main = threading.get_ident()
        self.watchdog = Watchdog(self._report_hang)
        self._pin_threads()
        self.monitor = monitor.for_this_process()   # the tripwires, the scipy import hook, the dispatch watch

    def _pin_threads(self) -> None:
        """Torch stays on the threads the sandbox gave it (``OMP_NUM_THREADS``), whatever a notebook asks for.

        Deadlines and speed checks count the worker's CPU time: threads that a notebook adds spin while they
        wait, which would charge it for time that bought nothing, and would make a verdict depend on the cores.
        """
        torch = self.torch

        def ignored(count: int) -> None:
            """Ignored while grading: the grader runs torch on one thread."""
            int(count)

        torch.set_num_threads = torch.set_num_interop_threads = ignored

    # -- handles ----------------------------------------------------------------------------
    def keep(self, obj: Any) -> dict:
        handle = id(obj)
        self.objects[handle] = obj
        return {"__ref__": handle, "type": type(obj).__name__, "mro": list(values.type_names(obj))}

    def resolve(self, data: dict) -> Any:
        try:
            return self.objects[data["__ref__"]]
        except KeyError:
            raise KeyError(f"no object with handle {data['__ref__']}") from None

    # -- requests -----------------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            try:
                header, blobs = wire.receive(self.fd_in)
            except EOFError:
                return
            nonce = str(header.get("nonce", ""))
            self._open_nonce = nonce
            deadline, wall, margin = header.get("deadline"), header.get("wall"), header.get("margin")
            if all(isinstance(value, (int, float)) for value in (deadline, wall, margin)) and deadline > 2 * margin:
                self.watchdog.arm(nonce, deadline - margin, wall - margin)
            reply_blobs: list[bytes] = []
            try:
                reply = self.handle(header, blobs, reply_blobs)
            except BaseException as error:  # noqa: BLE001 - student code may raise anything
                reply_blobs = []
                reply = {"ok": False, "error": describe_error(error)}
            self.watchdog.disarm()
            self._answer(nonce, reply, reply_blobs)

    def _answer(self, nonce: str, reply: dict, blobs: list[bytes]) -> None:
        """Send the one answer to request ``nonce`` (the watchdog may have sent it already)."""
        with self._lock:
            if self._open_nonce != nonce:
                return
            self._open_nonce = None
            reply["routes"] = self.monitor.take()
            reply["nonce"] = nonce
            try:
                wire.send(self.fd_out, reply, blobs)
            except (TypeError, ValueError, wire.WireError) as error:
                wire.send(self.fd_out, {"ok": False, "error": describe_error(error), "routes": reply["routes"],
                                        "nonce": nonce}, [])

    def _report_hang(self, nonce: str) -> None:
        """Answer a call that is still running: where in the student's code it is stuck."""
        frame = sys._current_frames().get(self._main)
        hung = None
        while frame is not None:
            cell = frame.f_code.co_filename
            if cell.startswith("<") and cell.strip("<>") not in self.trusted_cells:
                hung = {"cell": cell.strip("<>"), "function": frame.f_code.co_name, "line": frame.f_lineno}
                break
            frame = frame.f_back
        self._answer(nonce, {"ok": False, "hung": hung}, [])

    def handle(self, header: dict, blobs: list[bytes], reply_blobs: list[bytes]) -> dict:
        op = header.get("op")
        if op == "ping":
            if isinstance(header.get("seed"), int):
                values.seed_generators(header["seed"])
            return {"ok": True, "in_force": self.in_force}
        if op == "exec":
            return self.exec_cell(str(header["source"]), str(header["name"]), bool(header.get("trusted")))
        if op == "block":
            return self.block(header["names"], str(header["reason"]))
        if op == "release":
            for handle in header.get("handles", []):
                self.objects.pop(handle, None)
            return {"ok": True}
        if op == "echo":  # for speed checks: a call's whole cost, this many bytes back, and no student code
            size = min(int(header.get("reply_bytes", 0)), wire.MAX_MESSAGE_BYTES // 2)
            target = lambda *args, **kwargs: np.zeros(size, np.uint8)  # noqa: E731
        else:
            target = self._target(header["target"])
        args = wire.decode(header.get("args", []), blobs, self.resolve, restore_grad=True)
        kwargs = wire.decode(header.get("kwargs", {"__dict__": {}}), blobs, self.resolve, restore_grad=True)
        before = values.snapshot(args, kwargs)
        if op == "getattr":
            value = getattr(target, str(header["name"]))
        elif op == "setattr":
            value = self._setattr(target, str(header["name"]), args[0])
        elif op in ("call", "echo"):
            value = self.monitor.call(target, args, kwargs)
        elif op == "count":
            value = self.monitor.counted(target, args, kwargs)
        elif op == "grad":
            dout = wire.decode(header["dout"], blobs)
            value = self.monitor.grad(target, args, kwargs, header["wrt"], dout)
        else:
            raise ValueError(f"unknown operation {op!r}")
        return {"ok": True, "value": wire.encode(value, reply_blobs, self.keep),
                "mutated": list(values.mutated(before, args, kwargs)),
                "ops": self.monitor.ops if op in ("call", "count") else None,
                "steps": self.monitor.steps if op == "count" else None}

    def _target(self, target: Any) -> Any:
        if isinstance(target, dict):
            return self.resolve(target)
        if target not in self.namespace:
            raise NameError(f"name {target!r} is not defined by your notebook")
        return self.namespace[target]

    def _setattr(self, target: Any, name: str, value: Any) -> None:
        torch = self.torch
        current = getattr(target, name, None)
        if isinstance(current, torch.nn.Parameter) and isinstance(value, torch.Tensor):
            value = torch.nn.Parameter(value.detach().clone())
        setattr(target, name, value)

    def exec_cell(self, source: str, name: str, trusted: bool) -> dict:
        self.monitor.cells.add(name)
        if trusted:
            self.trusted_cells.add(name)
        try:
            code = compile(source, f"<{name}>", "exec")
            exec(code, self.namespace)  # noqa: S102 - this process exists to run it
        except BaseException as error:  # noqa: BLE001
            return {"ok": False, "error": describe_error(error)}
        return {"ok": True}

    def block(self, names: list, reason: str) -> dict:
        """Replace the student's functions that hung earlier with ones that fail at once."""
        for name in names:
            if callable(self.namespace.get(name)):
                def blocked(*args, _name=name, **kwargs):
                    raise Hung(f"{_name} {reason}")
                self.namespace[name] = blocked
        return {"ok": True}


class Watchdog(threading.Thread):
    """One thread for the worker's life: armed for each call, it reports a call still running near its limits.

    The limits are the judge's: CPU seconds of this process and wall-clock seconds, each less a margin.
    Its clocks were bound when this module was imported, before any student code could replace them.
    """

    POLL = 0.05   # seconds between two readings of the CPU clock while a call runs

    def __init__(self, report) -> None:
        super().__init__(name="autograder-watchdog", daemon=True)
        self._report = report
        self._armed: tuple[str, float, float] | None = None   # (nonce, CPU time to report at, wall time to)
        self._changed = threading.Condition()
        self.start()

    def arm(self, nonce: str, cpu_seconds: float, wall_seconds: float) -> None:
        with self._changed:
            self._armed = (nonce, _cpu() + cpu_seconds, _monotonic() + wall_seconds)
            self._changed.notify()

    def disarm(self) -> None:
        with self._changed:
            self._armed = None
            self._changed.notify()

    def _due(self) -> bool:
        return self._armed is not None and (_cpu() >= self._armed[1] or _monotonic() >= self._armed[2])

    def run(self) -> None:
        while True:
            with self._changed:
                while not self._due():
                    self._changed.wait(None if self._armed is None else
                                       max(0.0, min(self.POLL, self._armed[2] - _monotonic())))
                nonce, self._armed = self._armed[0], None
            self._report(nonce)


def describe_error(error: BaseException) -> dict:
    """Type, message and the student's own frames of a traceback."""
    frames = [
        f"{frame.filename}, line {frame.lineno}, in {frame.name}"
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith("<")
    ]
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<unprintable message>"
    try:
        name = str(type(error).__name__)
    except BaseException:  # noqa: BLE001
        name = "Exception"
    return {"type": name, "kinds": list(values.exception_kinds(error)), "message": message, "where": frames[-5:]}


def run(config: dict) -> None:
    """Raise the walls, then serve; called in the process the zygote forked for this worker."""
    fd_in, fd_out = config["fd_in"], config["fd_out"]
    # Student code must not reach the protocol pipes through a child process.
    os.set_inheritable(fd_in, False)
    os.set_inheritable(fd_out, False)
    in_force = confine.confine(config)
    die_with_parent(config.get("alive", -1))    # again: confine's change of uid cleared the first request
    Worker(fd_in, fd_out, in_force).serve()
    os._exit(0)


def die_with_parent(alive: int, keep: bool = False) -> None:
    """SIGKILL to this worker when the process that waits for it ends, and at once if it has ended already.

    That process (the zygote's child) holds the write end of the pipe ``alive``, so finding the pipe's end
    here means it is gone: in its own PID namespace the worker cannot ask ``getppid()``. ``keep``: leave the
    pipe open, to ask once more."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if alive < 0:
        return
    if select.select([alive], [], [], 0)[0]:
        os._exit(1)
    if not keep:
        os.close(alive)
