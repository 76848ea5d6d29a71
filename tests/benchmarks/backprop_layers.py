"""04's reference layers against torch.nn.functional + autograd, forward and backward, at a realistic size.

    .venv/bin/python tests/benchmarks/backprop_layers.py [--repeats 10]

N=32, C=16, F=32, 32x32 images, 3x3 kernels with padding 1; 2x2 pooling with
stride 2. Runs the instructor's solutions of 04 (solutions/04_backprop) and
PyTorch's own layers in one process, on the CPU and on CUDA when present, and
prints the fastest of several runs of each and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from autograder.notebook import read_release  # noqa: E402
from tests.support import ASSIGNMENTS, solution_code  # noqa: E402

ASSIGNMENT = "04_backprop"


def solutions() -> dict:
    """The release's setup cell and the instructor's solution cells of 04, run here."""
    release = read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    space: dict = {}
    exec(compile(release.setup_source, "<setup>", "exec"), space)  # noqa: S102 - course code
    for grade_id, source in solution_code(ASSIGNMENT).items():
        if grade_id in release.solution_ids:
            exec(compile(source, f"<{grade_id}>", "exec"), space)  # noqa: S102 - course code
    return space


def fastest(function, repeats: int, device: torch.device) -> float:
    function()
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best


def rows(space: dict, device: torch.device):
    x = torch.randn(32, 16, 32, 32, device=device)
    w, b = torch.randn(32, 16, 3, 3, device=device), torch.randn(32, device=device)
    out, cache = space["conv_forward_fast"](x, w, b, 1, 1)
    dout = torch.randn(out.shape, device=device)
    leaves = [t.clone().requires_grad_() for t in (x, w, b)]
    torch_out = F.conv2d(*leaves, padding=1)
    yield ("conv forward", lambda: space["conv_forward_fast"](x, w, b, 1, 1), lambda: F.conv2d(x, w, b, padding=1))
    yield ("conv backward", lambda: space["conv_backward_fast"](dout, cache),
           lambda: torch.autograd.grad(torch_out, leaves, dout, retain_graph=True))
    for mode, torch_pool in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        pooled, pool_cache = space[f"{mode}pool_forward"](x, 2)
        pool_dout = torch.randn(pooled.shape, device=device)
        leaf = x.clone().requires_grad_()
        torch_pooled = torch_pool(leaf, 2)
        yield (f"{mode}pool forward", lambda m=mode: space[f"{m}pool_forward"](x, 2), lambda p=torch_pool: p(x, 2))
        yield (f"{mode}pool backward", lambda m=mode, d=pool_dout, c=pool_cache: space[f"{m}pool_backward"](d, c),
               lambda t=torch_pooled, x_=leaf, d=pool_dout: torch.autograd.grad(t, x_, d, retain_graph=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    space = solutions()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"N=32, C=16, F=32, 32x32, 3x3 padding 1; pooling 2x2; fastest of {args.repeats}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'device':<7}{'layer':<18}{'04 reference':>14}{'torch':>12}{'ratio':>8}")
    for device in devices:
        for name, ours, theirs in rows(space, device):
            mine, torch_time = fastest(ours, args.repeats, device), fastest(theirs, args.repeats, device)
            print(f"{device.type:<7}{name:<18}{mine * 1e3:>11.2f} ms{torch_time * 1e3:>9.2f} ms"
                  f"{mine / torch_time:>8.1f}")


if __name__ == "__main__":
    main()
