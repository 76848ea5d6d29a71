"""``python -m autograder release OUT``: build the repository students get (``autograder.release.repository``)."""

from __future__ import annotations

import argparse
import sys

from autograder.release import repository as template


def run(args: argparse.Namespace) -> int:
    if args.out.exists():
        print(f"usage: {args.out} exists already: name a new folder", file=sys.stderr)
        return 2
    try:
        built = template.build(args.out, args.assignments)
    except ValueError as error:
        print(f"usage: {error}", file=sys.stderr)
        return 2
    notebooks = sorted(path.parent.name for path in built.glob("assignments/*/*.ipynb"))
    print(f"built the student repository in {built}: {', '.join(notebooks)}; no hidden case, no course secret")
    print("next: git init there, push it, and make it the template repository of the classroom assignment")
    return 0
