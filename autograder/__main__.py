"""``python -m autograder``: never import from the folder being graded.

``python -m`` puts the working directory first on ``sys.path``. Graded folders
hold files students wrote (a numpy.py, a torch.py...): drop that entry, unless
the working directory is the repository this package lives in.
"""

import os
import sys

_repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [entry for entry in sys.path
               if os.path.abspath(entry or ".") != os.getcwd() or os.getcwd() == _repository]

from autograder.cli import main  # noqa: E402 - after the path is made safe

sys.exit(main())
