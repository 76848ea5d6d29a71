"""Hidden inputs: random at grade time, reproducible from a recorded seed.

A notebook's seed is the first 53 bits (exact in any JSON reader) of

    HMAC-SHA256(course secret, "<assignment>\\n<student>")

where ``student`` is ``student:<id>`` for nbgrader's layout
(``.../submitted/<id>/<assignment>/<assignment>.ipynb``) or ``--student``, and
otherwise ``notebook:<sha256 of the source of the graded cells>``: rerunning
the notebook or editing its prose keeps the seed, changing an answer draws new
inputs. The course secret (``$AUTOGRADER_COURSE_SECRET``, else the file
``autograder/cases/course_secret``) is instructor material, so nobody without
it can tell which inputs a notebook will meet.

Every case then draws from streams of its own, derived from the seed and the
case's name: ``torch.manual_seed`` is set before each case runs and
``cases.common.rng()`` hands out ``random.Random`` streams, so one case's
inputs do not depend on which other cases ran or how far they got. The worker
is seeded from the notebook's seed as well (``random``, ``numpy``, ``torch``).
Under ``nbgrader autograde`` (``autograder.nbgrader.kernel``) the student comes from the
``autograded/<id>/`` folder the notebook runs in, and ``$AUTOGRADER_SEED``
replays a recorded seed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
from pathlib import Path

from autograder.course import COURSE
from autograder.model import Seed  # noqa: F401 - the record, for the callers of this module

SECRET_ENV = "AUTOGRADER_COURSE_SECRET"
SECRET_FILE = COURSE.secret_file
SEED_BITS = 53
NBGRADER_FOLDERS = ("submitted", "autograded", "feedback")
PUSH = "push of commit"   # in the origin of a push's seed, as results.json's seeds record it
NUL_LINE = "\n\0"     # between the graded cells' sources, in the content a notebook's seed is drawn from
DEFAULT = 0    # cases run outside a grading (the project's own tests) draw from this seed


def course_secret() -> bytes:
    """The instructor's secret, or b"" where there is none (the student template)."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret and SECRET_FILE.is_file():
        secret = SECRET_FILE.read_text(encoding="utf-8").strip()
    return secret.encode()


def mix(key: bytes, *parts: object) -> int:
    """A SEED_BITS-bit number that only someone who knows ``key`` can compute from ``parts``."""
    message = "\n".join(str(part) for part in parts).encode()
    return int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:8], "big") >> (64 - SEED_BITS)


def nbgrader_student(path: Path, assignment: str) -> str | None:
    """The student id of a notebook stored in nbgrader's layout, else None."""
    parts = Path(path).resolve().parts
    if len(parts) >= 4 and parts[-2] == assignment and parts[-4] in NBGRADER_FOLDERS:
        return parts[-3]
    return None


def for_notebook(path: Path, assignment: str, sources: list[str], student: str | None = None,
                 override: int | None = None, push: str | None = None) -> Seed:
    """The seed of one graded notebook: ``override`` (``--seed``), else derived from who and what it is.

    ``push`` (the commit a push's feedback is for) draws from a seed of that push: HMAC of the assignment, the
    student and ``push:<commit>``, a message that no final grading's seed is made of. So the final grading meets
    inputs that no push's feedback showed, and grading the same commit again meets the same ones.
    """
    if override is not None:
        return Seed(override, "--seed")
    student = student or nbgrader_student(path, assignment)
    if student:
        who = f"student:{student}"
    else:
        who = f"notebook:{hashlib.sha256(NUL_LINE.join(sources).encode()).hexdigest()}"
    if push is not None:
        return Seed(mix(course_secret(), assignment, who, f"push:{push}"),
                    f"{_origin(student)}, {PUSH} {push[:12] or '(unknown)'}")
    return Seed(mix(course_secret(), assignment, who), _origin(student))


def _origin(student: str | None) -> str:
    return f"student {student!r}" if student else "notebook content"


# -- the streams of one case ----------------------------------------------------------

_case: list = [DEFAULT, 0]      # [the running case's seed, streams handed out so far]


def start_case(seed: int, case: str) -> None:
    """Before a case runs: its own torch seed and a fresh count of ``rng()`` streams."""
    import torch

    _case[:] = [mix(str(seed).encode(), case), 0]
    torch.manual_seed(_case[0])


def rng() -> random.Random:
    """A new stream for the running case (the n-th call gets the n-th stream, on every regrade)."""
    _case[1] += 1
    return random.Random(mix(str(_case[0]).encode(), "rng", _case[1]))


def worker_seed(seed: int) -> int:
    """The seed of the generators student code may use (``random``, numpy, torch), drawn from the notebook's
    seed: the same notebook behaves the same. The worker only receives it (``values.seed_generators``)."""
    return mix(str(seed).encode(), "worker")
