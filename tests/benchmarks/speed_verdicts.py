"""Verdicts of 04's speed check over many runs, under load: loops over N, H or W must always fail, allowed code pass.

    .venv/bin/python tests/benchmarks/speed_verdicts.py [--runs 20] [--loads 0,2,4] [--modes grade,jobs1,jobs2]

Each run grades every variant of ``tests/support.py`` (those of ``tests/autograder/judge/test_speed.py``) on each of
04's speed shapes as a graded check does (``speed.check``: the same limit,
repeats, reference and second measure of a failing verdict), in a worker of
its own, as one notebook would be. A configuration is a load (that many
processes keeping a core busy for its whole length) and a mode: ``grade`` (one
judge, set up as ``python -m autograder grade`` sets it up) or ``jobsJ`` (J
judges at once, each set up by ``grade-all --jobs J``'s own initializer, the
runs shared among them). Prints, per variant and shape, how many runs passed in
each configuration, and the range of the time ratios measured across all of
them (inf: the call ran out of time, a failed check; a check failed by its
counts of operators and steps is not timed). Exit status 1 if any verdict was
not the expected one.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from autograder.cases.test_04_backprop import SPEED_LIMIT as LIMIT  # noqa: E402
from autograder.cases.test_04_backprop import SPEED_SHAPES as SHAPES  # noqa: E402
from autograder.judge import speed  # noqa: E402
from autograder.notebook import Cell  # noqa: E402
from autograder.sandbox import process as sandbox
from autograder.student.base import StudentError  # noqa: E402
from autograder.student.sandboxed import Student  # noqa: E402
from autograder.verbs import grade_all
from tests.support import EXPECTED, VARIANTS, growth, inputs, reference  # noqa: E402


def one_run(_: int) -> dict[tuple[str, str], tuple[bool, float]]:
    """(passed, ratio) of each (variant, shape) from ``speed.check``'s procedure, in a fresh worker.

    The ratio is nan where the counts failed the check before any timing.
    """
    verdicts = {}
    with Student([Cell("variants", VARIANTS)]) as student:
        for label in SHAPES:
            data = inputs(label)
            for variant in EXPECTED:
                try:
                    verdict = speed.verdict(student, variant, data, reference, limit=LIMIT, **growth(label))
                    counted = verdict.growth is not None and verdict.growth.loops
                    verdicts[(variant, label)] = (verdict.passed, float("nan") if counted else verdict.ratio)
                except StudentError:    # out of time: a failed speed check
                    verdicts[(variant, label)] = (False, float("inf"))
    return verdicts


def _as_grade() -> None:
    sandbox.forget_zygote()
    sandbox.prestart()


def configuration(mode: str, runs: int) -> list[dict]:
    context = multiprocessing.get_context("fork")
    if mode == "grade":
        jobs, initializer, initargs = 1, _as_grade, ()
    else:
        jobs = int(mode.removeprefix("jobs"))
        threads = max(1, (os.cpu_count() or 1) // jobs)     # as grade_all.grade_class shares the CPUs
        initializer, initargs = grade_all._start_judge, ({}, threads)
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=initializer,
                                                initargs=initargs) as pool:
        return list(pool.map(one_run, range(runs)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--loads", default="0,2,4", help="busy processes running alongside, one figure per config")
    parser.add_argument("--modes", default="grade,jobs1,jobs2")
    args = parser.parse_args()
    configs = [(int(load), mode) for load in args.loads.split(",") for mode in args.modes.split(",")]
    results: dict[tuple[int, str], list[dict]] = {}
    started = time.monotonic()
    for load, mode in configs:
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(load)]
        try:
            results[(load, mode)] = configuration(mode, args.runs)
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
        print(f"  done: load {load}, {mode} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    print(f"{args.runs} runs per configuration, limit {LIMIT}x, CPU time on one thread, device "
          f"{speed.device().type}, {os.cpu_count()} CPUs; columns: busy processes alongside / mode")
    header = "".join(f"{f'{load}/{mode}':>10}" for load, mode in configs)
    print(f"{'variant':<22}{'shape':<19}{'should':<7}{header}  timed ratio min / median / max")
    wrong = 0
    for variant in EXPECTED:
        for label in SHAPES:
            should_pass = label not in EXPECTED[variant]
            cells, timed = [], []
            for config in configs:
                outcomes = [run[(variant, label)] for run in results[config]]
                timed += [ratio for _, ratio in outcomes if not math.isnan(ratio)]
                passed = sum(ok for ok, _ in outcomes)
                wrong += (len(outcomes) - passed) if should_pass else passed
                cells.append(f"{passed:>6}/{len(outcomes):<3}")
            ordered = sorted(timed)
            spread = (f"{ordered[0]:.1f} / {ordered[len(ordered) // 2]:.1f} / {ordered[-1]:.1f}" if ordered else
                      "none: failed by counts")
            print(f"{variant:<22}{label:<19}{'pass' if should_pass else 'fail':<7}{''.join(cells)}  {spread}")
    print(f"verdicts not as expected: {wrong}; {time.monotonic() - started:.0f} s in all")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
