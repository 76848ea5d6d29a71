"""nbgrader's side of the course: its course directory, as ``nbgrader_config.py`` sets it, and its database.

Everything goes through nbgrader's own classes (``nbgrader.coursedir.CourseDirectory``,
``nbgrader.api.Gradebook``), so nbgrader's commands and its formgrader read what we write, and we read what
the formgrader wrote: :func:`read_marks` gives each written answer's grade (a
:class:`~autograder.model.Mark`: the score given by hand, or nbgrader's automatic 0 for an answer left as
released, and the grader's comment).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from autograder.course import COURSE
from autograder.model import Mark


def course_directory(submitted: Path, config_file: Path = COURSE.nbgrader_config):
    """nbgrader's ``CourseDirectory`` of the course whose ``submitted/<student>/<assignment>/`` folder is
    ``submitted``: the settings of ``config_file`` (nbgrader_config.py), with the folder above ``submitted``
    as its root, as in nbgrader's layout. Its ``db_url`` is nbgrader's default there,
    ``sqlite:///<root>/gradebook.db``, unless the configuration names another."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config_file = Path(config_file)
    config = (PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()
              if config_file.is_file() else Config())
    submitted = Path(submitted).resolve()
    if "CourseDirectory" in config:
        config.CourseDirectory.pop("root", None)      # the course directory is where ``submitted`` is
    coursedir = CourseDirectory(config=config, root=str(submitted.parent))
    coursedir.submitted_directory = submitted.name
    return coursedir


def database_url(submitted: Path) -> str:
    """The database of nbgrader's default layout: ``gradebook.db`` beside the ``submitted/`` folder (what
    ``grade-all`` reads by default, and what the formgrader opens when started in that folder)."""
    return f"sqlite:///{Path(submitted).resolve().parent / 'gradebook.db'}"


@contextmanager
def open_gradebook(url: str, course_id: str = ""):
    """nbgrader's ``Gradebook`` at ``url`` (created when missing), closed on leaving.

    ``course_id`` as nbgrader's commands pass it (``CourseDirectory.course_id``, "" unless configured).
    """
    from nbgrader import api

    # A new database asks the `alembic` program for its schema version: the one beside this interpreter,
    # whether or not its environment is activated. Starting that program costs seconds; alembic's own
    # ScriptDirectory, read here, gives the same head (`alembic heads`) at once.
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
    asked, api.get_alembic_version = api.get_alembic_version, _alembic_head
    try:
        gradebook = api.Gradebook(url, course_id)
    finally:
        api.get_alembic_version = asked
    with gradebook:
        yield gradebook


def _alembic_head() -> str:
    """nbgrader's database schema version, as ``alembic heads`` prints it for nbgrader's migrations."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def mark_of(grade, comment) -> Mark:
    """A cell's :class:`Mark` from nbgrader's ``Grade`` and ``Comment`` rows, scored as nbgrader scores it: the
    manual score if there is one, else the automatic one (for a written answer, 0 when left as released),
    plus any extra credit."""
    extra = float(grade.extra_credit or 0.0)
    text = (comment.manual_comment or "").strip() or None if comment is not None else None
    if grade.manual_score is not None:
        return Mark(float(grade.manual_score) + extra, "graded", text, extra)
    if grade.auto_score is not None:
        return Mark(float(grade.auto_score) + extra, "unanswered", text, extra)
    return Mark(None, "pending", text)


def read_marks(url: str) -> dict[str, dict[str, Mark]]:
    """student -> "01_corr2d/explain_flip" -> :class:`Mark`, for every graded cell of every submission that
    nbgrader's database at ``url`` holds. Reads only: nothing is graded, no notebook opened.

    The written answers are what counts (the autograder's results give the code's points): readers take the
    cells their results.json lists under ``manual``.
    """
    from nbgrader.api import Assignment

    marks: dict[str, dict[str, Mark]] = {}
    with open_gradebook(url) as gradebook:
        for assignment in gradebook.db.query(Assignment).all():
            for notebook in assignment.notebooks:
                for submitted in notebook.submissions:
                    comments = {comment.name: comment for comment in submitted.comments}
                    mine = marks.setdefault(submitted.assignment.student.id, {})
                    for grade in submitted.grades:
                        mine[f"{assignment.name}/{grade.name}"] = mark_of(grade, comments.get(grade.name))
    return marks
