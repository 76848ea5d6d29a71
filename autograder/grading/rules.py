"""The from-scratch rule: which routes each graded item may not take.

Routes come from two places and meet here as :class:`~autograder.model.Route`
records. The route monitor (``autograder.sandbox.monitor``, in the worker) reports
what ran during each call, whatever Python route reached it: an aten convolution, pooling, im2col or padding operator (a
dispatch mode), numpy's and scipy's convolutions and autograd (tripwires). That
is where forbidden operators are decided. :func:`scan` reads the source of each
solution cell for the one thing the monitor cannot judge: code that could switch
it off or hide from it. Each route falls in a category; an item's
:class:`ItemRule` (declared in its assignment's cases file) says which
categories it may use. A forbidden route scores the whole item 0, also when
another of the student's functions that the item calls took it (Conv2D built
on a corr2d that calls F.conv2d is not built from scratch either). Code that
could switch the monitor off scores the whole notebook 0.

``autograder.release.rules_cell`` writes every ban of this module into each notebook's
rules cell, and ``tests/autograder/release/test_rules_cell.py`` fails on a ban the cell
does not name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from autograder.model import Route
from autograder.sandbox import monitor

CATEGORIES = ("convolution", "pooling", "padding", "autograd", "indirection")
FORBIDDEN_BY_DEFAULT = frozenset({"convolution", "pooling", "autograd", "indirection"})

# Which routes are watched is the route monitor's catalogue (the worker imports it without this grading layer):
# aten operators by name, numpy's and scipy's convolutions, autograd's entry points. Here they are classified.
WATCHED_OP = monitor.WATCHED_OP
NUMPY_CONVOLUTIONS = monitor.NUMPY_CONVOLUTIONS
SCIPY_CONVOLUTIONS = monitor.SCIPY_CONVOLUTIONS
AUTOGRAD_ROUTES = {route for _, _, route in monitor.AUTOGRAD_ENTRIES}


@dataclass(frozen=True)
class ItemRule:
    """Exceptions to the default rule for one item: categories it may use, or may not."""

    allow: frozenset[str] = frozenset()
    forbid: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = (self.allow | self.forbid) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown route categories {sorted(unknown)}; known: {', '.join(CATEGORIES)}")

    @property
    def forbidden(self) -> frozenset[str]:
        return (FORBIDDEN_BY_DEFAULT | self.forbid) - self.allow


def category(route: Route) -> str:
    """Which category a route falls in: the scan names it; run-time routes by their operator."""
    if route.category:
        return route.category
    what = route.what
    if what in AUTOGRAD_ROUTES:
        return "autograd"
    if what.startswith("aten."):
        return _name_category(what.removeprefix("aten.").split(".")[0])
    if what.startswith(("numpy.", "scipy.")):
        return "convolution"
    return "indirection"   # "the dispatch monitor was removed", and anything unknown


def _name_category(name: str) -> str:
    name = name.lower()
    return "pooling" if "pool" in name else "padding" if "pad" in name else "convolution"


def violations(rule: ItemRule, routes: Iterable[Route]) -> list[Route]:
    """The routes that break ``rule``."""
    return sorted({route for route in routes if category(route) in rule.forbidden})



# -- the static half: what the source of a solution cell may not hold ---------------------------------
#
# Forbidden operators are the monitor's to find, however they are reached. The source is read only for what
# could defeat the monitor, in two degrees.
#
# The whole notebook scores 0 for code that could switch the monitor off, for every item at once, or run code
# where it does not look: reach the worker's objects (its route recorder, its tripwires, its import hook) through
# the interpreter's internals, change torch's dispatch machinery, or run code in another thread or process.
TAMPER_MODULES = {
    "gc", "ctypes", "_ctypes", "inspect", "builtins", "__main__",       # live objects, memory, frames, the worker
    "autograder",                                                       # the worker's own modules
    "signal", "_thread", "threading", "concurrent", "asyncio", "multiprocessing", "subprocess", "_posixsubprocess",
    "pty", "joblib", "torch.multiprocessing",                           # code run outside the watched call
    "torch._C", "torch._ops", "torch._dispatch", "torch.library", "torch._library",
    "torch.utils._python_dispatch", "torch._decomp", "torch._refs", "torch._prims",   # torch's dispatch machinery
}
# A banned module also counts as an attribute of another (``np._core.numeric.builtins``), except those whose
# names other things share: ``scipy.signal`` is no ``signal`` module.
SHARED_MODULE_NAMES = {"signal", "code", "site"}


def _as_attributes(modules: set[str]) -> set[str]:
    return {module for module in modules if "." not in module} - SHARED_MODULE_NAMES


# Attribute names, on any object (``from M import NAME`` too).
TAMPER_ATTRIBUTES = {
    "_getframe", "_current_frames", "f_back", "f_globals", "f_locals", "f_builtins",              # frames
    "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__self__",       # object internals
    "get_objects", "get_referrers", "get_referents",                                              # gc
    "meta_path", "path_hooks", "settrace", "setprofile",                                          # imports, tracing
    "Thread", "ThreadPool", "ThreadPoolExecutor", "ProcessPoolExecutor", "Popen", "start_new_thread",
    "_C", "_ops", "_dispatch", "_library", "_decomp", "_refs", "_prims", "_python_dispatch",
    "TorchDispatchMode", "__torch_dispatch__", "_DisableTorchDispatch", "ExcludeDispatchKeyGuard",
    "_ExcludeDispatchKeyGuard", "DispatchKey", "DispatchKeySet", "_pop_torch_dispatch_stack",
    "_push_on_torch_dispatch_stack", "_set_torch_dispatch_mode", "_disable_current_modes", "_pop_mode",
    "_pop_mode_temporarily", "redispatch", "_op_dk", "py_impl", "py_kernels", "decompose",
    "_execution_engine", "_engine_run_backward", "run_backward", "next_functions",   # autograd's engine, unwatched
} | _as_attributes(TAMPER_MODULES)
GRAPH_NODE_CALL = "grad_fn"   # y.grad_fn(g): one backward step, run by hand where the autograd watch does not look
# Attributes of one module only: (module, attribute); os's process functions by their prefix (os.execv...).
TAMPER_ON = {("sys", "modules"), ("torch", "library"), ("torch", "multiprocessing")}
OS_PROCESS_PREFIXES = ("system", "popen", "fork", "exec", "spawn", "posix_spawn")
# Names a cell may not use or define: the namespace's way to the interpreter and its importer, and the hook a
# tensor subclass would run forbidden operators in, hidden from the monitor.
TAMPER_NAMES = {"__builtins__", "__main__", "__loader__", "__spec__", "__torch_dispatch__"}
#
# That item scores 0 for a name computed at run time, or code given as text: either could reach a forbidden
# operator, or the grader's machinery, without this scan seeing its name.
COMPUTED_NAME_BUILTINS = {"getattr", "setattr", "hasattr", "delattr"}          # with a name that is not a literal
COMPUTED_NAME_GETTERS = {"attrgetter", "methodcaller"}                          # operator's, likewise
COMPUTED_NAME_METHODS = {"__getattribute__", "__getattr__", "__setattr__", "__delattr__"}   # x.__getattribute__(n)
CODE_FROM_TEXT_BUILTINS = {"eval", "exec", "compile", "__import__", "vars", "globals", "locals"}  # globals()["x"]: fine
INDIRECT_MODULES = {"importlib", "pickle", "_pickle", "marshal", "shelve", "pkgutil", "runpy", "pydoc", "zipimport",
                    "code", "codeop", "timeit", "doctest", "unittest", "logging.config", "site"}
INDIRECT_ATTRIBUTES = {"__dict__", "__import__", "get_type_hints", "ForwardRef"} | _as_attributes(INDIRECT_MODULES)
INDIRECT_ON = {("sys", "path")}
# Unpickling runs whatever code the data names: keyword -> the one value that is safe.
UNPICKLING_KEYWORDS = {"allow_pickle": False, "weights_only": True}
# type(name, bases, namespace) makes a class whose attribute names are computed.
CLASS_FROM_TEXT = ("type", 3)
# The contract's forbidden routes, which the monitor sees as operators anyway: torch.ops.aten.*, torch._C._nn.*
FORBIDDEN_ON = {("torch", "ops"), ("_C", "_nn")}


def scan(source: str, cell: str) -> tuple[list[Route], list[Route]]:
    """(routes that score this cell's item 0, tampering that scores the notebook 0) in one solution cell's source.

    Forbidden operators are not looked for here: the worker's monitor sees them when they run, whatever the
    route. Docstrings, comments and messages are not read.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [], []
    return _Scan(tree, cell).run()


class _Scan:
    """One pass over a cell's syntax tree."""

    def __init__(self, tree: ast.AST, cell: str) -> None:
        self.tree, self.cell = tree, cell
        self.parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        self.aliases: dict[str, str] = {}     # local name -> what it was imported as: "np" -> "numpy"
        self.item: set[Route] = set()
        self.tamper: set[Route] = set()

    def run(self) -> tuple[list[Route], list[Route]]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.module(alias.name, node)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self.module(f"{node.module or ''}.{alias.name}".lstrip("."), node)
                    self.attribute(node.module or "", alias.name, node)
            elif isinstance(node, ast.Attribute):
                self.attribute(self.resolve(node.value), node.attr, node)
            elif isinstance(node, ast.Name):
                self.name(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in TAMPER_NAMES:
                self.flag(self.tamper, f"def {node.name}", node)
            elif isinstance(node, ast.Call):
                self.call(node)
        return sorted(self.item), sorted(self.tamper)

    def flag(self, into: set[Route], what: str, node: ast.AST) -> None:
        into.add(Route(what, self.cell, "source", getattr(node, "lineno", None), "indirection"))

    def resolve(self, node: ast.AST) -> str:
        """The dotted name an expression spells, imports resolved: ``F.conv2d`` -> torch.nn.functional.conv2d."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        return ".".join([self.aliases.get(node.id, node.id), *reversed(parts)])

    def module(self, name: str, node: ast.AST) -> None:
        """``import NAME`` or ``from A import B`` (NAME = A.B)."""
        prefixes = {".".join(name.split(".")[:n]) for n in range(1, name.count(".") + 2)}
        if prefixes & {"torch._C._nn"}:
            self.flag(self.item, f"import {name}", node)
        elif prefixes & TAMPER_MODULES:
            self.flag(self.tamper, f"import {name}", node)
        elif prefixes & INDIRECT_MODULES:
            self.flag(self.item, f"import {name}", node)

    def attribute(self, owner: str, attr: str, node: ast.AST) -> None:
        """``owner.attr``, with ``owner`` resolved through the cell's imports ("" where it is not a plain name)."""
        what = f"{owner}.{attr}" if owner else f".{attr}"
        last = owner.split(".")[-1]
        parent = self.parents.get(node)
        if attr == "_C" and isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "_nn":
            return                                      # torch._C._nn: the contract's forbidden route, named below
        if attr in TAMPER_ATTRIBUTES or (last, attr) in TAMPER_ON or (
                last in ("os", "posix") and attr.startswith(OS_PROCESS_PREFIXES)):
            self.flag(self.tamper, what, node)
        elif attr in INDIRECT_ATTRIBUTES or (last, attr) in INDIRECT_ON or (last, attr) in FORBIDDEN_ON:
            self.flag(self.item, what, node)
        elif attr in COMPUTED_NAME_METHODS | COMPUTED_NAME_GETTERS and isinstance(node, ast.Attribute) \
                and not self.called(node):
            self.flag(self.item, f"{what} used as a value", node)

    def name(self, node: ast.Name) -> None:
        if node.id in TAMPER_NAMES:
            self.flag(self.tamper, node.id, node)
        elif self.builtin(node) in COMPUTED_NAME_BUILTINS | CODE_FROM_TEXT_BUILTINS | COMPUTED_NAME_GETTERS:
            if isinstance(node.ctx, ast.Load) and not self.called(node):
                self.flag(self.item, f"{node.id} used as a value", node)   # g = getattr; g(F, name)

    def builtin(self, node: ast.Name) -> str:
        """The built-in (or operator getter) a name stands for, or ""."""
        imported = self.aliases.get(node.id)
        if imported is None:
            return node.id
        return imported.split(".")[-1] if imported.split(".")[-1] in COMPUTED_NAME_GETTERS else ""

    def called(self, node: ast.AST) -> bool:
        parent = self.parents.get(node)
        return isinstance(parent, ast.Call) and parent.func is node

    def call(self, node: ast.Call) -> None:
        func, args = node.func, node.args
        if isinstance(func, ast.Attribute) and func.attr == GRAPH_NODE_CALL:
            self.flag(self.tamper, f"{self.resolve(func) or '.' + func.attr}(...)", node)
        name = self.builtin(func) if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) \
            and func.attr in COMPUTED_NAME_GETTERS | COMPUTED_NAME_METHODS else ""
        for keyword in node.keywords:
            safe = UNPICKLING_KEYWORDS.get(keyword.arg or "")
            if keyword.arg in UNPICKLING_KEYWORDS and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is safe):
                value = keyword.value.value if isinstance(keyword.value, ast.Constant) else "<computed>"
                self.flag(self.item, f"{keyword.arg}={value}", node)
        if name in COMPUTED_NAME_BUILTINS and len(args) >= 2:
            self.names(name, args[1:2], node, owner=args[0], self_exempt=True)
        elif name in COMPUTED_NAME_GETTERS:
            self.names(name, args[:1] if name == "methodcaller" else args, node)
        elif name in COMPUTED_NAME_METHODS:
            literal = [arg for arg in args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            self.names(name, literal[:1] or args[:1], node)
        elif name in ("globals", "locals"):
            parent = self.parents.get(node)
            key = parent.slice if isinstance(parent, ast.Subscript) and parent.value is node else None
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                if key.value in TAMPER_NAMES:
                    self.flag(self.tamper, f"{name}()[{key.value!r}]", node)
            else:
                self.flag(self.item, f"{name}()", node)
        elif name in CODE_FROM_TEXT_BUILTINS:
            self.flag(self.item, f"{name}(...)", node)
        elif (name, len(args)) == CLASS_FROM_TEXT:
            self.flag(self.item, "type(name, bases, namespace)", node)

    def names(self, function: str, args: list[ast.expr], node: ast.Call, owner: ast.expr | None = None,
              self_exempt: bool = False) -> None:
        """Names given to getattr and its kin: a literal is read like ``owner.name``; anything else is computed."""
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                for part in arg.value.split("."):
                    if part in COMPUTED_NAME_METHODS | COMPUTED_NAME_GETTERS | CODE_FROM_TEXT_BUILTINS:
                        self.flag(self.item, f"{function}(..., {part!r})", node)   # the next name is computed
                    self.attribute(self.resolve(owner) if owner is not None else "", part, node)
            elif not (self_exempt and isinstance(owner, ast.Name) and owner.id == "self"):
                self.flag(self.item, f"{function}(..., <computed name>)", node)
