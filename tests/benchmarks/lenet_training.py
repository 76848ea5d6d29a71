"""05's trained-model check, measured: how well the reference trains LeNet-5 on the offline digits, how long it
takes, and how far a correct and a wrong ``train`` land from the reference started from the same weights.

    .venv/bin/python tests/benchmarks/lenet_training.py [--seeds 20] [--notebook]

For each seed: a fresh LeNet-5 and a shuffled order of the 1,437 training digits in minibatches of 32, trained
for the check's epochs and learning rate (``autograder.cases.test_05_lenet.TRAINING``) by the reference, by a
correct variant (loss as sum / batch size, gradients set to None) and by a wrong one (plain SGD), each from the
same starting weights; prints the held-out accuracy of each and the reference's seconds per run.
``--notebook`` also runs the whole solution notebook (offline) with nbclient and prints its time.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from autograder.cases import test_05_lenet as cases  # noqa: E402


def variant(net, batches, epochs, lr, optimizer_class, summed):
    optimizer = optimizer_class(net.parameters(), lr=lr)
    for _ in range(epochs):
        for X, y in batches:
            scores = net(X)
            loss = F.cross_entropy(scores, y, reduction="sum") / len(y) if summed else F.cross_entropy(scores, y)
            optimizer.zero_grad(set_to_none=summed)
            loss.backward()
            optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--notebook", action="store_true")
    args = parser.parse_args()
    (train_x, train_y), (test_x, test_y) = cases.digits()
    held_out = cases.batches_of(test_x, test_y, 256)
    epochs, lr, size = cases.TRAINING["epochs"], cases.TRAINING["lr"], cases.TRAINING["batch_size"]
    rows, seconds = [], []
    for seed in range(args.seeds):
        torch.manual_seed(seed)
        net = cases.build(cases.LENET)
        order = torch.randperm(len(train_y))
        batches = cases.batches_of(train_x[order], train_y[order], size)
        correct, wrong = copy.deepcopy(net), copy.deepcopy(net)
        start = time.perf_counter()
        cases.ref_train(net, batches, batches[:4], epochs, lr)
        seconds.append(time.perf_counter() - start)
        variant(correct, batches, epochs, lr, torch.optim.Adam, summed=True)
        variant(wrong, batches, epochs, lr, torch.optim.SGD, summed=False)
        rows.append([cases.ref_accuracy(model, held_out) for model in (net, correct, wrong)])
        print(f"seed {seed:>2}: reference {rows[-1][0]:.3f}  correct variant {rows[-1][1]:.3f}  "
              f"plain SGD {rows[-1][2]:.3f}  ({seconds[-1]:.1f} s)", flush=True)
    reference = [row[0] for row in rows]
    gaps = [row[0] - row[1] for row in rows]
    print(f"\n{args.seeds} seeds, {epochs} epochs, lr {lr}, batches of {size}, {torch.get_num_threads()} CPU threads")
    print(f"reference held-out accuracy: min {min(reference):.3f}, median {statistics.median(reference):.3f}, "
          f"max {max(reference):.3f}; {statistics.median(seconds):.1f} s per training run (median)")
    print(f"correct variant below the reference by at most {max(gaps):.3f} (the bar allows {cases.ACCURACY_MARGIN})")
    print(f"plain SGD: at most {max(row[2] for row in rows):.3f}; it fails the bar in "
          f"{sum(row[2] < row[0] - cases.ACCURACY_MARGIN for row in rows)} of {args.seeds} seeds")
    if args.notebook:
        import nbformat
        from nbclient import NotebookClient

        os.environ["CNN_COURSE_OFFLINE"] = "1"
        path = Path(__file__).resolve().parents[2] / "solutions" / "05_lenet" / "05_lenet.ipynb"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:     # the source notebook's hidden blocks need the instructor's cases
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        start = time.perf_counter()
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        print(f"the solution notebook, run from top to bottom (offline digits): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
