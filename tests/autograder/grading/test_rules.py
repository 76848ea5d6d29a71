"""Does the from-scratch rule forbid exactly what the contract forbids, item by item?

Forbidden operators are found at run time, whatever route reaches them; the static scan finds only code that
could switch that watch off (the whole notebook scores 0) or hide from it (the item scores 0).
"""

import importlib.util

import numpy as np
import pytest
import torch

from autograder.grading.rules import ItemRule, category, scan, violations
from autograder.model import Route
from autograder.notebook import Cell
from autograder.sandbox.process import Limits
from autograder.student.base import StudentError
from autograder.student.sandboxed import Student

DEFAULT = ItemRule()
LAYERS_AND_AUTOGRAD = ItemRule(allow=frozenset({"convolution", "pooling", "autograd"}))   # 05_lenet's rule
HAS_SCIPY = importlib.util.find_spec("scipy") is not None


def run(what: str, cell: str = "corr2d") -> Route:
    return Route(what, cell)


@pytest.mark.parametrize("what, kind", [
    ("aten.convolution.default", "convolution"), ("aten.im2col.default", "convolution"),
    ("aten.max_pool2d_with_indices.default", "pooling"), ("aten.avg_pool2d.default", "pooling"),
    ("aten.constant_pad_nd.default", "padding"), ("aten.reflection_pad2d.default", "padding"),
    ("numpy.convolve", "convolution"), ("numpy._core.multiarray.correlate2", "convolution"),
    ("scipy.signal.convolve2d", "convolution"), ("scipy.ndimage.maximum_filter", "convolution"),
    ("Tensor.backward", "autograd"), ("torch.autograd.grad", "autograd"),
    ("the dispatch monitor was removed", "indirection"),
])
def test_run_time_routes_fall_in_their_category(what, kind):
    assert category(run(what)) == kind


def test_convolution_pooling_and_autograd_break_the_default_rule_but_padding_does_not():
    routes = [run("aten.convolution.default"), run("aten.avg_pool2d.default"), run("Tensor.backward"),
              run("aten.constant_pad_nd.default")]
    assert violations(DEFAULT, routes) == sorted(routes[:3])


def test_an_item_can_allow_or_forbid_a_category():
    learn = ItemRule(allow=frozenset({"autograd"}))
    assert violations(learn, [run("Tensor.backward")]) == []
    assert violations(learn, [run("aten.convolution.default")]) != []
    pad2d = ItemRule(forbid=frozenset({"padding"}))
    assert violations(pad2d, [run("aten.constant_pad_nd.default")]) == [run("aten.constant_pad_nd.default")]
    anything = ItemRule(allow=frozenset({"convolution", "pooling"}))
    assert violations(anything, [run("aten.convolution.default"), run("aten.max_pool2d.default")]) == []


def test_an_unknown_category_is_an_error():
    with pytest.raises(ValueError, match="unknown route categories"):
        ItemRule(allow=frozenset({"autograd", "convolutions"}))


# -- the static scan ---------------------------------------------------------------------------------------

RECEPTIVE_FIELD = '''
import operator
from functools import reduce
from operator import index, mul


def receptive_field(kernel_sizes, strides=None):
    kernel_sizes = [operator.index(k) for k in kernel_sizes]
    strides = [index(s) for s in strides] if strides is not None else [1] * len(kernel_sizes)
    if len(strides) != len(kernel_sizes):
        raise ValueError("one stride per layer")
    field, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        field += (k - 1) * jump
        jump = reduce(mul, (jump, s))
    return field
'''


def test_the_bug_report_a_receptive_field_built_with_operator_index_is_not_flagged():
    assert scan(RECEPTIVE_FIELD, "receptive_field") == ([], [])


@pytest.mark.parametrize("source", [
    "import torch.nn.functional as F\ndef f(x, k):\n    return F.conv2d(x, k)",     # the monitor's to see
    "from torch.nn.functional import max_pool2d",
    "import torch\nlayer = torch.nn.AvgPool2d(2)",
    "y = getattr(F, 'conv2d')(x, k)",
    "import scipy.signal\nimport numpy as np\ny = np.convolve(a, b)",
    "import torch\ndef f(x):\n    return x.unfold(0, 2, 1).unfold(1, 2, 1).sum((-1, -2))",
    "import torch.nn.functional as F\ndef f(x):\n    return F.pad(x, (1, 1))",
    "def f(x):\n    '''Do not use F.conv2d, gc or eval here.'''\n    # nor torch.ops.aten.convolution\n    return x",
    "def f(self):\n    return getattr(self, name)",
    "import operator\nn = operator.index(n)",
    "from operator import index, mul\nimport math, itertools, functools\n"
    "size = functools.reduce(operator.mul, shape)\npairs = list(itertools.product(range(2), range(2)))",
    "shape = operator.attrgetter('shape')(x)\nsort = sorted(items, key=operator.itemgetter(0))",
    "table = globals()['corr2d']",
    "model.eval()\npattern = re.compile('x')",
    "import os\npath = os.path.join('a', 'b')",
    "import torch\nnet = torch.load(f)\narray = np.load(f, allow_pickle=False)",
])
def test_allowed_code_forbidden_operators_docstrings_and_comments_are_not_flagged(source):
    assert scan(source, "corr2d") == ([], [])


@pytest.mark.parametrize("source, named", [
    ("y = getattr(F, name)(x, k)", "getattr(..., <computed name>)"),
    ("import operator\nconv = operator.attrgetter(name)(F)", "attrgetter(..., <computed name>)"),
    ("from operator import methodcaller as call\ny = call(name, x, k)(F)", "methodcaller(..., <computed name>)"),
    ("from operator import attrgetter\nget = attrgetter", "attrgetter used as a value"),
    ("conv = F.__getattribute__(name)", "__getattribute__(..., <computed name>)"),
    ("conv = object.__getattribute__(F, name)", "__getattribute__(..., <computed name>)"),
    ("g = getattr\nconv = g(F, name)", "getattr used as a value"),
    ("convs = list(map(getattr, modules, names))", "getattr used as a value"),
    ("conv = globals()[name]", "globals()"),
    ("table = locals()", "locals()"),
    ("gc = torch.__import__('gc')", "torch.__import__"),
    ("import importlib", "import importlib"),
    ("y = eval('F.conv2d')", "eval(...)"),
    ("T = type('T', (object,), namespace)", "type(name, bases, namespace)"),
    ("y = F.__dict__['conv2d']", "F.__dict__"),
    ("get = getattr(x, '__getattribute__')", "getattr(..., '__getattribute__')"),
    ("data = np.load(f, allow_pickle=True)", "allow_pickle=True"),
    ("import numpy as np\nmodule = np.lib.importlib", "numpy.lib.importlib"),
    ("y = torch.ops.aten.convolution", "torch.ops"),
    ("y = torch._C._nn.im2col(x, 2, 1, 0, 1)", "torch._C._nn"),
])
def test_names_computed_at_run_time_score_the_item_with_their_line(source, named):
    forbidden, tampering = scan(source, "corr2d")
    assert not tampering, tampering
    found = [route for route in forbidden if named in route.what]
    assert found, forbidden
    assert found[0].kind == "source" and found[0].cell == "corr2d" and found[0].line >= 1
    assert violations(DEFAULT, found) and violations(LAYERS_AND_AUTOGRAD, found)   # whatever the item allows


@pytest.mark.parametrize("source, named", [
    ("import gc", "import gc"), ("import sys\nf = sys._getframe(1)", "sys._getframe"),
    ("import sys\nm = sys.modules", "sys.modules"), ("from sys import modules", "sys.modules"),
    ("from torch.utils._python_dispatch import _pop_mode", "import torch.utils._python_dispatch"),
    ("x = __builtins__", "__builtins__"), ("builtins = globals()['__builtins__']", "globals()['__builtins__']"),
    ("import autograder.sandbox.worker as w\nw.Worker.route = None", "import autograder.sandbox.worker"),
    ("from autograder import worker", "import autograder"),
    ("frame = getattr(frame, 'f_back')", "frame.f_back"),
    ("import operator\nback = operator.attrgetter('f_back.f_locals')(frame)", ".f_back"),
    ("eval_ = len.__self__.eval", "len.__self__"),
    ("import numpy as np\nb = np._core.numeric.builtins", "numpy._core.numeric.builtins"),
    ("import threading", "import threading"), ("import os\nos.fork()", "os.fork"),
    ("import os as system\nsystem.execv('/bin/sh', [])", "os.execv"),
    ("with torch._C._DisableTorchDispatch():\n    pass", "torch._C._DisableTorchDispatch"),
    ("guard = torch.ExcludeDispatchKeyGuard(torch.DispatchKeySet(torch.DispatchKey.Python))",
     "torch.ExcludeDispatchKeyGuard"),
    ("from torch import _C", "torch._C"),
    ("class Hidden(torch.Tensor):\n    @classmethod\n    def __torch_dispatch__(cls, func, types, args, kwargs):\n"
     "        return F.conv2d(*args)", "def __torch_dispatch__"),
    ("import torch._decomp.decompositions as d", "import torch._decomp.decompositions"),
    ("torch.ops.aten.mul.Tensor.py_impl(key)(f)", "torch.ops.aten.mul.Tensor.py_impl"),
])
def test_what_could_switch_the_monitor_off_is_tampering(source, named):
    _, tampering = scan(source, "corr2d")
    assert any(named in route.what for route in tampering), tampering


def test_source_that_does_not_parse_is_left_to_the_run_time_check():
    assert scan("def f(:\n", "corr2d") == ([], [])


# -- the run-time half: numpy's and scipy's convolutions by any route (one worker) ----------------------------

SOURCE = '''
import importlib
import operator

import numpy as np
import torch
''' + ('''import scipy.signal
from scipy import ndimage
''' if HAS_SCIPY else '') + '''

def numpy_plain(a, b):
    return np.convolve(a, b)
def numpy_core(a, b):
    return np._core.multiarray.correlate(a, b, 0)
def numpy_core2(a, b):
    return np._core.multiarray.correlate2(a, b, 0)
def numpy_by_importlib(a, b):
    return importlib.import_module("numpy._core.numeric").convolve(a, b)
def numpy_old_name(a, b):
    return np.core.numeric.correlate(a, b)
def numpy_polymul(a, b):
    return np.polymul(a, b)
def scipy_loaded(a, b):
    return scipy.signal.convolve2d(a, b, mode="valid")
def scipy_private(a, b):
    return scipy.signal._sigtools._convolve2d(a, b, 1, 0, 0, 0)
def ndimage_loaded(a, b):
    return ndimage.maximum_filter(a, 2)
def scipy_in_call(a, b):
    from scipy.ndimage import correlate
    return correlate(a, b)
def originals_hidden():
    return [hasattr(f, "__wrapped__") for f in (np.convolve, np._core.multiarray.correlate)]
def receptive_field(kernel_sizes):
    return 1 + sum(operator.index(k) - 1 for k in kernel_sizes)
def honest(a, b):
    return (a[:2, :2] * b).sum()
'''


@pytest.fixture(scope="module")
def student():
    with Student([Cell("tools", SOURCE)], Limits(call_seconds=20, load_seconds=20)) as student:
        assert student.record("honest", np.ones((3, 3)), np.ones((2, 2))).routes == ()
        assert student.load.errors == {}
        yield student


def called(student, function, *args):
    try:
        return student.record(function, *args)
    except StudentError as error:       # a route taken before the call failed still counts
        return error.record


@pytest.mark.parametrize("function, route", [
    ("numpy_plain", "numpy.convolve"), ("numpy_core", "numpy._core.multiarray.correlate"),
    ("numpy_core2", "numpy._core.multiarray.correlate2"), ("numpy_by_importlib", "numpy.convolve"),
    ("numpy_old_name", "numpy.correlate"), ("numpy_polymul", "numpy.convolve"),
])
def test_numpys_convolutions_are_watched_by_any_name(student, function, route):
    a, b = np.arange(5.0), np.array([1.0, -1.0])
    record = called(student, function, a, b)
    assert [(r.what, r.cell) for r in record.routes] == [(route, "tools")], record.routes
    assert violations(DEFAULT, record.routes)


@pytest.mark.skipif(not HAS_SCIPY, reason="scipy is not installed")
@pytest.mark.parametrize("function, route", [
    ("scipy_loaded", "scipy.signal.convolve2d"), ("scipy_private", "scipy.signal._convolve2d"),
    ("ndimage_loaded", "scipy.ndimage.maximum_filter"), ("scipy_in_call", "scipy.ndimage.correlate"),
])
def test_scipys_functions_are_watched_whether_imported_when_the_cell_loads_or_in_the_call(student, function, route):
    a, b = np.arange(16.0).reshape(4, 4), np.array([[1.0, 0.0], [0.0, -1.0]])
    record = called(student, function, a, b)
    assert [(r.what, r.cell) for r in record.routes] == [(route, "tools")], record.routes   # its helpers: no news
    assert violations(DEFAULT, record.routes)


@pytest.mark.skipif(not HAS_SCIPY, reason="scipy is not installed")
def test_a_watched_scipy_function_still_computes_what_scipy_does(student):
    import scipy.signal

    a, b = np.arange(16.0).reshape(4, 4), np.array([[1.0, 0.0], [0.0, -1.0]])
    assert np.array_equal(student.scipy_loaded(a, b), scipy.signal.convolve2d(a, b, mode="valid"))


def test_the_originals_are_not_reachable_through_the_tripwires(student):
    assert student.originals_hidden() == [False, False]


def test_operator_index_takes_no_route(student):
    record = student.record("receptive_field", [3, 3, 3])
    assert record.value == 7 and record.routes == ()


def test_a_torch_tensor_is_unchanged_by_the_numpy_tripwires(student):
    record = called(student, "numpy_plain", torch.arange(3.0), torch.ones(2))
    assert [r.what for r in record.routes] == ["numpy.convolve"]
