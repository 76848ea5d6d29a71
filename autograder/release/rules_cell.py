"""The "Rules and scoring" cell that every notebook carries, written from the grader's own settings.

One source: the text below is filled in from the numbers the grader enforces
(the public share, the deadlines) and from each assignment's declared rule
exceptions, so it cannot drift from them. ``python -m autograder.release.rules_cell``
writes the cell into every source notebook under ``solutions/``; nbgrader then
carries it into the release. ``tests/release`` checks that each release holds
the current text, and ``tests/autograder/release/test_rules_cell.py`` that the routes the
text forbids and allows are the ones the grader's rule forbids and allows, that
each ban it names scores what it says, and that ``autograder.grading.rules`` holds no
ban the text does not name.

The same command writes the setup cell's helpers from their one source, ``release/setup_helpers.py``
(:func:`write_helpers`); ``tests/release/test_setup_helpers.py`` fails while a notebook holds a stale copy.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat

from autograder.course import COURSE, RULES_CELL_ID, SETUP_GRADE_ID, assignment_names
from autograder.grading import declarations as items
from autograder.grading import rules
from autograder.release.setup_helpers import REQUIRED
from autograder.sandbox import process as sandbox

CELL_ID = RULES_CELL_ID

# The from-scratch rule's forbidden routes, which the worker sees when they run, whatever the route:
# (what the text names, lines of code that take that route). The test runs each line in a worker.
FORBIDDEN = [
    ("`torch.nn.functional`'s `conv*`, `conv_transpose*`, `*pool*`, `unfold` and `fold`",
     ["F.conv2d(x, k)", "F.conv_transpose2d(x, k)", "F.max_pool2d(x, 2)", "F.avg_pool2d(x, 2)",
      "F.unfold(x, 2)", "F.fold(x, (4, 4), 2)"]),
    ("`torch.conv*` and `torch.*pool*`", ["torch.conv2d(x, k)", "torch.max_pool2d(x, 2)"]),
    ("`torch.ops.aten.*` and `torch._C._nn.*`",
     ["torch.ops.aten.convolution(x, k, None, [1], [0], [1], False, [0], 1)", "torch._C._nn.im2col(x, 2, 1, 0, 1)"]),
    ("the modules `nn.Conv*`, `nn.*Pool*`, `nn.Unfold` and `nn.Fold`",
     ["nn.Conv2d(1, 1, 3)(x)", "nn.MaxPool2d(2)(x)", "nn.AvgPool2d(2)(x)", "nn.Unfold(2)(x)",
      "nn.Fold(4, 2)(torch.randn(1, 4, 9))"]),
    ("numpy's convolutions (`np.convolve`, `np.correlate`, under any of their names)",
     ["np.convolve(a[0], b[0])", "np.correlate(a[0], b[0])", "np._core.multiarray.correlate(a[0], b[0], 0)",
      "np.core.numeric.convolve(a[0], b[0])"]),
    ("any function of `scipy.signal` or `scipy.ndimage`",
     ["scipy.signal.convolve2d(a, b)", "scipy.signal.fftconvolve(a, b)", "scipy.ndimage.convolve(a.numpy(), b.numpy())",
      "scipy.ndimage.maximum_filter(a.numpy(), 2)"]),
]
# (what the text names, lines of code): the test runs each line in a worker and scans it; none breaks the rule.
ALLOWED = [
    ("`Tensor.unfold` (the tensor method)", ["x.unfold(0, 2, 1)"]),
    ("`as_strided`", ["x.as_strided((2, 2), (1, 1))"]),
    ("`einsum`", ["torch.einsum('ij,ij->', a, b)"]),
    ("`matmul`", ["a @ b", "torch.matmul(a, b)"]),
    ("`torch.nn.functional.pad`", ["F.pad(x, (1, 1, 1, 1))"]),
    ("`operator` (`operator.index`, `operator.mul`...)",
     ["operator.index(n)", "import operator", "from operator import index, mul", "operator.attrgetter('shape')(x)"]),
    ("`math`", ["math.prod(shape)"]),
    ("`itertools`", ["list(itertools.product(range(2), range(2)))"]),
    ("`functools`", ["functools.reduce(operator.mul, shape)"]),
    ("literal names in `getattr` and its kin (`getattr(x, \"shape\")`; any name on `self`)",
     ["getattr(x, 'shape')", "hasattr(x, 'unfold')", "getattr(self, name)"]),
]
# What the source of a graded function's cell may not hold, because it could hide a forbidden route from the
# worker's watch: (what the text names, lines of code). That item scores 0; the test scans each line.
ITEM_BANS = [
    ("`getattr`, `setattr`, `hasattr` and `delattr` with a name that is not a literal string",
     ["getattr(F, name)", "setattr(x, name, 1)", "hasattr(F, name)", "delattr(x, name)"]),
    ("`operator.attrgetter` and `operator.methodcaller` likewise",
     ["operator.attrgetter(name)(F)", "from operator import methodcaller\nmethodcaller(name)(F)"]),
    ("`x.__getattribute__(name)`, `__getattr__`, `__setattr__` and `__delattr__` likewise",
     ["F.__getattribute__(name)", "F.__getattr__(name)", "x.__setattr__(name, 1)", "x.__delattr__(name)"]),
    ("any of these functions passed around as a value (`g = getattr`)",
     ["g = getattr", "list(map(getattr, objects, names))", "pick = operator.attrgetter"]),
    ("`vars`, `__dict__`, and `globals()` or `locals()` other than with a literal key (`globals()[\"corr2d\"]`)",
     ["vars(F)", "F.__dict__['conv2d']", "globals()[name]", "locals().get(name)"]),
    ("`eval`, `exec`, `compile`, `__import__` (also as `module.__import__`), `importlib`, "
     "`type(name, bases, namespace)`, `typing.get_type_hints` and `typing.ForwardRef`",
     ["eval('F.conv2d')", "exec(code)", "compile(code, 'cell', 'exec')", "__import__('torch')",
      "torch.__import__('torch')", "import importlib", "type('T', (), namespace)", "typing.get_type_hints(f)",
      "from typing import ForwardRef"]),
    ("modules that import or run code named in text: `pickle`, `_pickle`, `marshal`, `shelve`, `pkgutil`, `runpy`, "
     "`pydoc`, `zipimport`, `code`, `codeop`, `timeit`, `doctest`, `unittest`, `logging.config` and `site`; and "
     "`sys.path`",
     ["import pickle", "import _pickle", "import marshal", "import shelve", "import pkgutil", "import runpy",
      "import pydoc", "import zipimport", "import code", "import codeop", "import timeit", "import doctest",
      "from unittest import mock", "import logging.config", "import site", "sys.path.insert(0, '/tmp')"]),
    ("unpickling, which runs whatever code the data names: `allow_pickle=True`, `weights_only=False`",
     ["np.load(f, allow_pickle=True)", "torch.load(f, weights_only=False)"]),
    ("`torch.ops` and `torch._C._nn` themselves (the forbidden routes above, named in the source)",
     ["torch.ops.aten.convolution", "torch._C._nn.im2col", "from torch._C import _nn"]),
]
# What the source of any of the student's cells may not hold, because it could switch the worker's watch off, for
# every item at once, or run code where it does not look: (what the text names, lines of code). The whole notebook
# scores 0; the test scans each line.
NOTEBOOK_BANS = [
    ("frames: `sys._getframe`, `sys._current_frames`, `f_back`, `f_globals`, `f_locals` and `f_builtins`",
     ["sys._getframe(1)", "sys._current_frames()", "frame.f_back", "frame.f_globals", "frame.f_locals",
      "frame.f_builtins"]),
    ("the interpreter's insides: `gc` (`get_objects`, `get_referrers`, `get_referents`), `ctypes`, `_ctypes`, "
     "`inspect`, `builtins`, `__builtins__`, `__main__`, `__loader__`, `__spec__`, `__globals__`, `__code__`, "
     "`__closure__`, `__subclasses__` and `__self__`",
     ["import gc", "collector.get_objects()", "collector.get_referrers(x)", "collector.get_referents(x)",
      "import ctypes", "import _ctypes", "import inspect", "import builtins", "__builtins__['eval']",
      "import __main__", "__loader__", "__spec__", "f.__globals__", "f.__code__", "f.__closure__",
      "object.__subclasses__()", "len.__self__"]),
    ("the import system and tracing: `sys.modules`, `sys.meta_path`, `sys.path_hooks`, `sys.settrace` and "
     "`sys.setprofile`",
     ["sys.modules['torch']", "sys.meta_path", "sys.path_hooks", "sys.settrace(None)", "sys.setprofile(None)"]),
    ("code run in another thread or process, or by a signal: `threading` (`Thread`), `_thread` "
     "(`start_new_thread`), `concurrent` (`ThreadPoolExecutor`, `ProcessPoolExecutor`), `asyncio`, "
     "`multiprocessing` (`ThreadPool`), `subprocess` (`Popen`), `_posixsubprocess`, `pty`, `joblib`, "
     "`torch.multiprocessing`, `signal`, `os.system`, `os.popen`, `os.fork*`, `os.exec*`, `os.spawn*` and "
     "`os.posix_spawn*`",
     ["import threading", "from threading import Thread", "import _thread", "runner.start_new_thread(f, ())",
      "from concurrent.futures import ThreadPoolExecutor", "pool.ProcessPoolExecutor()", "import asyncio",
      "import multiprocessing", "from multiprocessing.pool import ThreadPool", "import subprocess",
      "runner.Popen(['ls'])", "import _posixsubprocess", "import pty", "import joblib",
      "import torch.multiprocessing", "torch.multiprocessing", "import signal", "os.system('ls')",
      "os.popen('ls')", "os.fork()", "os.execv('/bin/ls', [])", "os.spawnv(0, '/bin/ls', [])",
      "os.posix_spawn('/bin/ls', [], {})"]),
    ("torch's dispatch machinery: `torch._C` (but for `torch._C._nn`), `torch._ops`, `torch._dispatch`, "
     "`torch.library`, `torch._library`, `torch.utils._python_dispatch`, `torch._decomp`, `torch._refs`, "
     "`torch._prims`, `TorchDispatchMode`, `__torch_dispatch__` (a tensor subclass that defines it), "
     "`_DisableTorchDispatch`, `ExcludeDispatchKeyGuard`, `_ExcludeDispatchKeyGuard`, `DispatchKey`, "
     "`DispatchKeySet`, `_pop_torch_dispatch_stack`, `_push_on_torch_dispatch_stack`, `_set_torch_dispatch_mode`, "
     "`_disable_current_modes`, `_pop_mode`, `_pop_mode_temporarily`, and an operator's `redispatch`, `_op_dk`, "
     "`py_impl`, `py_kernels` and `decompose`",
     ["torch._C._get_tracing_state()", "import torch._C", "torch._ops", "torch._dispatch", "torch.library",
      "import torch.library", "import torch._library", "torch._library",
      "from torch.utils._python_dispatch import TorchDispatchMode", "torch.utils._python_dispatch",
      "import torch._decomp", "torch._decomp", "torch._refs", "torch._prims", "import torch._refs",
      "import torch._prims", "class T(torch.Tensor):\n    def __torch_dispatch__(cls, func, types, args, kwargs):\n"
      "        pass", "T.__torch_dispatch__ = None", "guard = hide._DisableTorchDispatch()",
      "torch.ExcludeDispatchKeyGuard", "hide._ExcludeDispatchKeyGuard", "torch.DispatchKey.Python",
      "torch.DispatchKeySet", "mode._pop_torch_dispatch_stack()", "mode._push_on_torch_dispatch_stack(m)",
      "mode._set_torch_dispatch_mode(m)", "mode._disable_current_modes()", "mode._pop_mode()",
      "mode._pop_mode_temporarily()", "op.redispatch", "op._op_dk", "op.py_impl", "op.py_kernels", "op.decompose(x)"]),
    ("autograd's engine and graph, which run a backward pass where the watch does not look: `_execution_engine`, "
     "`_engine_run_backward`, `run_backward`, `next_functions` and calling a `grad_fn`",
     ["torch.autograd.Variable._execution_engine.run_backward((y,), (g,), False, False, (), True)",
      "torch.autograd.graph._engine_run_backward(y, g)", "engine.run_backward", "y.grad_fn.next_functions",
      "y.grad_fn(g)"]),
    ("the autograder's own modules (`autograder`)", ["import autograder.sandbox.worker",
                                                    "from autograder import sandbox"]),
]
# (what the text names, the route the worker reports when it runs): autograd is seen at run time.
AUTOGRAD = [("`.backward()`", "Tensor.backward"), ("`torch.autograd`", "torch.autograd.grad")]
CATEGORY_WORDS = {
    "convolution": "a ready-made convolution or im2col",
    "pooling": "a ready-made pooling",
    "padding": "`torch.nn.functional.pad` or any other ready-made padding",
    "autograd": "autograd",
    "indirection": "names computed at run time",
}

TEXT = """\
## Rules and scoring

*Every notebook of the course has this cell; it states what the grader enforces.*

**What runs.** The grader runs the course's locked cells and the cells of the graded functions (where a
`raise NotImplementedError()` stub stood), in notebook order, and nothing else: no demo, test cell or optional
exercise. Put the helpers and imports your functions need *inside those cells*: a name defined only in another
cell, or in a cell you added, does not exist when grading (the feedback names that cell). Graded functions may
call each other; a mistake in one then costs points in both.

**Points.** An item's points are in its test cell: {public} for the checks you can see there, {hidden} for
hidden checks on random shapes, dtypes and edge cases, split by weight. The visible points count only if at
least one hidden check of the item passes. The hidden inputs are drawn from a seed of your own (your student
id, else your notebook), recorded in the results: grading again meets the same inputs. Written answers are
graded by hand.

**From scratch.** No ready-made convolution, pooling or im2col: {forbidden}. No autograd ({autograd})
inside a graded function. The two fit together: your function must not call autograd itself, but it is built
from torch operations, so when the grader (or your own later code) calls `.backward()` on its result, gradients
flow back through it, as the checks "autograd flows through the result" test. The grader watches what each
call of a graded function runs, so these count whatever route your code takes to them (an alias, `getattr`, a
module that calls them for you), and only when a graded function runs them. Allowed: indexing and slicing,
{allowed}.{exceptions}

**What scores 0.** Nothing but this:
- **That item**: breaking the from-scratch rule, and code in the item's own cell that could hide a route from the
  grader's watch:
  - {item_bans}.
- **The whole notebook**: code in the cell of any graded function that could switch the grader's watch off, or
  run code where it does not look:
  - {notebook_bans}.

A module named here counts however it is reached, also as an attribute of another (`np._core.numeric.builtins`),
but for {shared}, which count only where they are imported; and `getattr(x, "f_back")` counts as `x.f_back`.
Docstrings, comments and messages are not read. If you think the grader is wrong about your code, ask your
instructor.

**Time.** Time limits count CPU time on one thread (graded code runs torch on one thread, and
`torch.set_num_threads` does nothing there), so a busy machine
does not use them up: a cell gets {load:g} s to run, a call of a graded function {call:g} s, a call that trains
(`learn_kernel`, `train`) {training:g} s. Waiting (`sleep`, a lock) counts once it has lasted {wait:g} times the
limit. Calls that run out of time use up a budget of {budget:g} s per notebook, after which each call gets
{spent:g} s; a function that ran out of time is not called again. A call the machine was too busy to finish
within {factor:g} times its limit on the wall clock costs you nothing: the notebook is graded again.

**No loop.** Where a task says "no Python loop over" the batch, the rows, the columns or the channels, the grader
counts the tensor operations and Python steps of one call, and of the same call with that size doubled: work that
grows with the size is a loop over it and fails the check. Counts, not times, decide it, so the machine does not.

**GPU.** Where the grader has CUDA, some checks pass CUDA tensors: create new tensors on the input's device
(`device=X.device`). CUDA has no integer `matmul` or `einsum`, so for integer inputs use products and sums.
"""


def _names(pairs: list[tuple[str, object]], last: str = "and") -> str:
    names = [name for name, _ in pairs]
    return ", ".join(names[:-1]) + f" {last} " + names[-1]


def exceptions(assignment: str) -> str:
    """This notebook's departures from the default rule, as its cases file declares them."""
    from autograder.judge import plugin as judge

    declared = judge.declaration(assignment)
    items = declared.items if declared else ()
    lines = []
    shared = declared.rule(items[0]).allow if items else frozenset()
    everywhere = sorted(shared) if shared and all(declared.rule(item).allow == shared for item in items) else []
    if everywhere:   # one exception for every item: say it once
        words = [CATEGORY_WORDS[category] for category in everywhere]
        listed = f"{', '.join(words[:-1])} and {words[-1]}" if len(words) > 1 else words[0]
        lines.append(f"every graded function may use {listed}: the task is to build with them.")
    for item in items:
        rule = declared.rule(item)
        for category in [] if everywhere else sorted(rule.allow):
            lines.append(f"`{item}` may use {CATEGORY_WORDS[category]}: the task asks for it.")
        for category in sorted(rule.forbid - rules.FORBIDDEN_BY_DEFAULT):
            lines.append(f"`{item}` may not use {CATEGORY_WORDS[category]}: writing it is the task.")
    return "".join(f"\n- In this notebook, {line}" for line in lines)


def text(assignment: str) -> str:
    """The cell's Markdown for one assignment."""
    share = items.PUBLIC_SHARE
    return TEXT.format(
        public=f"{share:.0%}", hidden=f"{1 - share:.0%}", forbidden="; ".join(name for name, _ in FORBIDDEN),
        autograd=_names(AUTOGRAD, "or"), allowed=_names(ALLOWED),
        item_bans=";\n  - ".join(name for name, _ in ITEM_BANS),
        shared=_names([(f"`{name}`", None) for name in sorted(rules.SHARED_MODULE_NAMES)]),
        notebook_bans=";\n  - ".join(name for name, _ in NOTEBOOK_BANS),
        exceptions=exceptions(assignment), load=sandbox.LOAD_SECONDS, call=sandbox.CALL_SECONDS,
        training=sandbox.TRAINING_SECONDS, wait=sandbox.WAIT_FACTOR, factor=sandbox.WALL_FACTOR,
        budget=sandbox.BUDGET_SECONDS, spent=sandbox.SPENT_CALL_SECONDS).strip()


def cell_text(notebook: nbformat.NotebookNode) -> str | None:
    """The rules cell's text in a notebook, or None."""
    found = [cell.source for cell in notebook.cells if cell.get("id") == CELL_ID]
    return found[0] if found else None


def write(path: Path) -> bool:
    """Put the current rules cell into one source notebook (after its first cell); True if it changed."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    wanted = text(path.stem)
    if cell_text(notebook) == wanted:
        return False
    notebook.cells = [cell for cell in notebook.cells if cell.get("id") != CELL_ID]
    cell = nbformat.v4.new_markdown_cell(wanted)
    cell["id"] = CELL_ID
    notebook.cells.insert(1, cell)
    nbformat.write(notebook, path)
    return True


SETUP_HELPERS = Path(__file__).with_name("setup_helpers.py")


def helper_sources() -> dict[str, str]:
    """name -> source of each function of ``release/setup_helpers.py``, the one source of the setup cells' helpers."""
    text = SETUP_HELPERS.read_text(encoding="utf-8")
    return {node.name: ast.get_source_segment(text, node) for node in ast.parse(text).body
            if isinstance(node, ast.FunctionDef)}


def write_helpers(path: Path) -> bool:
    """Put the current setup helpers into one source notebook's setup cell; True if it changed.

    Each helper the cell defines is replaced by the one source's text; a required one it lacks is added at
    the end. The notebook's own functions and its imports stay as they are.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SETUP_GRADE_ID]
    if not cells:
        return False
    cell, helpers = cells[0], helper_sources()
    lines = cell.source.split("\n")
    defined = {node.name: node for node in ast.parse(cell.source).body
               if isinstance(node, ast.FunctionDef) and node.name in helpers}
    for name, node in sorted(defined.items(), key=lambda pair: -pair[1].lineno):    # bottom up: lines stay put
        start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)]) - 1
        lines[start:node.end_lineno] = helpers[name].split("\n")
    source = "\n".join(lines)
    missing = [helpers[name] for name in REQUIRED if name not in defined]
    if missing:
        source = source.rstrip("\n") + "\n\n\n" + "\n\n\n".join(missing)
    if source == cell.source:
        return False
    cell.source = source
    nbformat.write(notebook, path)
    return True


def main(solutions: Path) -> int:
    """Write the rules cell and the setup helpers into every source notebook under ``solutions``."""
    sources = [Path(solutions) / name / f"{name}.ipynb" for name in assignment_names(solutions)]
    for path in sources:
        if not path.is_file():
            continue
        changed = [what for what, writer in (("rules cell", write), ("setup helpers", write_helpers)) if writer(path)]
        if changed:
            print(f"updated the {' and the '.join(changed)} of {path}: regenerate its release with "
                  "nbgrader generate_assignment")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else COURSE.solutions))
