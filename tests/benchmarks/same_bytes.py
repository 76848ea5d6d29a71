"""Same notebook, same bytes: grade notebooks again and again beside busy processes; every results.json must match.

    .venv/bin/python tests/benchmarks/same_bytes.py [--runs 10] [--load 2]

Grades 04's solution, 05's solution and a partly wrong 04 (a fast convolution
that loops over the batch, a max-pooling backward that remembers the last
maximum, a one-sided numerical gradient) ``--runs`` times each with
``python -m autograder grade NOTEBOOK --json FILE``, as a student or an
instructor runs it, while ``--load`` processes keep a core busy each. Prints,
per notebook, the scores and how many distinct results.json files the runs
wrote (1: byte-identical). Exit status 1 if any notebook got more than one.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import SAMPLES, build_submission, read_sample, run_cli  # noqa: E402

PARTLY_WRONG = ["conv_forward_fast_loops_over_the_batch.py", "maxpool_remembers_the_last_maximum.py",
                "numerical_gradient_one_sided.py"]


def notebooks(folder: Path) -> dict[str, Path]:
    overrides: dict[str, str] = {}
    for name in PARTLY_WRONG:
        overrides.update(read_sample(SAMPLES / "04_backprop" / name)[0])
    return {"04 solution": build_submission(folder / "solution", "04_backprop"),
            "05 solution": build_submission(folder / "solution", "05_lenet"),
            "04 partly wrong": build_submission(folder / "partly-wrong", "04_backprop", overrides)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--load", type=int, default=2, help="busy processes running alongside")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="same-bytes-"))
    paths = notebooks(folder)
    digests: dict[str, collections.Counter] = {label: collections.Counter() for label in paths}
    scores: dict[str, collections.Counter] = {label: collections.Counter() for label in paths}
    seconds: dict[str, list[float]] = {label: [] for label in paths}
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        for run in range(args.runs):
            for label, path in paths.items():
                out = path.parent / "results.json"
                started = time.monotonic()
                run_cli("grade", path, "--json", out, env={"CNN_COURSE_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
                        timeout=None).check_returncode()
                seconds[label].append(time.monotonic() - started)
                data = out.read_bytes()
                digests[label][hashlib.sha256(data).hexdigest()[:12]] += 1
                scores[label][json.loads(data)["score"]] += 1
            print(f"  run {run + 1} of {args.runs} done", file=sys.stderr, flush=True)
    finally:
        for hog in hogs:
            hog.kill()
    print(f"{args.runs} gradings per notebook, {args.load} busy processes alongside")
    print(f"{'notebook':<18}{'scores (count)':<22}{'distinct results.json':>22}  seconds per grading (min-max)")
    distinct = 0
    for label in paths:
        distinct = max(distinct, len(digests[label]))
        listed = ", ".join(f"{score:g} ({count})" for score, count in sorted(scores[label].items()))
        print(f"{label:<18}{listed:<22}{len(digests[label]):>22}  {min(seconds[label]):.0f}-{max(seconds[label]):.0f}"
              f"   sha256 {', '.join(digests[label])}")
    return 0 if distinct == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
