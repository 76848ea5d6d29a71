"""Does the from-scratch rule forbid exactly what the contract forbids, item by item?"""

from autograder.rules import violations


def test_convolution_and_pooling_break_the_rule_everywhere_but_lenet():
    routes = {"aten.convolution.default in cell corr2d", "aten.max_pool2d_with_indices.default in cell pool2d"}
    assert violations("01_corr2d/corr2d", routes) == sorted(routes)
    assert violations("03_pooling/pool2d", routes) == sorted(routes)
    assert violations("05_lenet/lenet", routes) == []


def test_autograd_is_allowed_only_where_the_task_says_so():
    routes = {"Tensor.backward in cell learn_kernel"}
    assert violations("01_corr2d/learn_kernel", routes) == []
    assert violations("01_corr2d/corr2d", routes) == ["Tensor.backward in cell learn_kernel"]


def test_functional_pad_is_forbidden_only_in_pad2d():
    routes = {"aten.constant_pad_nd.default in cell pad2d"}
    assert violations("02_padding_stride_channels/pad2d", routes) == sorted(routes)
    assert violations("02_padding_stride_channels/corr2d_ps", routes) == []
    assert violations("03_pooling/pool2d", {"aten.reflection_pad2d.default in cell pool2d"}) == []


def test_numpy_and_scipy_routes_break_the_rule():
    routes = {"numpy.convolve in cell corr2d", "import scipy.signal in cell corr2d"}
    assert violations("01_corr2d/corr2d", routes) == sorted(routes)
