"""``python -m autograder release OUT [--assignments NAME...]``: build the repository students get
(``autograder.release.repository``).

A name given twice counts once; an unknown name is a usage error; a build that fails or is interrupted
leaves no folder behind.
"""

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
    except OSError as error:
        print(f"error: building {args.out} failed ({error}); nothing was left there", file=sys.stderr)
        return 1
    notebooks = sorted(path.parent.name for path in built.glob("assignments/*/*.ipynb"))
    print(f"built the student repository in {built}: {', '.join(notebooks)}; no hidden case, no course secret")
    print("next: git init there, push it, and make it the template repository of the classroom assignment")
    return 0
