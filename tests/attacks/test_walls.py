"""Can one student's code reach a classmate, the course's secrets or another checkout, or lower a classmate's score?

The class-level attacks: a worker that lists every file it can read; a student who copies a classmate's
function out of the class folder, wherever the class and the output are placed; a student who holds
every process slot while classmates are graded. Each grades real notebooks with ``grade-all`` as the
instructor runs it (a subprocess) or talks to workers directly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.notebook import Cell
from autograder.sandbox.confine import isolation
from autograder.sandbox.process import Limits
from autograder.student.sandboxed import Student
from tests.support import ASSIGNMENTS, build_submission, run_cli, solution_code

pytestmark = [pytest.mark.skipif(not isolation().namespaces,
                                 reason="this machine allows no namespaces: the worker cannot be walled off")]

ASSIGNMENT = "01_corr2d"
MARK = "bobs-own-corr2d-5f1c"          # in bob's notebook only: found anywhere else, it was copied
SECRET_MARK = "another-checkouts-secret-9d2e"
DEADLINES = {"AUTOGRADER_CALL_SECONDS": "5", "AUTOGRADER_LOAD_SECONDS": "20", "AUTOGRADER_BUDGET_SECONDS": "20"}

# The places a student would search for the class: temporary folders, homes, workspaces of CI runners.
SEARCH = ("/tmp", "/home", "/work", "/root", "/opt", "/srv", "/var", "/github", "/__w", "/runner")
COPY_A_CLASSMATE = f'''
import json
import os
import sys


def _class_notebooks():
    for place in {SEARCH!r}:
        for top, dirs, files in os.walk(place):
            dirs[:] = [d for d in dirs if d not in ("site-packages", ".venv", "proc")]
            for name in files:
                if name.endswith(".ipynb") or name in ("results.json", "feedback.md", "course_secret"):
                    yield os.path.join(top, name)


FOUND = []
for path in _class_notebooks():
    FOUND.append(path)
    if not path.endswith(".ipynb"):
        continue
    try:
        with open(path) as handle:
            cells = json.load(handle)["cells"]
    except (OSError, ValueError, KeyError):
        continue
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if "{MARK}" in source:
            with open(os.path.join(os.getcwd(), "copied_from_a_classmate.py"), "w") as handle:
                handle.write("import torch\\n" + source)     # the notebook's setup cell imports torch
            sys.path.insert(0, os.getcwd())
            from copied_from_a_classmate import corr2d  # noqa: F401 - no exec: an import of a file
'''
REPORT_WHAT_WAS_FOUND = '''
def receptive_field(kernel_sizes, strides=None):
    raise NotImplementedError("found: " + "; ".join(FOUND[:40]))
'''


def _layout(root: Path, name: str) -> tuple[Path, Path]:
    """(submitted, out) of three layouts: nbgrader's course folder, the every-push round's, and one of the
    instructor's own choosing, with the output far from the class."""
    return {"default": (root / "course" / "submitted", root / "course" / "gradebook"),
            "every-push": (root / "inbox" / "submitted", root / "gradebook-shard-1"),
            "custom-out": (root / "term" / "class", root / "elsewhere" / "results" / "2026")}[name]


def _another_checkout(root: Path) -> Path:
    """A second checkout of the course on the same machine, with its secret and a token in .git."""
    checkout = root / "another-checkout"
    (checkout / "autograder" / "cases").mkdir(parents=True)
    (checkout / "autograder" / "cases" / "course_secret").write_text(SECRET_MARK)
    (checkout / ".git").mkdir()
    (checkout / ".git" / "config").write_text(f"[http]\n\textraheader = AUTHORIZATION: basic {SECRET_MARK}\n")
    return checkout


def _grade_all(submitted: Path, out: Path, jobs: int = 2) -> subprocess.CompletedProcess:
    env = dict(os.environ, **DEADLINES)
    return run_cli("grade-all", submitted, "--out", out, "--jobs", jobs, "--release", ASSIGNMENTS, env=env,
                   cwd=submitted.parent, timeout=900)


@pytest.mark.parametrize("layout", ["default", "every-push", "custom-out"])
def test_a_student_cannot_copy_a_classmates_function_wherever_the_class_lives(tmp_path, layout):
    submitted, out = _layout(tmp_path, layout)
    _another_checkout(tmp_path)
    bob = solution_code(ASSIGNMENT)["corr2d"].replace("def corr2d", f"# {MARK}\ndef corr2d", 1)
    build_submission(submitted / "bob", ASSIGNMENT, {"corr2d": bob})
    build_submission(submitted / "mallory", ASSIGNMENT, {"corr2d": COPY_A_CLASSMATE,
                                                          "receptive_field": REPORT_WHAT_WAS_FOUND}, solved=False)
    run = _grade_all(submitted, out)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    mallory = json.loads((out / "mallory" / "results.json").read_text())
    assert mallory["score"] == 0, [t["name"] for t in mallory["tests"] if t["score"]]
    said = json.dumps(mallory) + (out / "mallory" / "feedback.md").read_text()
    for secret in ("bob", MARK, SECRET_MARK, "course_secret", str(out)):
        assert secret not in said, f"mallory's feedback carries {secret!r}"
    assert json.loads((out / "bob" / "results.json").read_text())["score"] == 11


# -- what a worker can see at all --------------------------------------------------------------------

WALK = Cell("walk", '''
import os


def walk(allowed, exceptions):
    """Every file this process can read and every folder it can write, outside what it is allowed."""
    readable, outside, writable = 0, [], []
    for top, dirs, files in os.walk("/"):
        if top == "/proc":
            dirs[:] = []
            continue
        if os.access(top, os.W_OK) and not top.startswith(tuple(allowed["writable"])):
            writable.append(top)
        for name in files:
            path = os.path.join(top, name)
            if not os.path.islink(path) and os.access(path, os.R_OK):
                readable += 1
                if not path.startswith(tuple(allowed["readable"])) and path not in exceptions:
                    outside.append(path)
    return readable, len(outside), outside[:40], writable[:40]
''')


def _interpreter_and_packages() -> list[str]:
    """The folders a worker needs to run Python with the course's packages, as this judge sees them."""
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))}
    system = [f"/usr/{name}" for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec", "share")]
    return sorted(os.path.realpath(place) + "/" for place in {*places, *system, "/bin", "/sbin", "/lib", "/lib64"})


# Files of /etc and /dev that Python, its C libraries and a font cache look for; nothing of the machine's own.
SYSTEM_FILES = ["/etc/passwd", "/etc/group", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ld.so.cache",
                "/etc/localtime", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]


def test_a_worker_reads_only_the_interpreter_its_packages_and_its_own_home(tmp_path):
    for layout in ("default", "every-push", "custom-out"):
        submitted, out = _layout(tmp_path, layout)
        build_submission(submitted / "bob", ASSIGNMENT)
        (out / "bob").mkdir(parents=True)
        (out / "bob" / "results.json").write_text('{"score": 11}')
    _another_checkout(tmp_path)
    with Student([WALK], Limits(call_seconds=300)) as student:
        home = student._ensure_worker().home
        private = [home, "/tmp", "/dev/shm"]
        allowed = {"readable": [*_interpreter_and_packages(), *private, "/sys/devices/system/cpu/", "/etc/fonts/"],
                   "writable": private}
        readable, count, outside, writable = student.call("walk", allowed, SYSTEM_FILES, timeout=300)
    print(f"\n{readable} readable files; {count} outside the interpreter, its packages and its own home")
    assert count == 0, f"{count} readable files outside the allowlist, e.g. {outside}"
    assert not writable, f"writable outside its own home and temporary folders: {writable}"


# -- resources: one student's are that student's -------------------------------------------------------

PROBE = Cell("probe", "def ready():\n    return True\n")


def _uid_and_user_namespace(pid: int) -> tuple[int, str, str]:
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
    limit = next(line.split()[2] for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                 if line.startswith("Max processes"))
    return uid, os.readlink(f"/proc/{pid}/ns/user"), limit


def test_two_workers_never_share_a_process_limit():
    with Student([PROBE]) as first, Student([PROBE]) as second:
        assert first.ready() and second.ready()
        a, b = (_uid_and_user_namespace(student._worker.pid) for student in (first, second))
    if os.geteuid() == 0:
        assert a[0] != b[0] and 0 not in (a[0], b[0]), f"both workers run as uid {a[0]}, {b[0]} on the machine"
    else:
        assert a[1] != b[1], "both workers count their processes in one user namespace"
    assert a[2] != "unlimited" and int(a[2]) <= 256, f"a worker may start {a[2]} processes"


HOLD_EVERY_SLOT_AND_FILL_THE_DISK = '''
import os
import time

WROTE = {}
for place in (os.getcwd(), "/tmp", "/dev/shm", OUT, os.path.dirname(OUT)):   # OUT: the class's gradebook, guessed
    try:
        with open(os.path.join(place, "filled-by-aaron"), "wb") as handle:
            for _ in range(1024):
                handle.write(b"x" * (1 << 20))
    except OSError:
        pass
    try:
        WROTE[place] = os.path.getsize(os.path.join(place, "filled-by-aaron")) >> 20
    except OSError:
        WROTE[place] = 0
HELD = 0
for _ in range(400):
    try:
        child = os.fork()
    except OSError:
        break
    if child == 0:
        time.sleep(40)
        os._exit(0)
    HELD += 1
time.sleep(15)     # hold them while the classmates are graded


def corr2d(X, K):
    raise NotImplementedError(f"held {HELD} processes; wrote {WROTE} MiB")
'''


def test_holding_every_process_slot_or_filling_the_disk_costs_a_classmate_nothing(tmp_path):
    submitted, out = _layout(tmp_path, "every-push")
    attack = f"OUT = {str(out)!r}\n" + HOLD_EVERY_SLOT_AND_FILL_THE_DISK
    build_submission(submitted / "aaron", ASSIGNMENT, {"corr2d": attack}, solved=False)
    for student in ("bob", "carol", "dave"):
        build_submission(submitted / student, ASSIGNMENT)
    run = _grade_all(submitted, out)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    for student in ("bob", "carol", "dave"):
        data = json.loads((out / student / "results.json").read_text())
        assert data["score"] == 11 and not data["internal_error"], (student, data["output"])
    said = (out / "aaron" / "feedback.md").read_text()
    held = re.search(r"held (\d+) processes", said)
    assert held and int(held[1]) >= 32, "the attack ran: it held every slot it could"
    assert not list(tmp_path.rglob("filled-by-aaron")), "the gradebook's disk was written to"
