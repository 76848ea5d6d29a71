"""The helpers every notebook's setup cell defines: one source, copied into each notebook.

A notebook's setup cell runs in the student's kernel and, for the public checks, in the judge
(``public_checks``), so the helpers are plain functions of numpy and torch. A notebook may define
others of its own (04's ``probe_function``); it may not change these: ``tests/release/test_setup_helpers.py``
fails while any notebook, source or release, holds a copy that differs from this one.
"""

import math

import numpy as np
import torch

REQUIRED = ("check_close", "check_equal", "self_check")    # in every notebook; check_raises where used


def check_close(actual, expected, what, atol=1e-5, rtol=1e-5):
    """Fail with a message that says what differs: type, shape, dtype, then values."""
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"{what}: expected a torch.Tensor, got {type(actual).__name__}: {actual!r}")
    expected = torch.as_tensor(expected)
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"{what}: expected shape {tuple(expected.shape)}, got shape {tuple(actual.shape)}")
    if actual.dtype != expected.dtype:
        raise AssertionError(f"{what}: expected dtype {expected.dtype}, got dtype {actual.dtype}")
    got = actual.detach().cpu().double()
    want = expected.detach().cpu().double()
    if not torch.allclose(got, want, atol=atol, rtol=rtol):
        error = (got - want).abs().nan_to_num(nan=math.inf)  # a NaN counts as the worst error
        worst = int(error.flatten().argmax())
        index = tuple(int(i) for i in np.unravel_index(worst, tuple(got.shape)))
        wrong = int((error > atol + rtol * want.abs()).sum())
        message = (f"{what}: values differ at {wrong} of {got.numel()} positions; max abs error "
                   f"{error.max().item():.4g} at index {index} (got {got.flatten()[worst].item():.6g}, "
                   f"expected {want.flatten()[worst].item():.6g})")
        shown = f"got:\n{actual.detach()}\nexpected:\n{expected}"
        if got.numel() <= 64 and max(map(len, shown.splitlines())) <= 90 and len(shown.splitlines()) <= 24:
            message += "\n" + shown        # both tensors, whole, as they fit a terminal
        else:                                 # too big to read whole: the worst entries, with their indices
            order = error.flatten().argsort(descending=True)[:min(5, wrong)].tolist()
            message += "\nlargest differences (index: got, expected):"
            for flat in order:
                where = tuple(int(i) for i in np.unravel_index(flat, tuple(got.shape)))
                message += (f"\n  {where}: {got.flatten()[flat].item():.6g}, "
                            f"{want.flatten()[flat].item():.6g}")
        raise AssertionError(message)


def check_equal(actual, expected, what):
    """Fail unless actual == expected and has the expected type (an int must come back as an int)."""
    if not isinstance(actual, type(expected)) or actual != expected:
        raise AssertionError(f"{what}: expected {expected!r} ({type(expected).__name__}), "
                             f"got {actual!r} ({type(actual).__name__})")


def check_raises(error, attempt, what):
    """Fail unless attempt() raises `error`; any other exception goes through as it is."""
    try:
        attempt()
    except error:
        return
    raise AssertionError(f"{what}: expected {error.__name__}, but the call returned normally")


def self_check(name, check):
    """Run the check of an optional exercise: say how it went, never stop the notebook."""
    try:
        check()
    except NotImplementedError:
        print(f"{name}: not attempted yet (optional, not graded)")
    except Exception as error:  # a wrong answer, or one that raises: report it and go on
        print(f"{name}: not yet. {type(error).__name__}: {error}")
    else:
        print(f"{name}: correct")
