"""Helpers both sides of a call share: how values are described, compared and typed.

The worker uses them to tell which arguments a call modified and what a
student's error was; the in-notebook proxy (``inline``) uses the very same
functions, so both views of a submission agree. torch is imported on first use.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

# An input value in a message, as ``held(full, shown)`` marks it: the full text for the instructor and the notebook's
# public checks, ``shown`` (its kind: "a list of 2 ints") where feedback holds the hidden inputs back (a push's).
HOLD, SHOWN, END = "\ue000", "\ue001", "\ue002"
_HELD = re.compile(f"{HOLD}([^{HOLD}{SHOWN}{END}]*){SHOWN}([^{HOLD}{SHOWN}{END}]*){END}")
SCALARS = (int, float, bool, str, type(None))


def held(full: str, shown: str) -> str:
    """``full`` in a message, to be shown as ``shown`` where the inputs are held back (:func:`hold_back`)."""
    return f"{HOLD}{full}{SHOWN}{shown}{END}"


def reveal(text: str) -> str:
    """``text`` with every held value in full."""
    return _HELD.sub(r"\1", text)


def hold_back(text: str) -> str:
    """``text`` with every held value shown by its kind only."""
    return _HELD.sub(r"\2", text)


def describe(value: Any, hold: bool = False) -> str:
    """Short, shape-level description of an argument or a result; with ``hold``, Python values (numbers, strings,
    lists of them) are :func:`held`: tensors are described by their shapes, which are never held back."""
    import torch

    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        device = "" if value.device.type == "cpu" else f" on {value.device}"
        return f"tensor {dtype} {tuple(value.shape)}{device}"
    remote_type = getattr(type(value), "remote_type", None)
    if callable(remote_type):
        return f"<{remote_type(value)} object>"
    if isinstance(value, (list, tuple)) and len(value) <= 8:
        if hold and all(isinstance(v, SCALARS) for v in value):
            return held(describe(value), kind_of(value))
        inner = ", ".join(describe(v, hold) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, SCALARS):
        return held(repr(value), kind_of(value)) if hold else repr(value)
    return type(value).__name__


def kind_of(value: Any) -> str:
    """What a held value is shown as: "an int", "None", "a list of 3 ints", "a tuple of 2 values"."""
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        names = {type(v).__name__ for v in value}
        what = f"{names.pop()}s" if len(names) == 1 else "values"
        if not value:
            return f"an empty {type(value).__name__}"
        return f"{a_or_an(type(value).__name__)} of {len(value)} {what}"
    return a_or_an(type(value).__name__)


def a_or_an(word: str) -> str:
    """``word`` with its indefinite article, by sound: "an int", "a float", "an OrderedDict", "a uint8"."""
    lower = word.lower()
    vowel_sound = lower[:1] in "aeiou" and not lower.startswith(("uint", "uni", "use", "eu"))
    vowel_sound = vowel_sound or lower.startswith("nd")    # "an ndarray"
    return f"{'an' if vowel_sound else 'a'} {word}"


def describe_call(name: str, args: tuple, kwargs: dict) -> str:
    """``name(arguments)`` with tensors by shape and Python values held (:func:`held`)."""
    parts = [describe(a, hold=True) for a in args] + [f"{k}={describe(v, hold=True)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def type_names(obj: Any) -> tuple[str, ...]:
    """Qualified names of the classes of ``obj`` (its MRO), as plain strings."""
    return tuple(f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__)


def exception_kinds(error: BaseException) -> tuple[str, ...]:
    """The built-in exception classes ``error`` derives from ("ValueError", "Exception"...)."""
    return tuple(c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins")


def exception_class(kinds: tuple[str, ...], base: type[Exception]) -> type[Exception]:
    """A subclass of ``base`` that is also the first built-in ``Exception`` class in ``kinds``.

    So ``except ValueError`` in a public check catches a ValueError the student
    raised. A student's SystemExit or KeyboardInterrupt never becomes one.
    """
    for name in kinds:
        builtin = getattr(builtins, name, None)
        if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
            try:
                return type(f"Student{name}", (base, builtin), {})
            except TypeError:  # incompatible layouts (OSError and kin)
                continue
    return base


def same_tensor(a, b) -> bool:
    """Same shape, dtype and values, NaN equal to NaN."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    a, b = a.detach(), b.detach()
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return bool((a == b).all())


def snapshot(args: tuple | list, kwargs: dict) -> dict[str, Any]:
    """Copies of the tensor arguments by position ("0", "1"...) or keyword, taken before a call."""
    import torch

    named = {**{str(i): v for i, v in enumerate(args)}, **kwargs}
    return {key: value.detach().clone() for key, value in named.items() if isinstance(value, torch.Tensor)}


def mutated(before: dict[str, Any], args: tuple | list, kwargs: dict) -> tuple[str, ...]:
    """The arguments whose tensor changed since :func:`snapshot` ("0", "1", or a keyword)."""
    named = {**{str(i): v for i, v in enumerate(args)}, **kwargs}
    return tuple(key for key, copy in before.items() if not same_tensor(named[key], copy))


def seed_generators(value: int) -> None:
    """Seed the generators student code may use, in the worker, with a value the judge drew
    (``judge.seeds.worker_seed``)."""
    import random

    import numpy as np
    import torch

    random.seed(value)
    np.random.seed(value % 2**32)
    torch.manual_seed(value)
