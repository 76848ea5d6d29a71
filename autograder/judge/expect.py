"""Comparisons for hidden cases whose failure messages teach without leaking.

A failure says what was called, with what shapes, and what came back (type,
shape, dtype, max error); it never prints the expected values of a hidden case.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.sandbox.values import a_or_an, describe, describe_call


class CaseFailure(AssertionError):
    """A check failed; the message is written for the student."""


def fail(message: str) -> None:
    raise CaseFailure(message)


def call(name: str, *args: Any, **kwargs: Any) -> str:
    """A call's label for a message: tensors by shape, Python values held (a push's feedback shows their kind)."""
    return describe_call(name, args, kwargs)


def shown(value: Any) -> str:
    """One input value for a message, held as :func:`call` holds them."""
    return describe(value, hold=True)


def tensor_like(call: str, actual: Any, expected: torch.Tensor, *, check_dtype: bool = True,
                check_device: bool = True) -> torch.Tensor:
    """Fail unless ``actual`` is a tensor with the expected shape, dtype and device."""
    if not isinstance(actual, torch.Tensor):
        fail(f"{call} returned {describe(actual)}; expected a torch.Tensor of shape {tuple(expected.shape)}")
    if tuple(actual.shape) != tuple(expected.shape):
        fail(f"{call} returned shape {tuple(actual.shape)}; expected {tuple(expected.shape)}")
    if check_dtype and actual.dtype != expected.dtype:
        fail(f"{call} returned dtype {actual.dtype}; expected {expected.dtype} "
             "(the promoted dtype of the inputs: torch.promote_types)")
    if check_device and actual.device.type != expected.device.type:
        fail(f"{call} returned a tensor on {actual.device}; expected {expected.device} (the input's device)")
    return actual


def close(call: str, actual: Any, expected: torch.Tensor, *, atol: float | None = None,
          rtol: float | None = None, check_dtype: bool = True) -> None:
    """Fail unless ``actual`` matches ``expected`` in type, shape, dtype and values."""
    tensor_like(call, actual, expected, check_dtype=check_dtype)
    default_tol = 1e-10 if expected.dtype == torch.float64 else 1e-4
    atol = default_tol if atol is None else atol
    rtol = default_tol if rtol is None else rtol
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if not torch.isfinite(a).all() and not torch.equal(torch.isfinite(a), torch.isfinite(e)):
        fail(f"{call} returned NaN or inf where the reference is finite")
    if not torch.allclose(a, e, atol=atol, rtol=rtol, equal_nan=True):
        error = (a - e).abs().nan_to_num(float("inf"))
        flat = int(error.argmax())
        where = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), e.shape)) if e.dim() else ()
        wrong = int((error > atol + rtol * e.abs()).sum())
        fail(f"{call}: values differ from the reference at {wrong} of {e.numel()} positions; "
             f"max abs error {float(error.max()):.3g} at index {where}")


def equal(call: str, actual: Any, expected: Any) -> None:
    """For Python values (ints, tuples): type and value must match exactly."""
    if not _same_kind(actual, expected) or actual != expected:
        kind = "" if _same_kind(actual, expected) else f" (expected {a_or_an(type(expected).__name__)})"
        fail(f"{call} returned {actual!r} ({type(actual).__name__}); that is not the right answer{kind}")


def _same_kind(actual: Any, expected: Any) -> bool:
    """Same types all the way down: (3.0, 4.0) is not (3, 4), and True is not 1."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, (tuple, list)):
        return len(actual) == len(expected) and all(map(_same_kind, actual, expected))
    return True


def unchanged(record, hint: str = "") -> None:
    """Fail if the recorded call modified any of its arguments in place."""
    if record.mutated:
        names = ", ".join(f"argument {key}" if key.isdigit() else key for key in record.mutated)
        fail(f"{record.label} modified its input ({names}) in place{hint}")


def raises(call: str, student_call, error_type: str = "ValueError") -> None:
    """Fail unless the student's call raised ``error_type``."""
    from autograder.student.base import StudentError

    try:
        result = student_call()
    except StudentError as error:
        if error_type in error.kinds:
            return
        fail(f"{call} should raise {error_type}; instead: {error}")
    else:
        fail(f"{call} should raise {error_type}; it returned {describe(result)}")
