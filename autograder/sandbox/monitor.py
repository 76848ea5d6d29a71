"""The route monitor: what records the watched routes a student's call takes, wherever student code runs.

One implementation for the worker (``autograder.sandbox.worker``) and for the instructor's notebook kernel
(``autograder.student.kernel.LocalStudent``). It watches two kinds of route:

- aten operators that implement convolution, pooling, im2col or padding, seen by a dispatch mode during the
  call, whatever Python route reached them (aliases, getattr, importlib, ``torch.ops``);
- numpy's and scipy's convolutions and autograd, which the dispatcher does not see, by tripwires: each records
  its route, then calls the original, in every module that holds the original. scipy.signal's and
  scipy.ndimage's modules are wired as they are imported (an import hook), also during a call.

A route is recorded with the notebook cell whose code took it, or "?" for a call whose function no cell's frame
runs (a builtin the notebook named, or any call in a notebook kernel, where no cell is known). The monitor also
counts each call's aten operators and, for speed checks, Python steps.

The catalogue of watched routes lives here; ``autograder.grading.rules`` classifies the routes it records. This
module imports only the standard library (torch when a monitor is made): the worker imports it before
``confine.confine`` moves it where this package does not exist, and the judge reads the catalogue without torch.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# Aten operators that implement convolution, pooling, im2col or padding, matched on the operator's name.
WATCHED_OP = re.compile(r"conv|pool|im2col|col2im|pad")
# numpy's convolutions, which the dispatcher does not see: (module, name, route). The tripwire of each replaces
# it in every numpy module that holds it, so its aliases (np._core.multiarray.correlate, numpy.core.numeric.
# convolve, the C functions np.convolve itself calls) are watched too.
NUMPY_CONVOLUTIONS = (("numpy._core.numeric", "convolve", "numpy.convolve"),
                      ("numpy._core.numeric", "correlate", "numpy.correlate"),
                      ("numpy._core._multiarray_umath", "correlate", "numpy._core.multiarray.correlate"),
                      ("numpy._core._multiarray_umath", "correlate2", "numpy._core.multiarray.correlate2"))
# Packages whose every function is watched (convolutions, filters), from the moment each module is imported.
SCIPY_CONVOLUTIONS = ("scipy.signal", "scipy.ndimage")
# Autograd's entry points: (owner in torch, name, route).
AUTOGRAD_ENTRIES = (("autograd", "backward", "torch.autograd.backward"), ("autograd", "grad", "torch.autograd.grad"),
                    ("Tensor", "backward", "Tensor.backward"))
UNATTRIBUTED = "?"   # the cell of a route taken during a call with no notebook cell on the stack


def scipy_package(module_name: str) -> str | None:
    """The watched scipy package (``scipy.signal``) that a module belongs to, or None."""
    return next((package for package in SCIPY_CONVOLUTIONS
                 if module_name == package or module_name.startswith(package + ".")), None)


def scipy_functions(module: object) -> list[tuple[str, object, str]]:
    """(name, function, route) of every function a watched scipy module defines (classes are left alone)."""
    package = scipy_package(getattr(module, "__name__", ""))
    namespace = getattr(module, "__dict__", None)
    if package is None or not isinstance(namespace, dict):
        return []
    found = []
    for name, value in list(namespace.items()):
        if callable(value) and not isinstance(value, type):
            home = getattr(value, "__module__", None) or getattr(getattr(value, "__self__", None), "__name__", "")
            if isinstance(home, str) and scipy_package(home) == package:
                found.append((name, value, f"{package}.{getattr(value, '__name__', name)}"))
    return found


_installed: list[RouteMonitor] = []    # the process's one monitor: its tripwires and import hook are global


def for_this_process() -> RouteMonitor:
    """The route monitor of this process, its tripwires installed on first use."""
    if not _installed:
        RouteMonitor()
    return _installed[0]


class RouteMonitor:
    """Records the watched routes student calls take, counts their operators; one per process."""

    def __init__(self) -> None:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode

        if _installed:
            raise RuntimeError("this process has a route monitor already: use monitor.for_this_process()")
        self.torch = torch
        self.routes: set[tuple[str, str]] = set()   # (route, cell) since the last take()
        self.cells: set[str] = set()        # notebook cells, by the file name their code was compiled with
        self.in_call = 0                    # student calls running now (the judge's are never nested in them)
        self.ops = 0                        # aten operators the last call ran (speed checks' counts)
        self.steps = 0                      # Python steps the last counted call took
        self._inside = 0                    # tripwires running: one inside another is not news
        self._judge_grad = torch.autograd.grad   # the judge's own backward: never a tripwire, never a route
        monitor = self

        class DispatchWatch(TorchDispatchMode):
            """Records watched aten operators run during a call, and counts them all."""

            @classmethod
            def _should_skip_dynamo(cls) -> bool:
                # torch would wrap __torch_dispatch__ to keep torch.compile out, importing
                # torch._dynamo (800 modules, seconds) on first use; nothing here compiles.
                return False

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                monitor.ops += 1
                name = str(func)
                if WATCHED_OP.search(name.removeprefix("aten.").split(".")[0]):
                    monitor.route(name)
                return func(*args, **(kwargs or {}))

        self._mode = DispatchWatch
        self._install_tripwires()
        _installed.append(self)

    # -- routes -------------------------------------------------------------------------------
    def route(self, what: str) -> None:
        """Record a watched route with the notebook cell whose code took it.

        With no notebook cell on the stack, a route taken during a student's call is the call's (its function
        may be a builtin the notebook named); any other is the judge's or the worker's own, and not recorded.
        """
        if not self.cells and not self.in_call:
            return          # nothing to attribute it to: the judge's own (a notebook kernel between calls)
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.strip("<>") not in self.cells:
            frame = frame.f_back
        if frame is not None:
            self.routes.add((what, frame.f_code.co_filename.strip("<>")))
        elif self.in_call:
            self.routes.add((what, UNATTRIBUTED))

    def take(self) -> list[tuple[str, str]]:
        """The routes recorded since the last take, sorted; the record starts afresh."""
        routes, self.routes = self.routes, set()
        return sorted(routes)

    # -- calls --------------------------------------------------------------------------------
    def call(self, target, args, kwargs):
        """``target(*args, **kwargs)`` as a student's call: its routes recorded, its aten operators counted."""
        torch = self.torch
        depth = torch._C._len_torch_dispatch_stack()
        self.ops = 0
        self.in_call += 1
        try:
            with self._mode():
                value = target(*args, **kwargs)
                if torch._C._len_torch_dispatch_stack() != depth + 1:
                    self.route("the dispatch monitor was removed")
        finally:
            self.in_call -= 1
        return value

    def counted(self, target, args, kwargs):
        """:meth:`call`, also counting the Python steps it takes (lines run, calls made) in this thread.

        For speed checks only: a count that grows with the input's size is a loop over it. The tracer slows the
        call down, so counted calls are never the timed ones.
        """
        steps = 0

        def tracer(frame, event, arg):
            nonlocal steps
            steps += 1
            return tracer

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            return self.call(target, args, kwargs)
        finally:
            sys.settrace(previous)
            self.steps = steps

    def grad(self, target, args, kwargs, wrt, dout) -> tuple[Any, tuple | None]:
        """:meth:`call` with the arguments at ``wrt`` requiring grad, then back-propagate the judge's ``dout``.

        ``(out, grads)``; ``grads`` is None when ``out`` carries no graph.
        """
        torch = self.torch
        inputs = [args[i] for i in wrt]
        for tensor in inputs:
            tensor.requires_grad_(True)
        out = self.call(target, args, kwargs)
        if not isinstance(out, torch.Tensor) or out.grad_fn is None:
            return (out, None)
        # The judge's own backward, through the untouched autograd.grad: it is not the student's route, also when
        # it raises (an output of the wrong shape for dout). What the student's own backward code does in it is
        # not monitored either: the graded function is the forward, called above under the monitor.
        grads = self._judge_grad(out, inputs, grad_outputs=dout.to(out.dtype), allow_unused=True)
        return (out, tuple(grads))

    # -- tripwires ------------------------------------------------------------------------------
    def _install_tripwires(self) -> None:
        """Watch numpy/scipy convolutions and autograd, which the dispatcher cannot see.

        A tripwire records its route, then calls the original. It takes the original's place in every module
        that holds it, so each alias is watched: numpy's convolutions in every numpy module (np._core.multiarray.
        correlate, the C functions np.convolve itself calls, numpy.core.numeric.convolve...), and every function
        of scipy.signal and scipy.ndimage as each of their modules is imported, whether a cell imports it when it
        loads or a graded function does during a call.
        """
        monitor = self
        wired: dict[int, tuple[Any, Any]] = {}     # id(original) -> (original, its tripwire); originals kept alive
        tripwires: set[int] = set()                 # their ids: a tripwire is never wired again

        def tripwire_for(original, label):
            if id(original) in tripwires:
                return original
            if id(original) not in wired:
                def tripwire(*args, **kwargs):
                    if monitor._inside:
                        return original(*args, **kwargs)
                    monitor.route(label)
                    monitor._inside += 1
                    try:
                        return original(*args, **kwargs)
                    finally:
                        monitor._inside -= 1

                # It reads as the original (not its __wrapped__): help(), pickling by name, torch's own checks.
                tripwire.__name__ = tripwire.__qualname__ = str(getattr(original, "__name__", "tripwire"))
                tripwire.__doc__ = getattr(original, "__doc__", None)
                tripwire.__module__ = getattr(original, "__module__", None) or tripwire.__module__
                wired[id(original)] = (original, tripwire)
                tripwires.add(id(tripwire))
            return wired[id(original)][1]

        def rewire(module):
            """Put tripwires in place of the originals that one module's namespace holds."""
            namespace = getattr(module, "__dict__", None)
            if isinstance(namespace, dict):
                for name, value in list(namespace.items()):
                    known = wired.get(id(value))
                    if known is not None and known[0] is value:
                        namespace[name] = known[1]

        for module_name, name, label in NUMPY_CONVOLUTIONS:
            original = getattr(sys.modules.get(module_name), name, None)
            if original is not None:
                tripwire_for(original, label)
        for module_name, module in list(sys.modules.items()):
            if module_name == "numpy" or module_name.startswith("numpy."):
                rewire(module)

        def wire_scipy(module):
            for _, original, label in scipy_functions(module):
                tripwire_for(original, label)
            rewire(module)
            if getattr(module, "__name__", "") in SCIPY_CONVOLUTIONS:   # a package done: its copies too
                for name, loaded in list(sys.modules.items()):
                    if name.startswith("scipy."):
                        rewire(loaded)

        class Wired:
            """A loader that runs the module, then wires its functions."""

            def __init__(self, loader):
                self.loader = loader

            def __getattr__(self, name):
                if name == "loader":
                    raise AttributeError(name)
                return getattr(self.loader, name)

            def create_module(self, spec):
                return self.loader.create_module(spec)

            def exec_module(self, module):
                self.loader.exec_module(module)
                wire_scipy(module)

        class ScipyWatch:
            """Wires scipy.signal's and scipy.ndimage's modules as they are imported."""

            def find_spec(self, fullname, path=None, target=None):
                if scipy_package(fullname) is None:
                    return None
                for finder in sys.meta_path:
                    spec = None if finder is self else getattr(finder, "find_spec", lambda *_: None)(
                        fullname, path, target)
                    if spec is not None:
                        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                            spec.loader = Wired(spec.loader)
                        return spec
                return None

        for module_name, module in list(sys.modules.items()):
            if scipy_package(module_name) is not None:
                wire_scipy(module)
        sys.meta_path.insert(0, ScipyWatch())

        for owner, name, label in AUTOGRAD_ENTRIES:
            holder = getattr(self.torch, owner)
            setattr(holder, name, tripwire_for(getattr(holder, name), label))
