"""nbgrader configuration: solutions/ is the source, assignments/ the release.

Regenerate the release after editing a source notebook:

    nbgrader generate_assignment 01_corr2d --force --no-db

(``--no-db``: the repository keeps no gradebook; the instructor's grading
machine creates one when it collects submissions.)
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

# `nbgrader autograde` scores every test cell as `python -m autograder grade` scores its item (partial
# credit, the public/hidden split, the from-scratch rule's static half): see autograder/nbgrader_parity.py.
from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)

from autograder.nbgrader_parity import ScoreAsTheAutograder  # noqa: E402

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                      ScoreAsTheAutograder, CheckCellMetadata]
