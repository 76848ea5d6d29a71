"""How long each solved notebook takes from top to bottom (*Restart & Run All*), idle and beside busy processes.

    .venv/bin/python tests/benchmarks/notebook_times.py [--loads 0,2] [--assignments 01_corr2d,...] [--threads N]

Runs each notebook of ``solutions/`` in a fresh kernel with torch's default number of threads, as a student's
Jupyter does, one notebook at a time, once per load (that many processes keeping a core busy each, for the
whole run); ``--threads N`` runs torch on N threads instead (``OMP_NUM_THREADS``, what
``torch.set_num_threads(N)`` does). Prints, per notebook and load, the wall-clock seconds, the cells that raised
and the slowest cells. Every claim a notebook makes about its own run time ("runs in well under a minute on a
laptop") is checked against these figures.
05 runs offline (``CNN_COURSE_OFFLINE``): the digits, not a download.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def run(assignment: str) -> tuple[float, list[int], str]:
    """(seconds, numbers of the code cells that raised, its slowest cells) for one solved notebook, run in a copy
    of its folder."""
    notebook = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        NotebookClient(notebook, timeout=600, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": folder}}).execute()
        seconds = time.perf_counter() - started
    raised = [number for number, cell in enumerate(notebook.cells, 1) if cell.cell_type == "code"
              and any(output.output_type == "error" for output in cell.outputs)]
    timed = sorted(((_seconds(cell), number) for number, cell in enumerate(notebook.cells, 1)
                    if cell.cell_type == "code"), reverse=True)
    slowest = ", ".join(f"cell {number} {taken:.1f} s" for taken, number in timed[:3])
    return seconds, raised, slowest


def _seconds(cell) -> float:
    """How long a code cell ran, from the timestamps nbclient records in its metadata."""
    times = cell.metadata.get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) -
            datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", default="0,2")
    parser.add_argument("--threads", type=int, default=None, help="torch's threads (default: torch's own choice)")
    parser.add_argument("--assignments", default=",".join(sorted(path.name for path in (ROOT / "solutions").iterdir()
                                                                   if path.is_dir())))
    args = parser.parse_args()
    os.environ["CNN_COURSE_OFFLINE"] = "1"
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.pop(name, None)     # torch's default threads, as in a student's Jupyter
        if args.threads:
            os.environ[name] = str(args.threads)
    loads = [int(load) for load in args.loads.split(",")]
    rows: dict[str, list[str]] = {}
    failed = False
    for load in loads:
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(load)]
        try:
            for assignment in args.assignments.split(","):
                seconds, raised, slowest = run(assignment)
                failed |= bool(raised)
                cell = f"{seconds:6.1f} s" + (f" (cells {raised} raised)" if raised else "")
                rows.setdefault(assignment, []).append(cell)
                print(f"  {assignment}, {load} busy: {cell}; slowest: {slowest}", file=sys.stderr, flush=True)
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    threads = f"torch on {args.threads} thread(s)" if args.threads else "torch's default threads"
    print(f"Restart & Run All of each solved notebook, {threads}, {os.cpu_count()} CPUs")
    print(f"{'notebook':<28}" + "".join(f"{f'{load} busy':>14}" for load in loads))
    for assignment, cells in rows.items():
        print(f"{assignment:<28}" + "".join(f"{cell:>14}" for cell in cells))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
