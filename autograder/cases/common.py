"""Helpers shared by the hidden cases: seeded grade-time randomness and trusted references.

Tensors come from torch's global generator, which the judge seeds before every case; sizes and
settings come from ``rng()``. Both follow the notebook's seed, so a regrade meets the same inputs.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from autograder.judge import expect, seeds


def rng() -> random.Random:
    """A stream of the running case, drawn from the notebook's recorded seed (``autograder.judge.seeds``)."""
    return seeds.rng()


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def ref_conv(X: torch.Tensor, K: torch.Tensor, padding=0, stride=1) -> torch.Tensor:
    """Cross-correlation of (C, H, W) or (H, W) X with (F, C, h, w) or (h, w) K, in float64, then promoted."""
    dtype = torch.promote_types(X.dtype, K.dtype)
    x = X.double()[None] if X.dim() == 3 else X.double()[None, None]
    k = K.double() if K.dim() == 4 else K.double()[None, None]
    out = F.conv2d(x.cpu(), k.cpu(), padding=pair(padding), stride=pair(stride))[0]
    out = out if K.dim() == 4 else out[0]
    out = out if dtype.is_floating_point else out.round()
    return out.to(dtype).to(X.device)


def ref_output_shape(input_hw, kernel_hw, padding=0, stride=1) -> tuple[int, int]:
    (n_h, n_w), (k_h, k_w), (p_h, p_w), (s_h, s_w) = pair(input_hw), pair(kernel_hw), pair(padding), pair(stride)
    return (n_h + 2 * p_h - k_h) // s_h + 1, (n_w + 2 * p_w - k_w) // s_w + 1


def conv_settings(count: int, max_side: int = 11):
    """(H, W, h, w, padding, stride): non-square, stride > kernel, padding > kernel, ints and pairs."""
    r = rng()
    fixed = [(8, 8, 3, 3, 1, 1), (8, 8, 5, 3, (2, 1), 1), (8, 8, 3, 3, 1, 2), (8, 8, 3, 5, (0, 1), (3, 4)),
             (7, 5, 2, 3, 0, (1, 2)), (5, 9, 1, 1, 0, 3), (4, 6, 2, 2, 3, 1), (6, 4, 3, 1, (0, 2), (4, 1)),
             (3, 3, 3, 3, 0, 1), (1, 7, 1, 4, (1, 0), (1, 2))]
    drawn = []
    while len(fixed) + len(drawn) < count:
        H, W = r.randint(1, max_side), r.randint(1, max_side)
        h, w = r.randint(1, 5), r.randint(1, 5)
        padding = r.choice([r.randint(0, 3), (r.randint(0, 3), r.randint(0, 3))])
        stride = r.choice([r.randint(1, 4), (r.randint(1, 4), r.randint(1, 4))])
        p_h, p_w = pair(padding)
        if h <= H + 2 * p_h and w <= W + 2 * p_w:
            drawn.append((H, W, h, w, padding, stride))
    return fixed + drawn


def check_grads(student, name: str, args: tuple, wrt: tuple[int, ...], reference, call: str, **kwargs) -> None:
    """Back-propagate one random float64 upstream gradient through the student's function and the reference.

    The result must match the reference, and so must the gradient of every argument in ``wrt``.
    """
    expected = reference(*args, **kwargs)
    dout = torch.randn(expected.shape, dtype=torch.float64)
    out, grads = student.grad(name, args, wrt=wrt, dout=dout, **kwargs)
    expect.close(call, out, expected)
    if grads is None:
        expect.fail(f"{call}: the result carries no autograd graph (computed outside torch, or detached?)")
    leaves = [a.clone().requires_grad_() if i in wrt else a for i, a in enumerate(args)]
    ref_grads = torch.autograd.grad(reference(*leaves, **kwargs), [leaves[i] for i in wrt], dout)
    for index, got, ref in zip(wrt, grads, ref_grads):
        if got is None:
            expect.fail(f"{call}: no gradient reaches argument {index}")
        expect.close(f"gradient of {call} with respect to argument {index}", got, ref)
