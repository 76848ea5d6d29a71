"""``nbgrader autograde`` that scores as ``python -m autograder grade`` does.

nbgrader gives a test cell all its points or none: a public check that fails stops the cell before
its hidden block runs, so the hidden checks that pass count for nothing, and the from-scratch rule is
not checked at all. :class:`ScoreAsTheAutograder` (``nbgrader_config.py`` puts it in autograde's
sanitising steps, after nbgrader has restored the instructor's test cells) turns every test cell into
one call of :func:`autograder.inline.grade_item`, whose value nbgrader records as partial credit: the
item's points as the autograder computes them, with the same cases, seed and split.

The hidden cases run in the notebook's kernel (nbgrader's trust model: student code and checks share a
process), so the from-scratch rule is the static scan's half only; the sandboxed ``python -m
autograder`` is the one to trust.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

RUN_HIDDEN = re.compile(r"run_hidden\(\s*[\"']([^\"']+)[\"']")


class ScoreAsTheAutograder(NbGraderPreprocessor):
    """Each test cell that runs hidden cases becomes ``grade_item("<assignment>/<item>", globals())``."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            found = RUN_HIDDEN.findall(cell.source) if cell.cell_type == "code" and meta.get("grade") else []
            if found:
                cell.source = f"from autograder.inline import grade_item\n\ngrade_item({found[0]!r}, globals())"
        return nb, resources
