"""Correct but unusual answers get every point, graded two at a time as ``grade-all --jobs 2`` does.

Each student below hands in the solution with some graded cells written another way that the notebooks'
text allows: `operator` and `itertools` for a receptive field, padding by concatenation, a fast convolution
by `as_strided` and `tensordot` whose backward loops over channels and kernel offsets and which asks torch
for more threads, parameters counted with `map`. None may lose a point, whatever the machine's load.
"""

from __future__ import annotations

import json

import pytest

from tests.support import ASSIGNMENTS, build_submission

RECEPTIVE_FIELD = '''
import functools
import itertools
import operator


def receptive_field(kernel_sizes, strides=None):
    kernel_sizes = [operator.index(k) for k in kernel_sizes]
    strides = [1] * len(kernel_sizes) if strides is None else [operator.index(s) for s in strides]
    if len(strides) != len(kernel_sizes):
        raise ValueError("one stride per kernel size")
    if any(value < 1 for value in itertools.chain(kernel_sizes, strides)):
        raise ValueError("sizes and strides are at least 1")
    jumps = itertools.accumulate([1] + strides[:-1], operator.mul)
    return 1 + functools.reduce(operator.add, [(k - 1) * jump for k, jump in zip(kernel_sizes, jumps)], 0)
'''

PAD_BY_CONCATENATION = '''
import torch


def pad2d(X, padding):
    p_h, p_w = (padding, padding) if isinstance(padding, int) else tuple(padding)
    if p_h < 0 or p_w < 0:
        raise ValueError("padding must be non-negative")
    if X.dim() < 2:
        raise ValueError("at least two dimensions")
    *leading, H, W = X.shape
    rows = X.new_zeros((*leading, p_h, W))
    X = torch.cat([rows, X, rows], dim=-2)
    columns = X.new_zeros((*leading, H + 2 * p_h, p_w))
    return torch.cat([columns, X, columns], dim=-1)
'''

FAST_BY_AS_STRIDED = '''
import torch


def conv_forward_fast(x, w, b, stride=1, padding=0):
    torch.set_num_threads(2)       # a student who hopes for speed from more threads
    if x.dim() != 4 or w.dim() != 4 or w.shape[1] != x.shape[1] or b.shape != (w.shape[0],):
        raise ValueError("need x (N, C, H, W), w (F, C, kh, kw) and b (F,)")
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    if H + 2 * padding < kh or W + 2 * padding < kw or stride < 1:
        raise ValueError("the kernel does not fit")
    dtype = torch.promote_types(x.dtype, w.dtype)
    xp = x.new_zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=dtype)
    xp[:, :, padding:padding + H, padding:padding + W] = x
    H_out, W_out = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    sN, sC, sH, sW = xp.stride()
    windows = xp.as_strided((N, C, H_out, W_out, kh, kw), (sN, sC, sH * stride, sW * stride, sH, sW))
    out = torch.tensordot(windows, w.to(dtype), dims=([1, 4, 5], [1, 2, 3])).permute(0, 3, 1, 2)
    out = out + b.to(dtype)[None, :, None, None]
    return out, {"xp": xp, "w": w.to(dtype), "stride": stride, "padding": padding, "shape": tuple(x.shape)}


def conv_backward_fast(dout, cache):
    xp, w, stride, padding = cache["xp"], cache["w"], cache["stride"], cache["padding"]
    N, C, H, W = cache["shape"]
    F, _, kh, kw = w.shape
    H_out, W_out = dout.shape[2:]
    dout = dout.to(w.dtype)
    sN, sC, sH, sW = xp.stride()
    windows = xp.as_strided((N, C, H_out, W_out, kh, kw), (sN, sC, sH * stride, sW * stride, sH, sW))
    dw = torch.einsum("nchwij,nfhw->fcij", windows, dout)
    dxp = torch.zeros_like(xp)
    for c in range(C):                  # a loop over channels, then over kernel offsets
        spread = torch.einsum("nfhw,fij->nhwij", dout, w[:, c])
        for a in range(kh):
            for e in range(kw):
                dxp[:, c, a:a + stride * (H_out - 1) + 1:stride, e:e + stride * (W_out - 1) + 1:stride] += \\
                    spread[..., a, e]
    return dxp[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(dim=(0, 2, 3))
'''

COUNT_WITH_MAP = '''
import torch
from torch import nn


def count_parameters(net: nn.Module) -> int:
    return sum(map(torch.numel, net.parameters()))
'''

FORWARD, BACKWARD = FAST_BY_AS_STRIDED.split("\n\ndef conv_backward")
STUDENTS = {
    "operator-and-itertools": ("01_corr2d", {"receptive_field": RECEPTIVE_FIELD}),
    "pads-by-concatenation": ("02_padding_stride_channels", {"pad2d": PAD_BY_CONCATENATION}),
    "as-strided-and-threads": ("04_backprop", {"conv_forward_fast": FORWARD,
                                               "conv_backward_fast": "import torch\n\n\ndef conv_backward" + BACKWARD}),
    "counts-with-map": ("05_lenet", {"count_parameters": COUNT_WITH_MAP}),
}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    from autograder.verbs.grade_all import grade_class

    root = tmp_path_factory.mktemp("correct-forms")
    for student, (assignment, cells) in STUDENTS.items():
        build_submission(root / "submitted" / student, assignment, cells)
    grade_class(root / "submitted", ASSIGNMENTS, root / "gradebook", jobs=2, progress=False)
    return root / "gradebook"


@pytest.mark.parametrize("student", list(STUDENTS))
def test_a_correct_unusual_answer_keeps_every_point(gradebook, student):
    data = json.loads((gradebook / student / "results.json").read_text())
    assert data["internal_error"] is False, data["output"]
    lost = [f"{test['name']}: {test['output']}" for test in data["tests"] if test["score"] < test["max_score"]]
    assert not lost, "\n".join(lost)
    assert data["score"] == data["max_score"] > 0
