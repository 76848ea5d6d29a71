"""Does the from-scratch rule forbid exactly what the contract forbids, item by item?"""

import pytest

from autograder.records import Route
from autograder.rules import ItemRule, category, scan, violations

DEFAULT = ItemRule()


def run(what: str, cell: str = "corr2d") -> Route:
    return Route(what, cell)


@pytest.mark.parametrize("what, kind", [
    ("aten.convolution.default", "convolution"), ("aten.im2col.default", "convolution"),
    ("aten.max_pool2d_with_indices.default", "pooling"), ("aten.avg_pool2d.default", "pooling"),
    ("aten.constant_pad_nd.default", "padding"), ("aten.reflection_pad2d.default", "padding"),
    ("numpy.convolve", "convolution"), ("import scipy.signal", "convolution"),
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


@pytest.mark.parametrize("source, named, kind", [
    ("import torch.nn.functional as F\ndef f(x, k):\n    return F.conv2d(x, k)", "F.conv2d", "convolution"),
    ("from torch.nn.functional import max_pool2d", "from torch.nn.functional import max_pool2d", "pooling"),
    ("import torch\nlayer = torch.nn.AvgPool2d(2)", "nn.AvgPool2d", "pooling"),
    ("import torch.nn.functional as F\ny = F.unfold(x, 2)", "F.unfold", "convolution"),
    ("y = getattr(F, 'conv2d')(x, k)", "getattr(..., 'conv2d')", "convolution"),
    ("y = getattr(F, name)(x, k)", "getattr(..., <computed name>)", "indirection"),
    ("import importlib", "import importlib", "indirection"),
    ("y = torch.ops.aten.convolution", "torch.ops", "indirection"),
    ("y = eval('F.conv2d')", "eval(...)", "indirection"),
])
def test_the_scan_names_forbidden_routes_with_their_line_and_category(source, named, kind):
    forbidden, tampering = scan(source, "corr2d")
    assert not tampering
    found = [route for route in forbidden if route.what.endswith(named) or route.what == named]
    assert found, forbidden
    assert found[0].kind == "source" and found[0].cell == "corr2d" and found[0].line >= 1
    assert category(found[0]) == kind


@pytest.mark.parametrize("source", [
    "import torch\ndef f(x):\n    return x.unfold(0, 2, 1).unfold(1, 2, 1).sum((-1, -2))",
    "import torch.nn.functional as F\ndef f(x):\n    return F.pad(x, (1, 1))",
    "def f(x):\n    '''Do not use F.conv2d here.'''\n    # nor torch.ops.aten.convolution\n    return x",
    "def f(self):\n    return getattr(self, name)",
])
def test_allowed_code_docstrings_and_comments_are_not_flagged(source):
    assert scan(source, "corr2d") == ([], [])


@pytest.mark.parametrize("source, named", [
    ("import gc", "import gc"), ("import sys\nf = sys._getframe(1)", "sys._getframe"),
    ("import sys\nm = sys.modules", "sys.modules"),
    ("from torch.utils._python_dispatch import _pop_mode", "import torch.utils._python_dispatch"),
    ("x = __builtins__", "__builtins__"),
    ("import autograder.worker as w\nw.Worker.route = None", "import autograder.worker"),
    ("from autograder import worker", "import autograder"),
])
def test_reaching_for_the_grader_is_tampering(source, named):
    _, tampering = scan(source, "corr2d")
    assert any(named in route.what for route in tampering), tampering


def test_source_that_does_not_parse_is_left_to_the_run_time_check():
    assert scan("def f(:\n", "corr2d") == ([], [])
