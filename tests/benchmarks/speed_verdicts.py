"""Verdict counts of the speed check over many runs: loops over N, H or W must always fail, vectorised code pass.

    .venv/bin/python tests/benchmarks/speed_verdicts.py [--runs 20] [--load 2]

Each run times every variant of ``tests/autograder/test_speed.py`` on both of
its shapes, as 04's graded speed checks do (the same shapes, limit, repeats and
reference algorithm), in a worker of its own, as one notebook would be.
``--load`` starts that many processes that keep a core busy for the whole run.
Prints, per variant and shape, how many runs passed and the range of ratios
(inf: the call ran out of time, a failed check).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from autograder import speed  # noqa: E402
from autograder.notebook import Cell  # noqa: E402
from autograder.student import Student, StudentError  # noqa: E402
from tests.autograder.test_speed import EXPECTED, LIMIT, SHAPES, VARIANTS, inputs, reference  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--load", type=int, default=0, help="busy processes running alongside")
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    ratios: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.runs):
            with Student([Cell("variants", VARIANTS)]) as student:   # one worker and time budget per run
                for label in SHAPES:
                    data = inputs(label)
                    for variant in EXPECTED:
                        try:
                            ratio = speed.measure(student, variant, data, reference, limit=LIMIT).ratio
                        except StudentError:    # out of time: a failed speed check
                            ratio = float("inf")
                        ratios.setdefault((variant, label), []).append(ratio)
    finally:
        for hog in hogs:
            hog.kill()
    print(f"{args.runs} runs, limit {LIMIT}x, {args.load} busy processes alongside, device {speed.device().type}")
    print(f"{'variant':<22}{'shape':<20}{'should':<8}{'passed':>8}  ratios (min / median / max)")
    for (variant, label), values in ratios.items():
        passed = sum(value <= LIMIT for value in values)
        should = "fail" if label in EXPECTED[variant] else "pass"
        ordered = sorted(values)
        print(f"{variant:<22}{label:<20}{should:<8}{passed:>5}/{len(values):<3} "
              f"{ordered[0]:.1f} / {ordered[len(ordered) // 2]:.1f} / {ordered[-1]:.1f}")


if __name__ == "__main__":
    main()
