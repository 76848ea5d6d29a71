"""The from-scratch rule: which routes each graded item may not take.

Routes come from two places and meet here as :class:`~autograder.records.Route`
records: the worker's monitor reports what ran during each call (an aten
convolution, pooling, im2col or padding operator reached by any Python path;
numpy or scipy convolutions; autograd), and :func:`scan` reads the source of
each solution cell. Each route falls in a category; an item's
:class:`ItemRule` (declared in its assignment's cases file) says which
categories it may use. A forbidden route scores the whole item 0, also when
another of the student's functions that the item calls took it (Conv2D built
on a corr2d that calls F.conv2d is not built from scratch either). Reaching for
the grader's own machinery scores the whole notebook 0.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

from autograder.records import Route

CATEGORIES = ("convolution", "pooling", "padding", "autograd", "indirection")
FORBIDDEN_BY_DEFAULT = frozenset({"convolution", "pooling", "autograd", "indirection"})

AUTOGRAD_ROUTES = {"torch.autograd.backward", "torch.autograd.grad", "Tensor.backward"}
# Aten operators that implement convolution, pooling, im2col or padding. Whatever Python route reaches
# them (aliases, getattr, importlib, torch.ops), they pass through the dispatcher, where the monitors of
# the worker and of ``autograder.inline`` see them.
WATCHED_OP = re.compile(r"conv|pool|im2col|col2im|pad")


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
    if what.startswith(("numpy.", "import scipy")):
        return "convolution"
    return "indirection"   # "the dispatch monitor was removed", and anything unknown


def _name_category(name: str) -> str:
    name = name.lower()
    return "pooling" if "pool" in name else "padding" if "pad" in name else "convolution"


def violations(rule: ItemRule, routes: Iterable[Route]) -> list[Route]:
    """The routes that break ``rule``."""
    return sorted({route for route in routes if category(route) in rule.forbidden})


# -- the static half: what the source of a solution cell may not mention ------------------------

# Ready-made convolution, pooling and im2col, as attributes (F.conv2d, nn.MaxPool2d,
# np.convolve), imported names, or literal names given to getattr.
FORBIDDEN_NAMES = re.compile(
    r"^(conv[123]d|conv_transpose[123]d|conv_tbc|convolution|(max|avg|lp|fractional_max)_pool[123]d"
    r"|max_unpool[123]d|adaptive_(max|avg)_pool[123]d|im2col|col2im|fold|unfold"
    r"|Conv[123]d|ConvTranspose[123]d|(Max|Avg|LP|FractionalMax|AdaptiveMax|AdaptiveAvg)Pool[123]d"
    r"|MaxUnpool[123]d|Unfold|Fold|convolve|correlate|correlate2d|convolve2d|fftconvolve|oaconvolve)$")
# Ways to reach code by a computed name, which would hide a forbidden one from this scan.
INDIRECT_MODULES = {"importlib", "scipy", "operator", "torch._C"}
INDIRECT_CALLS = {"__import__", "eval", "exec", "compile", "vars"}
# Ways to reach the grader's own machinery (the route monitor): no CNN exercise needs them.
TAMPER_MODULES = {"gc", "ctypes", "inspect", "builtins", "signal", "_thread", "torch.utils._python_dispatch",
                  "autograder"}   # the worker's own modules: its monitor, its wire, the speed checks' echo
TAMPER_ATTRIBUTES = {"_getframe", "f_back", "f_globals", "f_locals", "__globals__", "__code__", "__closure__",
                     "__subclasses__", "__builtins__", "get_objects", "get_referrers", "meta_path", "settrace",
                     "setprofile", "_pop_torch_dispatch_stack", "_set_torch_dispatch_mode",
                     "_disable_current_modes", "_python_dispatch", "TorchDispatchMode", "_current_frames"}
TAMPER_ON = {("sys", "modules")}
# The contract's other forbidden routes: torch.ops.aten.*, torch._C._nn.*
FORBIDDEN_ON = {("torch", "ops"), ("torch", "_C")}
TAMPER_NAMES = {"__builtins__", "__main__", "__loader__", "__spec__"}
# Tensor.unfold is allowed (the contract); only the functional one is im2col.
FUNCTIONAL_OWNERS = {"F", "functional", "nn", "torch"}


def scan(source: str, cell: str) -> tuple[list[Route], list[Route]]:
    """(forbidden routes, tampering) that the source of one solution cell names.

    The dynamic monitor in the worker sees every watched operator that runs;
    this scan catches what would switch that monitor off or hide from it.
    Docstrings, comments and messages are not read.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [], []
    forbidden: set[Route] = set()
    tampering: set[Route] = set()

    def found(into: set, what: str, node: ast.AST, name: str = "") -> None:
        kind = _name_category(name) if name else "indirection"
        into.add(Route(what, cell, "source", getattr(node, "lineno", None), kind))

    def imported(module: str, node: ast.AST) -> None:
        top = module.split(".")[0]
        if module in TAMPER_MODULES or top in TAMPER_MODULES:
            found(tampering, f"import {module}", node)
        elif top in INDIRECT_MODULES or module in INDIRECT_MODULES:
            found(forbidden, f"import {module}", node)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported(alias.name, node)
        elif isinstance(node, ast.ImportFrom):
            imported(node.module or "", node)
            for alias in node.names:
                imported(f"{node.module}.{alias.name}", node)
                if FORBIDDEN_NAMES.match(alias.name) and not (alias.name == "unfold" and node.module == "torch"):
                    found(forbidden, f"from {node.module} import {alias.name}", node, alias.name)
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            dotted = _dotted(node)
            if node.attr in TAMPER_ATTRIBUTES or (owner, node.attr) in TAMPER_ON:
                found(tampering, dotted, node)
            elif node.attr == "unfold":
                if owner in FUNCTIONAL_OWNERS:
                    found(forbidden, dotted, node, node.attr)
            elif FORBIDDEN_NAMES.match(node.attr):
                found(forbidden, dotted, node, node.attr)
            elif node.attr == "__dict__" or (owner, node.attr) in FORBIDDEN_ON:
                found(forbidden, dotted, node)
        elif isinstance(node, ast.Name) and node.id in TAMPER_NAMES:
            found(tampering, node.id, node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, args = node.func.id, node.args
            if name in INDIRECT_CALLS:
                found(forbidden, f"{name}(...)", node)
            elif name in {"getattr", "setattr", "hasattr"} and len(args) >= 2:
                if not isinstance(args[1], ast.Constant):
                    if not (isinstance(args[0], ast.Name) and args[0].id == "self"):
                        found(forbidden, f"{name}(..., <computed name>)", node)
                elif isinstance(args[1].value, str) and FORBIDDEN_NAMES.match(args[1].value):
                    found(forbidden, f"{name}(..., {args[1].value!r})", node, args[1].value)
    return sorted(forbidden), sorted(tampering)


def _dotted(node: ast.Attribute) -> str:
    """``torch.nn.AvgPool2d`` for a chain of names; ``.AvgPool2d`` where the chain starts elsewhere."""
    parts = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    parts.append(current.id if isinstance(current, ast.Name) else "")
    return ".".join(reversed(parts)).lstrip(".")
