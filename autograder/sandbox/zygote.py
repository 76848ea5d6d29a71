"""The workers' parent: it imports torch once, then forks one worker per notebook.

Starting a Python that imports torch costs seconds of CPU; forking one that
already did costs milliseconds. The judge starts this process once, behind
the namespaces of ``confine.isolation()`` (no network, its own mounts), and
asks it for workers over a Unix socket, handing over each worker's pipes and
log file with ``SCM_RIGHTS``. No student code ever runs here. ``grade-all``
starts one for all its judge processes: it serves a socket per judge, so
their requests never interleave.

Each worker is forked into fresh namespaces of its own: the child enters new
mount, PID and network namespaces and forks again, so the worker is the first
process of a PID namespace, and killing it kills everything it started. The
child stays behind to wait for it and sends its exit status down the reply
pipe; the judge finds the worker as the child's only child. A worker whose
child died first is the zygote's to reap (it is their subreaper), whichever
judge asked for it. The worker raises
its own walls (``confine.confine``: a root filesystem built from the allowlist,
limits, a uid of its own) and serves. Without namespaces the same two forks
happen, in a new session.

Nothing here outlives the process that started it, even one killed with SIGKILL: the zygote, each
child and each worker ask the kernel for SIGKILL when their parent ends (``PR_SET_PDEATHSIG``), and
check that the parent did not end before they asked. A worker asks again once its walls are up (a
change of uid clears the request), and, being the first process of its PID namespace, takes all it
started with it.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def main(config: dict) -> None:
    """Serve spawn requests until the judges have closed every control socket."""
    _die_with_parent(config.get("parent"))    # before the seconds of `import torch`
    import matplotlib
    import torch  # noqa: F401 - imported once, here, for every worker

    from autograder.sandbox import worker  # noqa: F401

    # The notebooks' setup cells plot: every worker gets pyplot already imported.
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    # Children, and the workers orphaned when their waiting parent dies first, are reaped by the kernel.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    zygote = os.getpid()
    controls = [socket.socket(fileno=fd) for fd in config["control_fds"]]
    selector = selectors.DefaultSelector()
    for control in controls:
        selector.register(control, selectors.EVENT_READ)
    while selector.get_map():
        for key, _ in selector.select():
            control = key.fileobj
            try:
                message, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
            except OSError:
                message, fds = b"", []
            if not message:     # that judge is gone
                selector.unregister(control)
                control.close()
                continue
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                try:
                    selector.close()
                    for each in controls:
                        each.close()
                    _child(request, fds, namespaces=config["namespaces"], zygote=zygote)
                finally:
                    os._exit(70)
            for fd in fds:
                os.close(fd)
            try:
                control.send(json.dumps({"pid": pid}).encode())
            except OSError:
                selector.unregister(control)
                control.close()
    os._exit(0)


def _child(request: dict, fds: list[int], namespaces: bool, zygote: int) -> None:
    """In the forked child: new namespaces, then the worker as their first process; report its end."""
    from autograder.sandbox import wire, worker

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    _die_with_parent(zygote)
    fd_in, fd_out, log = fds
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(request["home"])
    libc = ctypes.CDLL(None, use_errno=True)
    if namespaces:
        if libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare failed")
        # Mounts made from here on stay in this worker's namespace.
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "could not make the mounts private")
    # The worker's parent holds the write end of this pipe as long as it lives: in its PID namespace the worker
    # cannot ask getppid() whether its parent is still there, so it reads the pipe's end instead.
    alive, holding = os.pipe()
    pid = os.fork()
    if pid:
        os.close(fd_in)
        os.close(alive)
        try:
            _, status = os.waitpid(pid, 0)
            wire.send(fd_out, {"nonce": None, "ended": os.waitstatus_to_exitcode(status)}, [])
        finally:
            os._exit(0)
    os.close(holding)
    worker.die_with_parent(alive, keep=True)
    os.environ.update(request["environment"])
    sys.argv = ["worker"]
    worker.run(dict(request["config"], fd_in=fd_in, fd_out=fd_out, alive=alive))


def _die_with_parent(parent: int | None = None) -> None:
    """SIGKILL to this process when its parent ends; at once if the parent (pid ``parent``) has ended already.

    The kernel sends it when the parent's thread that forked this process ends: every fork here is made by
    the main thread of a process that ends with it."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)     # orphaned before the request was made: nobody is left to ask for anything
