"""The walls around the worker: which ones this machine allows, and raising them.

Two halves of one job. The judge calls :func:`isolation` once to choose the
strongest walls available (namespaces as root, namespaces in a user namespace,
or limits only) and starts the worker behind ``Isolation.prefix``. The worker,
before any student code runs, calls :func:`confine` to finish the job from the
inside: read-only mounts, hidden course folders, a private working directory,
resource limits, and an unprivileged identity.

Why ``unshare`` and not bubblewrap: both start in 15-30 ms here
(``hyperfine`` on ``true``), nothing next to the 2 s ``import torch``; unshare
ships with util-linux on every Linux machine, GitHub's runners included, while
bubblewrap is an extra package. The hand-written mounts below fail loudly: a
mount that stays writable is reported in what is in force.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

NAMESPACES = ("--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc")
# The zygote stays in the judge's PID namespace (so the judge can find and kill each worker);
# every worker it forks gets PID, mount and network namespaces of its own.
ZYGOTE_NAMESPACES = ("--net", "--mount")
UNPRIVILEGED_UID = 65534  # nobody
CLONE_NEWUSER = 0x10000000


@dataclasses.dataclass(frozen=True)
class Isolation:
    """How the worker is walled off on this machine (decided once per process)."""

    prefix: tuple[str, ...] = ()     # command that starts the worker in its namespaces
    zygote_prefix: tuple[str, ...] = ()   # the same for the zygote: no network, own mounts (see zygote.py)
    mount_namespace: bool = False
    user_namespace: bool = False
    uid: int | None = None

    @property
    def strong(self) -> bool:
        return bool(self.prefix)

    def describe(self) -> str:
        if not self.prefix:
            return ("WEAK: limits only, no namespaces on this machine (student code can read and write "
                    "what the grader's user can)")
        return "namespaces (no network, own process tree)"


@functools.cache
def isolation() -> Isolation:
    """The strongest isolation this machine allows: root namespaces, user namespaces, or none."""
    unshare = shutil.which("unshare")
    if unshare is None or os.environ.get("AUTOGRADER_NO_NAMESPACES"):
        return Isolation()
    if os.geteuid() == 0 and _runs([unshare, *NAMESPACES, "true"]):
        zygote = (unshare, *ZYGOTE_NAMESPACES)
        if _python_is_world_readable():
            return Isolation((unshare, *NAMESPACES), zygote, mount_namespace=True, uid=UNPRIVILEGED_UID)
        # Python lives where an unprivileged user cannot read it (pyenv under /root):
        # stay uid 0 but give up every capability in a nested user namespace.
        return Isolation((unshare, *NAMESPACES), zygote, mount_namespace=True, user_namespace=True)
    user = (unshare, "--user", "--map-root-user")
    if _runs([*user, *NAMESPACES, "true"]):
        return Isolation((*user, *NAMESPACES), (*user, *ZYGOTE_NAMESPACES), mount_namespace=True,
                         user_namespace=True)
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


# -- inside the worker ----------------------------------------------------------------------

def confine(config: dict) -> list[str]:
    """Lock this process in before any student code runs; return what is in force.

    Inside the fresh mount namespace the sandbox started us in (when it could):
    every mount read-only, the directories the student must not see (hidden
    cases, solutions, other submissions, .git with its tokens) under empty
    read-only tmpfs, and small private tmpfs on the working directory and
    /dev/shm. Then the resource limits and, when we are root, an unprivileged
    identity for good. Limits set here hold whatever launched us.
    """
    import resource
    import signal

    in_force = []
    home = os.getcwd()
    limits = config["limits"]
    if config.get("mount_namespace"):
        with open("/proc/self/mounts") as mounts:
            targets = [line.split()[1] for line in mounts]
        writable = [target for target in targets if not target.startswith(("/proc", "/sys", "/dev"))
                    and not _mount(["-o", "remount,bind,ro", target])]
        for directory in config.get("hide", []):
            if os.path.isdir(directory) and not _mount(["-t", "tmpfs", "-o", "ro,size=4k,mode=0555", "tmpfs",
                                                        directory]):
                raise OSError(f"could not hide {directory}")
        size = limits["file_bytes"] * 4
        for directory in ("/dev/shm", home):
            if os.path.isdir(directory) and not _mount(["-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs",
                                                        directory]):
                raise OSError(f"could not mount a private tmpfs on {directory}")
        in_force.append(f"read-only filesystem ({len(writable)} mounts stayed writable: {writable[:3]})"
                        if writable else "read-only filesystem")
        in_force.append(f"{len(config.get('hide', []))} course folders hidden; private {size >> 20} MiB "
                        "working directory")
    for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_NOFILE", limits["open_files"]),
                        ("RLIMIT_AS", limits["address_space"])):
        kind = getattr(resource, name)
        _, hard = resource.getrlimit(kind)
        if value is None or value == resource.RLIM_INFINITY:
            value = hard
        elif hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))
    in_force.append("rlimits")
    uid = config.get("uid")
    if uid is not None and os.geteuid() == 0:
        os.chown(home, uid, uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        in_force.append(f"uid {uid}")
    elif config.get("user_namespace"):
        # We are root only inside our own user namespace; a nested one without
        # a mapping leaves no capability over the mounts set up above.
        import ctypes

        if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")
        in_force.append("no capabilities (nested user namespace)")
    os.chdir(home)
    os.environ["HOME"] = os.environ["TMPDIR"] = os.environ["MPLCONFIGDIR"] = home
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file fails the write, not the worker
    return in_force


def _mount(arguments: list[str]) -> bool:
    return subprocess.run(["mount", *arguments], capture_output=True).returncode == 0
