"""The from-scratch rule: which forbidden routes each graded item may not take.

The worker reports every watched route it saw during a call (an aten
convolution, pooling, im2col or padding operator reached by any Python path;
numpy or scipy convolutions; autograd), as "<route> in cell <grade_id>". A route
an item may not take scores the whole item 0, also when it was taken inside
another of the student's functions that the item calls (Conv2D built on a
corr2d that calls F.conv2d is not built from scratch either).
"""

from __future__ import annotations

import re

AUTOGRAD_ROUTES = {"torch.autograd.backward", "torch.autograd.grad", "Tensor.backward"}
PADDING_OP = re.compile(r"^aten\.\w*pad\w*\.")

# Items whose task explicitly allows autograd (contract: learn_kernel).
AUTOGRAD_ALLOWED = {"01_corr2d/learn_kernel"}

# torch.nn.functional.pad is allowed everywhere except where padding is the task.
PADDING_FORBIDDEN = {"02_padding_stride_channels/pad2d"}

# Assignments where built-in layers are allowed (contract: 05_lenet).
RULE_FREE_ASSIGNMENTS = {"05_lenet"}


def violations(item_id: str, routes: set[str]) -> list[str]:
    """The routes that break the rule for ``item_id`` ("01_corr2d/corr2d")."""
    if item_id.split("/")[0] in RULE_FREE_ASSIGNMENTS:
        return []
    broken = []
    for route in routes:
        what = route.split(" in cell ")[0]
        if what in AUTOGRAD_ROUTES and item_id in AUTOGRAD_ALLOWED:
            continue
        if PADDING_OP.match(what) and item_id not in PADDING_FORBIDDEN:
            continue
        broken.append(route)
    return sorted(broken)


# -- the static half: what the source of a solution cell may not mention ------------

# Ready-made convolution, pooling and im2col, as attributes (F.conv2d, nn.MaxPool2d,
# np.convolve), imported names, or literal names given to getattr.
FORBIDDEN_NAMES = re.compile(
    r"^(conv[123]d|conv_transpose[123]d|conv_tbc|convolution|(max|avg|lp|fractional_max)_pool[123]d"
    r"|max_unpool[123]d|adaptive_(max|avg)_pool[123]d|im2col|col2im|fold"
    r"|Conv[123]d|ConvTranspose[123]d|(Max|Avg|LP|FractionalMax|AdaptiveMax|AdaptiveAvg)Pool[123]d"
    r"|MaxUnpool[123]d|Unfold|Fold|convolve|correlate|correlate2d|convolve2d|fftconvolve|oaconvolve)$")
# Ways to reach code by a computed name, which would hide a forbidden one from this scan.
INDIRECT_MODULES = {"importlib", "scipy", "operator", "torch._C"}
INDIRECT_CALLS = {"__import__", "eval", "exec", "compile", "vars"}
# Ways to reach the grader's own machinery (the route monitor): no CNN exercise needs them.
TAMPER_MODULES = {"gc", "ctypes", "inspect", "builtins", "signal", "_thread", "torch.utils._python_dispatch"}
TAMPER_ATTRIBUTES = {"_getframe", "f_back", "f_globals", "f_locals", "__globals__", "__code__", "__closure__",
                     "__subclasses__", "__builtins__", "get_objects", "get_referrers", "meta_path", "settrace",
                     "setprofile", "_pop_torch_dispatch_stack", "_set_torch_dispatch_mode",
                     "_disable_current_modes", "_python_dispatch", "TorchDispatchMode"}
TAMPER_ON = {("sys", "modules")}
# The contract's other forbidden routes: torch.ops.aten.*, torch._C._nn.*
FORBIDDEN_ON = {("torch", "ops"), ("torch", "_C")}
TAMPER_NAMES = {"__builtins__", "__main__", "__loader__", "__spec__"}


def scan(source: str) -> tuple[list[str], list[str]]:
    """(forbidden routes, tampering) that the source of one solution cell names, as 'what, line N'.

    The dynamic monitor in the worker sees every forbidden operator that runs;
    this scan catches what would switch that monitor off or hide from it.
    Docstrings, comments and messages are not read.
    """
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], []
    forbidden, tampering = set(), set()

    def where(what: str, node: ast.AST) -> str:
        return f"{what}, line {getattr(node, 'lineno', '?')}"

    def imported(module: str, node: ast.AST) -> None:
        top = module.split(".")[0]
        if module in TAMPER_MODULES or top in TAMPER_MODULES:
            tampering.add(where(f"import {module}", node))
        elif top in INDIRECT_MODULES or module in INDIRECT_MODULES:
            forbidden.add(where(f"import {module}", node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported(alias.name, node)
        elif isinstance(node, ast.ImportFrom):
            imported(node.module or "", node)
            for alias in node.names:
                imported(f"{node.module}.{alias.name}", node)
                if FORBIDDEN_NAMES.match(alias.name):
                    forbidden.add(where(f"from {node.module} import {alias.name}", node))
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            if node.attr in TAMPER_ATTRIBUTES or (owner, node.attr) in TAMPER_ON:
                tampering.add(where(f"{owner + '.' if owner else ''}{node.attr}", node))
            elif FORBIDDEN_NAMES.match(node.attr) or node.attr == "__dict__" or (owner, node.attr) in FORBIDDEN_ON or (
                    node.attr == "unfold" and owner in {"F", "functional"}):
                forbidden.add(where(f"{owner + '.' if owner else ''}{node.attr}", node))
        elif isinstance(node, ast.Name) and node.id in TAMPER_NAMES:
            tampering.add(where(node.id, node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, args = node.func.id, node.args
            if name in INDIRECT_CALLS:
                forbidden.add(where(f"{name}(...)", node))
            elif name in {"getattr", "setattr", "hasattr"} and len(args) >= 2:
                if not isinstance(args[1], ast.Constant):
                    if not (isinstance(args[0], ast.Name) and args[0].id == "self"):
                        forbidden.add(where(f"{name}(..., <computed name>)", node))
                elif isinstance(args[1].value, str) and FORBIDDEN_NAMES.match(args[1].value):
                    forbidden.add(where(f"{name}(..., {args[1].value!r})", node))
    return sorted(forbidden), sorted(tampering)
