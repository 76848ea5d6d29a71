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
        message = (f"{what}: values differ; max abs error {error.max().item():.4g} at index {index} "
                   f"(got {got.flatten()[worst].item():.6g}, expected {want.flatten()[worst].item():.6g})")
        if got.numel() <= 64:
            message += f"\ngot:\n{actual.detach()}\nexpected:\n{expected}"
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
