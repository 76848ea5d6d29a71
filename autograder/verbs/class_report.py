"""Write a graded class's view again from what is on disk: ``report.html``, and ``similarity.csv`` from the code.

    python -m autograder class-report gradebook/ [--submitted submitted/] [--release assignments/] [--threshold 0.6]

It reads ``grade-all``'s (or ``merge``'s) output folder, and with ``--submitted`` the students' notebooks
(their source text only: nothing runs), so it can be run again after a merge of shards or once the written
answers are graded by hand. Without ``--submitted`` the page lists the pairs of the similarity.csv already there.
"""

from __future__ import annotations

import argparse
import sys

from autograder.pipeline import UsageError
from autograder.report import class_view, similarity


def run(args: argparse.Namespace) -> int:
    if not (args.gradebook / "gradebook.csv").is_file():
        print(f"usage: {args.gradebook}: no gradebook.csv there (the --out folder of grade-all or merge)",
              file=sys.stderr)
        return 2
    if args.submitted is not None and not args.submitted.is_dir():
        print(f"usage: {args.submitted}: no such folder (expected nbgrader's submitted/<student>/<assignment>/)",
              file=sys.stderr)
        return 2
    try:
        threshold = similarity.DEFAULT_THRESHOLD if args.threshold is None else args.threshold
        page = class_view.write_report(args.gradebook, args.submitted, args.release, threshold)
    except UsageError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    print(f"class report: {page}")
    if args.submitted is not None:
        print(f"similarity of the students' code: {page.parent / class_view.SIMILARITY}")
    return 0
