"""The walls around student code: which ones this machine allows, and raising them.

Two halves of one job. The judge calls :func:`isolation` once to choose the strongest walls the
machine allows (namespaces as root, namespaces inside a user namespace, or limits only) and
:func:`allowlist` to list what student code may see. Inside the process that will run student
code (a worker the zygote forked, or the kernel that ``nbgrader autograde`` starts through
:func:`main`), :func:`confine` raises them before any student code runs:

- **a filesystem built from nothing**: a fresh tmpfs becomes the root (``pivot_root``), and into it
  go, read-only, the interpreter, the standard library, the installed packages and the system's
  shared libraries; a few device nodes; a synthetic ``/etc``; a private ``/proc``; and small private
  tmpfs for the home, ``/tmp`` and ``/dev/shm``. Nothing else exists there: no submission, result,
  hidden case or course secret of anyone, no other checkout, no ``.git``, wherever they live. The
  old root is detached, so nothing can climb back to it.
- **resources of its own**: rlimits, and when the judge is root a uid no other process has (a base
  plus the process's own pid on the machine), so ``RLIMIT_NPROC`` counts this worker's processes
  alone; inside a user namespace, a nested one of its own does the same.

Why ``unshare`` and hand-written mounts, not bubblewrap: both start in 15-30 ms (``hyperfine`` on
``true``), nothing next to ``import torch``; but bubblewrap confines a program it executes, and the
zygote's workers are forked, not executed. The mounts are ``mount(2)`` calls through ctypes, as
bubblewrap makes them; a bind that cannot be made read-only stops the worker (fails closed).
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import json
import os
import platform
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import traceback
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent   # the autograder package
NAMESPACES = ("--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc")
# The zygote stays in the judge's PID namespace (so the judge can find and kill each worker);
# every worker it forks gets PID, mount and network namespaces of its own.
ZYGOTE_NAMESPACES = ("--net", "--mount")
# Each worker of a root judge runs as WORKER_UID_BASE + its pid on the machine: a uid no other process
# has, above the ranges that systems hand out (systemd's container ranges end at 1,879,048,191) and
# below 2**31.
WORKER_UID_BASE = 1_900_000_000
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 4096, 0x4000, 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
SYSCALL_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}
SYSTEM = ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec",
          "/usr/share", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC = ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts")   # for the dynamic linker, the C library, fc-list
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


@dataclasses.dataclass(frozen=True)
class Isolation:
    """How student code is walled off on this machine (decided once per process)."""

    zygote_prefix: tuple[str, ...] = ()   # command that starts the zygote: no network, own mounts (see zygote.py)
    namespaces: bool = False              # each worker gets mount, PID and network namespaces and a root of its own
    user_namespace: bool = False          # the judge is not root: the walls go up inside a user namespace

    @property
    def strong(self) -> bool:
        return self.namespaces

    def describe(self) -> str:
        if not self.namespaces:
            return ("WEAK: limits only, no namespaces on this machine (student code can read and write "
                    "what the grader's user can)")
        return "namespaces (no network, own process tree, a root filesystem of its own)"


@functools.cache
def isolation() -> Isolation:
    """The strongest isolation this machine allows: root namespaces, user namespaces, or none."""
    unshare = shutil.which("unshare")
    if unshare is None or os.environ.get("AUTOGRADER_NO_NAMESPACES") or _pivot_root() is None:
        return Isolation()
    if os.geteuid() == 0 and _runs([unshare, *NAMESPACES, "true"]):
        return Isolation((unshare, *ZYGOTE_NAMESPACES), namespaces=True)
    user = (unshare, "--user", "--map-root-user")
    if _runs([*user, *NAMESPACES, "true"]):
        return Isolation((*user, *ZYGOTE_NAMESPACES), namespaces=True, user_namespace=True)
    return Isolation()


def _runs(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _pivot_root() -> int | None:
    return SYSCALL_PIVOT_ROOT.get(platform.machine())


# -- what student code may see (the judge's side) ---------------------------------------------------

@functools.cache
def allowlist() -> dict:
    """Everything student code may see, as host paths: read-only folders and files, device nodes, and the
    folders to cover again with an empty tmpfs (this package, where it was installed into a bound folder).

    The interpreter, its standard library and the installed packages (``sys.prefix`` and its relatives,
    ``sysconfig``'s library folders), the system's programs and shared libraries, the dynamic linker's
    cache and the time zone; with a GPU, its device nodes and ``/sys``. Nothing of the course.
    """
    import site

    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
              *site.getsitepackages()}
    python |= {os.path.realpath(path) for path in python}     # a link is bound as a link: its target too
    libraries = [entry for entry in os.environ.get("LD_LIBRARY_PATH", "").split(":") if entry.startswith("/")]
    read_only = [*SYSTEM, *python, *libraries, *ETC, "/sys/devices/system/cpu"]
    devices = list(DEVICES)
    if _cuda_present():
        read_only.append("/sys")
        devices += sorted(str(path) for path in Path("/dev").glob("nvidia*") if path.is_char_device())
    read_only = _outermost(path for path in read_only if os.path.lexists(path) and os.path.abspath(path) != "/")
    hidden = [str(PACKAGE)] if any(_inside(str(PACKAGE), path) for path in read_only) else []
    return {"read_only": read_only, "devices": devices, "hidden": hidden}


def _outermost(paths) -> list[str]:
    """The paths (absolute, normalised, symbolic links kept as links), without those inside another."""
    kept: list[str] = []
    for path in sorted({os.path.abspath(path) for path in paths}):
        if not any(_inside(path, outer) for outer in kept):
            kept.append(path)
    return kept


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@functools.cache
def _cuda_present() -> bool:
    import torch

    return torch.cuda.is_available()


def readable_by_anyone(paths: list[str]) -> bool:
    """Can a uid of its own run the interpreter and read the packages once they are bound into a new root?

    Only the bound folders' own modes count: the folders above them are made anew, open to all.
    """
    for path in [*paths, sys.executable]:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        needed = stat.S_IROTH | stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH
        if mode & needed != needed:
            return False
    return True


def walls(home: str, limits: dict, **extra) -> dict:
    """The configuration :func:`confine` raises: this machine's isolation, the allowlist, a home, the limits.

    ``home`` is the private folder student code works in; ``extra`` may name ``base`` (an empty host folder
    to build the new root on; default ``<home>/.root``), ``writable`` (host folders bound read-write),
    ``copies`` (host folders whose files start out in the home) and ``cwd``.
    """
    chosen = isolation()
    spec = {"home": home, "limits": limits, "namespaces": chosen.namespaces,
            "user_namespace": chosen.user_namespace, **extra}
    if chosen.namespaces:
        spec.update(allowlist())
        spec["own_uid"] = not chosen.user_namespace and readable_by_anyone(spec["read_only"])
    return spec


# -- inside the worker ----------------------------------------------------------------------------

def confine(spec: dict) -> list[str]:
    """Lock this process in before any student code runs; return what is in force.

    With namespaces, the caller has just entered fresh mount and PID namespaces and is the first
    process of the PID namespace (see ``zygote._child``): the root is rebuilt from the allowlist
    here. Then the resource limits and an identity of its own. Limits set here hold whatever
    launched us.
    """
    import resource

    in_force = []
    home = spec["home"]
    limits = spec["limits"]
    if spec.get("namespaces"):
        host_pid = int(os.readlink("/proc/self"))    # the machine's /proc is still mounted here
        in_force.append(_new_root(spec))
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
    processes = (limits["processes"], limits["processes"])
    if spec.get("namespaces") and os.geteuid() == 0 and spec.get("own_uid"):
        uid = WORKER_UID_BASE + host_pid
        os.chown(home, uid, uid)
        for folder in spec.get("writable", []):     # and what is in it (a kernel's connection file)
            for path in [folder, *(entry.path for entry in os.scandir(folder))]:
                os.chown(path, uid, uid, follow_symlinks=False)
        resource.setrlimit(resource.RLIMIT_NPROC, processes)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        # (no number here: a regrade gives the same results file)
        in_force.append(f"a uid of its own, at most {limits['processes']} processes")
    elif spec.get("namespaces"):
        # Root only inside our own user namespace (or root whose interpreter others cannot read): a nested
        # user namespace without a mapping leaves no capability, and counts its processes on its own.
        if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")
        resource.setrlimit(resource.RLIMIT_NPROC, processes)
        in_force.append(f"no capabilities (nested user namespace), at most {limits['processes']} processes"
                        if spec.get("user_namespace") else "no capabilities (nested user namespace), but uid 0 of "
                        "the machine, whose process limit the kernel does not enforce: the interpreter or its "
                        "packages cannot be read by other users")
    os.chdir(home)
    os.environ["HOME"] = os.environ["TMPDIR"] = os.environ["MPLCONFIGDIR"] = home
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file fails the write, not the worker
    return in_force


def _new_root(spec: dict) -> str:
    """Build the root from the allowlist on a tmpfs at ``<home>/.root``, then pivot into it. Returns what was done."""
    root = spec.get("base") or os.path.join(spec["home"], ".root")
    os.makedirs(root, exist_ok=True)
    tmpfs_bytes = spec["limits"]["file_bytes"] * 4
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    for folder in ("/tmp", "/dev/shm"):      # first: a folder bound below /tmp (a checkout's venv) stays seen
        os.makedirs(root + folder)
        _mount("tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_bytes},mode=1777")
    for source in spec["read_only"]:
        _bind(root, source, writable=False)
    for source in spec.get("writable", []):
        _bind(root, source, writable=True)
    for device in spec["devices"]:
        _bind(root, device, writable=True)
    for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{link}")
    os.makedirs(root + spec["home"], exist_ok=True)
    _mount("tmpfs", root + spec["home"], "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_bytes},mode=0700")
    for folder in spec.get("hidden", []):
        if os.path.isdir(root + folder):
            _mount("tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0555")
    for source in spec.get("copies", []):
        _copy_files(source, root + spec["home"], tmpfs_bytes)
    _write_etc(root)
    os.makedirs(f"{root}/proc", exist_ok=True)
    # Of our own PID namespace, and read-only: nothing there is for student code to write (sysrq-trigger...).
    _mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    os.chdir(root)
    if libc.syscall(_pivot_root(), b".", b".") != 0:
        raise OSError(ctypes.get_errno(), "pivot_root failed")
    if libc.umount2(b".", MNT_DETACH) != 0:      # the old root, stacked under the new one: gone
        raise OSError(ctypes.get_errno(), "could not detach the old root")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return (f"a root of its own: {len(spec['read_only'])} read-only folders (interpreter, packages, system "
            f"libraries), private {tmpfs_bytes >> 20} MiB home, /tmp and /dev/shm")


def _bind(root: str, source: str, writable: bool) -> None:
    target = root + source
    if os.path.islink(source):       # /lib -> usr/lib on merged-/usr systems: the same link
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a"):
            pass
    _mount(source, target, None, MS_BIND | MS_REC)
    if not writable:
        # The source mount's own flags must stay (a user namespace may not clear them).
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _mount_flags(source))


def _mount_flags(path: str) -> int:
    found = os.statvfs(path).f_flag
    pairs = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
             (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))
    return sum(flag for st_flag, flag in pairs if found & st_flag)


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    arguments = [None if text is None else text.encode() for text in (source, target, kind)]
    if ctypes.CDLL(None, use_errno=True).mount(*arguments, flags, None if data is None else data.encode()):
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source or ''} on {target}: {os.strerror(error)}")


def _write_etc(root: str) -> None:
    """Just enough of /etc for the C library and Python: who is who, and no name service but files."""
    os.makedirs(f"{root}/etc", exist_ok=True)
    files = {"passwd": "root:x:0:0:root:/:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n",
             "group": "root:x:0:\nnogroup:x:65534:\n",
             "hosts": "127.0.0.1 localhost\n::1 localhost\n",
             "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n"}
    for name, text in files.items():
        with open(f"{root}/etc/{name}", "w") as handle:
            handle.write(text)


def _copy_files(source: str, target: str, most: int) -> None:
    """The regular files of ``source`` (one level, at most ``most`` bytes in all) into the folder ``target``."""
    left = most
    for entry in sorted(os.scandir(source), key=lambda entry: entry.name):
        if entry.is_file(follow_symlinks=False) and entry.stat().st_size <= left:
            shutil.copyfile(entry.path, os.path.join(target, entry.name))
            left -= entry.stat().st_size


# -- a program behind the walls (the kernel of nbgrader autograde) -----------------------------------

def main(argv: list[str] | None = None) -> None:
    """``python -m autograder.sandbox.confine SPEC -- PROGRAM ARGS...``: run a program behind the walls of ``SPEC``.

    The process enters new mount, PID and network namespaces (and a user namespace when not root), forks
    the program's process as the first of its PID namespace, raises the walls there and executes the
    program with an environment of ``SPEC``'s alone. This process stays to wait for it and passes on the
    signals it gets (an interrupt from Jupyter); when it dies, the program dies.
    """
    argv = sys.argv[1:] if argv is None else argv
    spec, program = json.loads(argv[0]), argv[argv.index("--") + 1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if spec.get("namespaces"):
        uid, gid = os.getuid(), os.getgid()
        user = 0 if os.geteuid() == 0 else CLONE_NEWUSER
        if libc.unshare(user | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare failed")
        if user:
            for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "could not make the mounts private")
    child = os.fork()
    if child:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(number, lambda number, frame: os.kill(child, number))
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    try:
        confine(spec)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)   # after the change of uid, which clears it
        os.chdir(spec.get("cwd", spec["home"]))
        os.execve(program[0], program, spec["environment"])
    except BaseException as error:  # noqa: BLE001 - say why on stderr, which the caller reads
        traceback.print_exc()
        print(f"autograder.sandbox.confine: could not start {program[:1]} behind the walls: {error!r}", file=sys.stderr)
    os._exit(70)


if __name__ == "__main__":
    main()
