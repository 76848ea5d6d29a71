"""nbgrader configuration: solutions/ is the source, assignments/ the release.

Regenerate the release after editing a source notebook:

    nbgrader generate_assignment 01_corr2d --force --no-db

(``--no-db``: the repository keeps no gradebook; on the instructor's grading
machine ``python -m autograder written register submitted`` creates one from the
release and grade-all's results, for the formgrader. Never run generate_assignment
there: ``--force`` deletes the release folder before writing it again.)
"""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "data"]

# Student code must not be able to slow nbgrader down forever.
c.ExecutePreprocessor.timeout = 300
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# `nbgrader autograde` records the scores of the autograder's sandboxed grading, and runs the notebook
# (for its outputs alone) in a kernel behind the same walls; the feedback page shows student text as text.
# See autograder/nbgrader/parity.py.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.nbgrader.parity import (  # noqa: E402
    GradeInTheSandbox,
    InertStudentText,
    ShowSandboxedScores,
    WalledExecute,
)

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                      GradeInTheSandbox, CheckCellMetadata]
c.Autograde.autograde_preprocessors = [WalledExecute, ShowSandboxedScores, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.GenerateFeedback.preprocessors = [GetGrades, InertStudentText, CSSHTMLHeaderPreprocessor]
