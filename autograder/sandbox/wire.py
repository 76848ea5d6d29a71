"""The one wire between the judge and the worker: framing and codec, used by both sides.

A message is an 8-byte little-endian length, a JSON header (an object) and the
binary blobs it lists in ``header["blobs"]`` (their sizes). Values travel as
JSON plus ``.npy`` blobs read with ``allow_pickle=False``; tensor and array
dtypes come from a fixed whitelist, never from a name looked up in a module.
Anything malformed, oversized or late raises :class:`WireError` (or
``TimeoutError``): the judge then kills the worker.

torch is imported on first use, so the judge can start a worker before it
imports torch itself.
"""

from __future__ import annotations

import functools
import io
import json
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.sandbox.values import a_or_an

MAX_MESSAGE_BYTES = 512 << 20
MAX_HEADER_BYTES = 16 << 20
_LENGTH = struct.Struct("<Q")

# torch dtype name -> numpy dtype of its payload (bfloat16 travels as float32).
TENSOR_DTYPES = {
    "bool": "bool", "uint8": "uint8", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "float16": "float16", "bfloat16": "float32", "float32": "float32", "float64": "float64",
    "complex64": "complex64", "complex128": "complex128",
}
ARRAY_DTYPES = frozenset(TENSOR_DTYPES.values()) | {"uint16", "uint32", "uint64"}


class WireError(Exception):
    """A message that breaks the protocol: malformed, forged, oversized or of an unknown kind."""


# -- framing -----------------------------------------------------------------------------

def send(fd: int, header: dict, blobs: list[bytes], deadline: float | None = None) -> None:
    """Write one message; ``deadline`` (time.monotonic) bounds the wait for a full pipe."""
    head = json.dumps(dict(header, blobs=[len(blob) for blob in blobs])).encode()
    if len(head) > MAX_HEADER_BYTES or len(head) + sum(map(len, blobs)) > MAX_MESSAGE_BYTES:
        raise WireError("message over the size limit")
    view = memoryview(b"".join([_LENGTH.pack(len(head)), head, *blobs]))
    while view:
        _wait(fd, deadline, write=True)
        view = view[os.write(fd, view[: 1 << 16]):]


def receive(fd: int, deadline: float | None = None, limit: int = MAX_MESSAGE_BYTES) -> tuple[dict, list[bytes]]:
    """Read one message. EOFError when the other side closed its end before a message began."""
    (head_size,) = _LENGTH.unpack(_read(fd, _LENGTH.size, deadline, first=True))
    if head_size > min(limit, MAX_HEADER_BYTES):
        raise WireError(f"header of {head_size} bytes is over the limit")
    header = _json(_read(fd, head_size, deadline))
    if not isinstance(header, dict):
        raise WireError(f"the header is a JSON {type(header).__name__}, not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(type(size) is int and size >= 0 for size in sizes):
        raise WireError("the header's blob sizes are not a list of non-negative integers")
    if head_size + sum(sizes) > limit:
        raise WireError("message payload is over the limit")
    return header, [_read(fd, size, deadline) for size in sizes]


def readable(fd: int, seconds: float) -> bool:
    """Whether ``fd`` has something to read (or was closed) within ``seconds``."""
    return bool(select.select([fd], [], [], max(seconds, 0.0))[0])


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise WireError(f"the header is not valid JSON ({type(error).__name__})") from None


def _read(fd: int, size: int, deadline: float | None, first: bool = False) -> bytes:
    chunks, remaining = [], size
    while remaining:
        _wait(fd, deadline)
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            if first and remaining == size:
                raise EOFError("the other side closed the pipe")
            raise WireError("the message was cut short")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _wait(fd: int, deadline: float | None, write: bool = False) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    ready = select.select([], [fd], [], remaining) if write else select.select([fd], [], [], remaining)
    if not any(ready):
        raise TimeoutError


# -- codec -----------------------------------------------------------------------------------

def _torch():
    import torch

    return torch


@functools.cache
def _dtypes() -> dict[str, Any]:
    torch = _torch()
    return {name: getattr(torch, name) for name in TENSOR_DTYPES}


def _dtype_name(dtype) -> str:
    name = str(dtype).removeprefix("torch.")
    if name not in TENSOR_DTYPES:
        raise TypeError(f"tensors of dtype {name} cannot be sent")
    return name


def _npy(array: np.ndarray, blobs: list[bytes]) -> int:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    blobs.append(buffer.getvalue())
    return len(blobs) - 1


def encode(value: Any, blobs: list[bytes], keep: Callable[[Any], dict] | None = None) -> Any:
    """``value`` as JSON-able data, its array payloads appended to ``blobs``.

    ``keep(obj)`` stores an object that is not data and returns its handle
    (``{"__ref__": n, ...}``); without it such an object is a TypeError.
    """
    torch = _torch()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return {"__float__": repr(float(value))}
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        name = _dtype_name(tensor.dtype)
        array = tensor.cpu().float() if name == "bfloat16" else tensor.cpu()
        return {"__tensor__": _npy(array.resolve_conj().resolve_neg().numpy(), blobs), "dtype": name,
                "device": str(tensor.device), "requires_grad": bool(value.requires_grad),
                "parameter": isinstance(value, torch.nn.Parameter)}
    if isinstance(value, np.ndarray):
        if value.dtype.name not in ARRAY_DTYPES:
            raise TypeError(f"numpy arrays of dtype {value.dtype} cannot be sent")
        return {"__ndarray__": _npy(value, blobs)}
    if isinstance(value, np.generic):
        return encode(value.item(), blobs, keep)
    if isinstance(value, torch.dtype):
        return {"__dtype__": _dtype_name(value)}
    if isinstance(value, torch.Size):
        return {"__tuple__": [int(v) for v in value]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, blobs, keep) for v in value]}
    if isinstance(value, list):
        return [encode(v, blobs, keep) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, blobs, keep) for k, v in value.items()}}
    if keep is not None:
        return keep(value)
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def decode(data: Any, blobs: list[bytes], resolve: Callable[[dict], Any] | None = None,
           restore_grad: bool = False) -> Any:
    """The inverse of :func:`encode`; anything it does not understand is a WireError.

    ``resolve(handle)`` turns a ``__ref__`` back into an object. ``restore_grad``
    re-creates parameters and ``requires_grad`` (the worker's side); the judge
    receives plain tensors.
    """
    try:
        return _decode(data, blobs, resolve, restore_grad)
    except WireError:
        raise
    except RecursionError:
        raise WireError("the value is nested too deeply") from None
    except Exception as error:  # noqa: BLE001 - whatever broke, the message is at fault
        raise WireError(f"the value could not be read ({type(error).__name__}: {error})") from None


def _decode(data: Any, blobs: list[bytes], resolve, restore_grad: bool) -> Any:
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, list):
        return [_decode(v, blobs, resolve, restore_grad) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise WireError(f"unexpected {type(data).__name__} in a value")
    if "__float__" in data:
        return float(_field(data, "__float__", str))
    if "__tuple__" in data:
        return tuple(_decode(v, blobs, resolve, restore_grad) for v in _field(data, "__tuple__", list))
    if "__dict__" in data:
        return {str(k): _decode(v, blobs, resolve, restore_grad) for k, v in _field(data, "__dict__", dict).items()}
    if "__dtype__" in data:
        return _dtypes()[_whitelisted(_field(data, "__dtype__", str))]
    if "__ndarray__" in data:
        array = _load(blobs, _field(data, "__ndarray__", int))
        if array.dtype.name not in ARRAY_DTYPES:
            raise WireError(f"arrays of dtype {array.dtype} are not accepted")
        return array
    if "__tensor__" in data:
        return _tensor(data, blobs, restore_grad)
    if "__ref__" in data:
        _field(data, "__ref__", int)
        if resolve is None:
            raise WireError("unexpected object handle")
        return resolve(data)
    raise WireError(f"unknown value with keys {sorted(map(str, data))[:5]}")


def _tensor(data: dict, blobs: list[bytes], restore_grad: bool):
    torch = _torch()
    name = _whitelisted(_field(data, "dtype", str))
    array = _load(blobs, _field(data, "__tensor__", int))
    if array.dtype.name != TENSOR_DTYPES[name]:
        raise WireError(f"{a_or_an(name)} tensor arrived with {a_or_an(array.dtype.name)} payload")
    tensor = torch.from_numpy(np.array(array, copy=True)).to(_dtypes()[name])
    device = data.get("device", "cpu")
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise WireError(f"unknown device {device!r}")
    if device != "cpu" and torch.cuda.is_available():
        tensor = tensor.to(device)
    requires_grad = data.get("requires_grad", False) is True
    if restore_grad and data.get("parameter") is True:
        return torch.nn.Parameter(tensor, requires_grad=requires_grad)
    if restore_grad and requires_grad and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    return tensor


def _field(data: dict, key: str, kind: type) -> Any:
    value = data[key]
    if type(value) is not kind:
        raise WireError(f"{key} should be {a_or_an(kind.__name__)}, not {type(value).__name__}")
    return value


def _whitelisted(name: str) -> str:
    if name not in TENSOR_DTYPES:
        raise WireError(f"dtype {name!r} is not accepted")
    return name


def _load(blobs: list[bytes], index: int) -> np.ndarray:
    if not 0 <= index < len(blobs):
        raise WireError(f"blob {index} does not exist")
    try:
        array = np.load(io.BytesIO(blobs[index]), allow_pickle=False)
    except Exception as error:  # noqa: BLE001
        raise WireError(f"blob {index} is not a .npy array ({type(error).__name__})") from None
    if not isinstance(array, np.ndarray):
        raise WireError(f"blob {index} is not a .npy array")
    return array
