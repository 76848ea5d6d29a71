"""The only place student code runs.

Started by ``autograder.sandbox`` as ``python -I worker.py FD_IN FD_OUT`` in an
empty environment and a temporary directory. It reads requests from one pipe and
answers on another; the student's stdout and stderr go to a capped file the
judge never parses. Only data crosses: a JSON header plus ``.npy`` blobs
(``allow_pickle=False``). Objects that are not data (a student's ``nn.Module``)
stay here and are named by a numeric handle.

This file is self-contained (standard library, numpy and torch only): the
isolated interpreter does not put the repository on ``sys.path``. The judge
imports the same codec (``encode``/``decode``/``read_message``/``write_message``).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import struct
import sys
import traceback
from typing import Any

import numpy as np

MAX_MESSAGE_BYTES = 512 * 1024 * 1024
_HEADER = struct.Struct("<Q")

# Aten operators that implement convolution, pooling, im2col or padding. Whatever
# Python route reaches them (aliases, getattr, importlib, torch.ops), they pass
# through the dispatcher, where the monitor below sees them; autograder.rules
# decides which of them each graded item may use.
FORBIDDEN_OP = re.compile(r"conv|pool|im2col|col2im|pad")

# ---------------------------------------------------------------------------
# Codec, shared with the judge.
# ---------------------------------------------------------------------------


def _torch():
    import torch

    return torch


def encode(value: Any, blobs: list[bytes], keep=None) -> Any:
    """Turn ``value`` into JSON-able data, appending array payloads to ``blobs``.

    ``keep(obj) -> int`` stores an object that is not data and returns its handle;
    without it such objects are an error.
    """
    torch = _torch()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"__float__": repr(value)}
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        dtype = str(tensor.dtype).removeprefix("torch.")
        array_source = tensor.cpu()
        if tensor.dtype == torch.bfloat16:
            array_source = array_source.float()
        array = array_source.resolve_conj().resolve_neg().numpy()
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {
            "__tensor__": len(blobs) - 1,
            "dtype": dtype,
            "device": str(tensor.device),
            "requires_grad": bool(value.requires_grad),
            "parameter": isinstance(value, torch.nn.Parameter),
        }
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("numpy arrays of Python objects cannot be sent")
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {"__ndarray__": len(blobs) - 1}
    if isinstance(value, np.generic):
        return encode(value.item(), blobs, keep)
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    if isinstance(value, torch.Size):
        return {"__tuple__": [int(v) for v in value]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, blobs, keep) for v in value]}
    if isinstance(value, list):
        return [encode(v, blobs, keep) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, blobs, keep) for k, v in value.items()}}
    if keep is not None:
        return {"__ref__": keep(value), "type": type(value).__name__,
                "mro": [f"{c.__module__}.{c.__qualname__}" for c in type(value).__mro__]}
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def decode(data: Any, blobs: list[bytes], resolve=None, restore_grad: bool = False) -> Any:
    """Inverse of :func:`encode`. ``resolve(handle)`` turns a ``__ref__`` back.

    ``restore_grad`` re-creates parameters and ``requires_grad`` (the worker
    side); the judge receives plain tensors.
    """
    torch = _torch()
    if isinstance(data, list):
        return [decode(v, blobs, resolve, restore_grad) for v in data]
    if not isinstance(data, dict):
        return data
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v, blobs, resolve, restore_grad) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v, blobs, resolve, restore_grad) for k, v in data["__dict__"].items()}
    if "__dtype__" in data:
        return getattr(torch, data["__dtype__"])
    if "__ndarray__" in data:
        return np.load(io.BytesIO(blobs[data["__ndarray__"]]), allow_pickle=False)
    if "__tensor__" in data:
        array = np.load(io.BytesIO(blobs[data["__tensor__"]]), allow_pickle=False)
        tensor = torch.from_numpy(np.array(array, copy=True))
        dtype = getattr(torch, data["dtype"])
        tensor = tensor.to(dtype)
        device = data.get("device", "cpu")
        if device != "cpu" and torch.cuda.is_available():
            tensor = tensor.to(device)
        if restore_grad and data.get("parameter"):
            return torch.nn.Parameter(tensor, requires_grad=data.get("requires_grad", True))
        if restore_grad and data.get("requires_grad") and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor
    if "__ref__" in data:
        if resolve is None:
            raise TypeError("unexpected object handle")
        return resolve(data)
    raise TypeError(f"unknown message fragment with keys {sorted(data)}")


def write_message(fd: int, header: dict, blobs: list[bytes]) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header).encode()
    payload = b"".join([_HEADER.pack(len(head)), head, *blobs])
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, limit: int = MAX_MESSAGE_BYTES) -> tuple[dict, list[bytes]]:
    (head_size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    if head_size > limit:
        raise ValueError(f"message header of {head_size} bytes is over the limit")
    header = json.loads(_read_exactly(fd, head_size))
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or sum(sizes) + head_size > limit:
        raise ValueError("message payload is over the limit")
    return header, [_read_exactly(fd, int(size)) for size in sizes]


# ---------------------------------------------------------------------------
# Worker side.
# ---------------------------------------------------------------------------


class Worker:
    """Runs the notebook's code cells, then answers calls on its namespace."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode

        self.torch = torch
        self.fd_in, self.fd_out = fd_in, fd_out
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self.objects: dict[int, Any] = {}
        self.flags: list[str] = []

        worker = self

        class Monitor(TorchDispatchMode):
            """Records forbidden aten operators run during a graded call."""

            @classmethod
            def _should_skip_dynamo(cls) -> bool:
                # torch would wrap __torch_dispatch__ to keep torch.compile out, importing
                # torch._dynamo (800 modules, seconds) on first use; nothing here compiles.
                return False

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                name = str(func)
                if FORBIDDEN_OP.search(name.removeprefix("aten.").split(".")[0]):
                    worker.flag(name)
                return func(*args, **(kwargs or {}))

        self.Monitor = Monitor
        self._install_tripwires()

    def _install_tripwires(self) -> None:
        """Flag numpy/scipy convolutions and autograd, which the dispatcher cannot see."""
        worker = self

        def wrap(owner, name, label):
            original = getattr(owner, name, None)
            if original is None:
                return

            def tripwire(*args, **kwargs):
                worker.flag(label)
                return original(*args, **kwargs)

            setattr(owner, name, tripwire)

        for name in ("convolve", "correlate"):
            wrap(np, name, f"numpy.{name}")
        torch = self.torch
        wrap(torch.autograd, "backward", "torch.autograd.backward")
        wrap(torch.autograd, "grad", "torch.autograd.grad")
        wrap(torch.Tensor, "backward", "Tensor.backward")

        class ScipyBlocker:
            """Flags importing scipy's signal/ndimage modules (convolutions)."""

            def find_spec(self, fullname, path=None, target=None):
                if fullname.split(".")[:2] in (["scipy", "signal"], ["scipy", "ndimage"]):
                    worker.flag(f"import {fullname}")
                return None

        sys.meta_path.insert(0, ScipyBlocker())

    def flag(self, route: str) -> None:
        """Record a forbidden route with the notebook cell whose code took it."""
        frame = sys._getframe(1)
        while frame is not None and not frame.f_code.co_filename.startswith("<"):
            frame = frame.f_back
        cell = frame.f_code.co_filename.strip("<>") if frame is not None else "?"
        self.flags.append(f"{route} in cell {cell}")

    # -- handles ------------------------------------------------------------
    def keep(self, obj: Any) -> int:
        handle = id(obj)
        self.objects[handle] = obj
        return handle

    def resolve(self, data: dict) -> Any:
        try:
            return self.objects[data["__ref__"]]
        except KeyError:
            raise KeyError(f"no object with handle {data['__ref__']}") from None

    # -- requests -----------------------------------------------------------
    def serve(self) -> None:
        while True:
            try:
                header, blobs = read_message(self.fd_in)
            except EOFError:
                return
            reply_blobs: list[bytes] = []
            try:
                reply = self.handle(header, blobs, reply_blobs)
            except BaseException as error:  # noqa: BLE001 - student code may raise anything
                reply_blobs = []
                reply = {"ok": False, "error": _describe(error)}
            reply["flags"] = sorted(set(self.flags))
            reply["nonce"] = header.get("nonce")
            self.flags.clear()
            try:
                write_message(self.fd_out, reply, reply_blobs)
            except TypeError as error:
                write_message(self.fd_out, {"ok": False, "error": _describe(error), "flags": reply["flags"],
                                            "nonce": reply["nonce"]}, [])

    def handle(self, header: dict, blobs: list[bytes], reply_blobs: list[bytes]) -> dict:
        op = header["op"]
        if op == "ping":
            return {"ok": True, "in_force": getattr(self, "in_force", [])}
        if op == "exec":
            return self.exec_cell(header["source"], header.get("name", "<cell>"))
        if op == "release":
            for handle in header.get("handles", []):
                self.objects.pop(handle, None)
            return {"ok": True}
        target = self._target(header["target"])
        args = decode(header.get("args", []), blobs, self.resolve, restore_grad=True)
        kwargs = decode(header.get("kwargs", {"__dict__": {}}), blobs, self.resolve, restore_grad=True)
        originals = self._snapshot(args, kwargs)
        if op == "getattr":
            value = getattr(target, header["name"])
        elif op == "setattr":
            value = self._setattr(target, header["name"], args[0])
        elif op == "call":
            value = self._monitored(target, args, kwargs)
        elif op == "grad":
            dout = decode(header["dout"], blobs)
            value = self._grad(target, args, kwargs, header["wrt"], dout)
        else:
            raise ValueError(f"unknown operation {op!r}")
        return {"ok": True, "value": encode(value, reply_blobs, self.keep),
                "mutated": self._mutated(originals, args, kwargs)}

    def _snapshot(self, args: list, kwargs: dict) -> dict:
        """Copies of the tensor arguments, to tell whether the call modified them."""
        named = {**{str(i): v for i, v in enumerate(args)}, **kwargs}
        return {k: v.detach().clone() for k, v in named.items() if isinstance(v, self.torch.Tensor)}

    def _mutated(self, originals: dict, args: list, kwargs: dict) -> list[str]:
        named = {**{str(i): v for i, v in enumerate(args)}, **kwargs}
        changed = []
        for key, before in originals.items():
            after = named[key].detach()
            same = after.shape == before.shape and after.dtype == before.dtype and bool(
                ((after == before) | (after.isnan() & before.isnan())).all()
                if after.is_floating_point() else (after == before).all())
            if not same:
                changed.append(key)
        return changed

    def _target(self, target: Any) -> Any:
        if isinstance(target, dict):
            return self.resolve(target)
        if target not in self.namespace:
            raise NameError(f"name {target!r} is not defined by your notebook")
        return self.namespace[target]

    def _setattr(self, target: Any, name: str, value: Any) -> None:
        torch = self.torch
        current = getattr(target, name, None)
        if isinstance(current, torch.nn.Parameter) and isinstance(value, torch.Tensor):
            value = torch.nn.Parameter(value.detach().clone())
        setattr(target, name, value)

    def _monitored(self, target, args, kwargs):
        mode = self.Monitor()
        depth = self.torch._C._len_torch_dispatch_stack()
        with mode:
            value = target(*args, **kwargs)
            if self.torch._C._len_torch_dispatch_stack() != depth + 1:
                self.flag("the dispatch monitor was removed")
        return value

    def _grad(self, target, args, kwargs, wrt, dout):
        """Call, then back-propagate the judge's upstream gradient ``dout``."""
        torch = self.torch
        inputs = [args[i] for i in wrt]
        for tensor in inputs:
            tensor.requires_grad_(True)
        out = self._monitored(target, args, kwargs)
        flags_before = list(self.flags)
        if not isinstance(out, torch.Tensor) or out.grad_fn is None:
            return (out, None)
        grads = torch.autograd.grad(out, inputs, grad_outputs=dout.to(out.dtype), allow_unused=True)
        self.flags[:] = flags_before  # the judge's own backward call is not the student's
        return (out, tuple(grads))

    def exec_cell(self, source: str, name: str) -> dict:
        try:
            code = compile(source, f"<{name}>", "exec")
            exec(code, self.namespace)  # noqa: S102 - this process exists to run it
        except BaseException as error:  # noqa: BLE001
            return {"ok": False, "error": _describe(error)}
        return {"ok": True}


def _describe(error: BaseException) -> dict:
    """Type, message and the student's own frames of a traceback."""
    frames = [
        f"{frame.filename}, line {frame.lineno}, in {frame.name}"
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith("<")
    ]
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<unprintable message>"
    kinds = [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"]
    return {"type": type(error).__name__, "kinds": kinds, "message": message, "where": frames[-5:]}


def confine(config: dict) -> list[str]:
    """Lock this process in before any student code runs; return what is in force.

    Inside the fresh mount namespace the sandbox started us in (when it could):
    hide the directories the student must not see (hidden cases, solutions,
    other submissions, .git with its tokens) under empty read-only tmpfs mounts,
    give /tmp, /var/tmp and /dev/shm small private tmpfs mounts, and work in
    /tmp/work. Then set the resource limits and, when we are root, become an
    unprivileged user for good. Limits set here hold whatever launched us.
    """
    import resource
    import subprocess

    in_force = []
    home = os.getcwd()
    if config.get("mount_namespace"):
        # Every existing mount read-only, then private writable tmpfs on top.
        with open("/proc/self/mounts") as mounts:
            targets = [line.split()[1] for line in mounts]
        for target in targets:
            if not target.startswith(("/proc", "/sys", "/dev")):
                subprocess.run(["mount", "-o", "remount,bind,ro", target], capture_output=True)
        for directory in config.get("hide", []):
            if os.path.isdir(directory):
                subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=4k,mode=0555", "tmpfs", directory],
                               check=True, capture_output=True)
        # Writable: only a small private tmpfs on the working directory (and on
        # /dev/shm, which the read-only pass leaves alone). /tmp itself stays as it
        # was, read-only: the interpreter or the course may live below it.
        size = config["limits"]["file_bytes"] * 4
        for directory in ("/dev/shm", home):
            if os.path.isdir(directory):
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", directory],
                               check=True, capture_output=True)
        in_force.append(f"hidden: {len(config.get('hide', []))} directories; read-only filesystem; "
                        f"private {size >> 20} MiB working directory")
    limits = config["limits"]
    for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_NOFILE", limits["open_files"]),
                        ("RLIMIT_AS", limits["address_space"])):
        kind = getattr(resource, name)
        _, hard = resource.getrlimit(kind)
        if value == resource.RLIM_INFINITY:
            value = hard
        elif hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))
    in_force.append("rlimits")
    uid = config.get("uid")
    if uid is not None and os.geteuid() == 0:
        os.chown(home, uid, uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        in_force.append(f"uid {uid}")
    elif config.get("user_namespace"):
        # We are root only inside our own user namespace; a nested one without
        # a mapping leaves no capability over the mounts set up above.
        import ctypes

        if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")
        in_force.append("no capabilities (nested user namespace)")
    os.chdir(home)
    os.environ["HOME"] = os.environ["TMPDIR"] = os.environ["MPLCONFIGDIR"] = home
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file fails the write, not the worker
    return in_force


def main() -> None:
    config = json.loads(sys.argv[1])
    fd_in, fd_out = config["fd_in"], config["fd_out"]
    # Student code must not reach the protocol pipes through stdin/stdout.
    os.set_inheritable(fd_in, False)
    os.set_inheritable(fd_out, False)
    in_force = confine(config)
    worker = Worker(fd_in, fd_out)
    worker.in_force = in_force
    worker.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
