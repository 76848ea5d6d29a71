"""Time from asking for a worker to its first answer: forked by the zygote, against a fresh `import torch`.

    .venv/bin/python tests/benchmarks/worker_start.py [--runs 10]

The first figure is what grading pays per notebook and after every fault; the
second is what it paid before the zygote (a new interpreter importing torch),
measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from autograder.sandbox import process as sandbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sandbox.prestart()
    first = sandbox.WorkerProcess()   # waits for the zygote's own start
    first.request({"op": "ping", "nonce": "warm"}, [], 120)
    first.close()
    forked, fresh = [], []
    for run in range(args.runs):
        started = time.perf_counter()
        worker = sandbox.WorkerProcess()
        worker.request({"op": "ping", "nonce": str(run)}, [], 60)
        forked.append(time.perf_counter() - started)
        worker.close()
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "import torch, matplotlib.pyplot"], check=True)
        fresh.append(time.perf_counter() - started)
    for label, times in (("worker forked by the zygote, to its first answer", forked),
                         ("fresh interpreter: import torch, matplotlib.pyplot", fresh)):
        print(f"{label:<52} median {statistics.median(times):6.3f} s   "
              f"(min {min(times):.3f}, max {max(times):.3f}, n={len(times)})")


if __name__ == "__main__":
    main()
