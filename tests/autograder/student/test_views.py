"""Do the two views of a submission, in a worker and in the notebook's kernel, agree call for call?"""

from __future__ import annotations

import pytest
import torch

from autograder.notebook import Cell
from autograder.sandbox import values
from autograder.sandbox.process import Limits
from autograder.student.base import StudentError
from autograder.student.kernel import LocalStudent
from autograder.student.sandboxed import Student

SOURCE = '''
import torch
def bump(x, y=None):
    x += 1
    if y is not None:
        y.mul_(2)
    return x
def square(x):
    return x * x
def fail(kind):
    raise {"value": ValueError, "index": IndexError, "exit": SystemExit}[kind]("no")
class Layer(torch.nn.Module):
    pass
def forward(x):
    return x * 2, {"x": x, "undo": lambda g: g * 2}     # a cache that is not all data
def backward(dout, cache):
    return cache["undo"](dout)
def make_tripler():
    return lambda x: 3 * x
def apply(f, x):
    return f(x)
def crash():
    import os
    os._exit(3)
'''


@pytest.fixture(scope="module", params=["worker", "local"])
def student(request):
    if request.param == "local":
        namespace: dict = {}
        exec(SOURCE, namespace)  # noqa: S102 - test code
        yield LocalStudent(namespace)
        return
    with Student([Cell("code", SOURCE)], Limits(call_seconds=5, load_seconds=5)) as student:
        yield student


def test_mutated_positional_and_keyword_arguments_are_named(student):
    assert student.record("bump", torch.zeros(2), y=torch.ones(2)).mutated == ("0", "y")
    assert student.record("square", torch.ones(2)).mutated == ()


def test_errors_keep_their_built_in_class_and_are_recorded(student):
    with pytest.raises(ValueError, match=r"fail\('value'\) raised ValueError: no"):
        student.fail("value")
    with pytest.raises(LookupError):
        student.fail("index")
    assert values.reveal(student.records[-1].error).startswith("fail('index') raised IndexError")


def test_a_missing_name_is_a_name_error(student):
    with pytest.raises(NameError, match="not defined by your notebook"):
        student.absent()


def test_type_names_and_gradients_agree(student):
    assert "torch.nn.modules.module.Module" in student.type_names(student.Layer())
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    out, grads = student.grad("square", (x,), wrt=(0,), dout=torch.ones(2, dtype=torch.float64))
    assert torch.equal(out, x * x) and torch.equal(grads[0], 2 * x)


def test_a_system_exit_in_the_worker_never_becomes_one_in_the_judge(student):
    if isinstance(student, LocalStudent):
        pytest.skip("in the notebook's kernel a SystemExit is the kernel's business (nbgrader's trust model)")
    with pytest.raises(StudentError, match="raised SystemExit") as caught:
        student.fail("exit")
    assert not isinstance(caught.value, SystemExit)


def test_objects_the_student_returned_can_be_passed_back(student):
    out, cache = student.forward(torch.ones(2))
    assert torch.equal(out, torch.full((2,), 2.0)) and torch.equal(cache["x"], torch.ones(2))
    assert torch.equal(student.backward(torch.ones(2), cache), torch.full((2,), 2.0))
    assert torch.equal(student.apply(student.make_tripler(), torch.ones(3)), torch.full((3,), 3.0))


def test_an_object_from_a_crashed_worker_is_a_clear_error():
    with Student([Cell("code", SOURCE)], Limits(call_seconds=5, load_seconds=5)) as student:
        tripler = student.make_tripler()
        with pytest.raises(StudentError):
            student.crash()
        with pytest.raises(StudentError, match="lost when an earlier call crashed the worker"):
            student.apply(tripler, torch.ones(1))


# One student function per kind of watched route, and a clean one: both views must name the same routes.
ROUTES_SOURCE = '''
import numpy as np
import torch
from scipy import ndimage
def aten_conv(x):
    return torch.nn.functional.conv2d(x, x)
def numpy_convolve(x):
    return torch.as_tensor(np.convolve(x.flatten().numpy(), np.ones(2)))
def signal_imported_in_the_call(x):
    from scipy.signal import correlate2d
    return torch.as_tensor(correlate2d(x[0, 0].numpy(), np.ones((2, 2))))
def ndimage_convolve(x):
    return torch.as_tensor(ndimage.convolve(x[0, 0].numpy(), np.ones((2, 2))))
def autograd_grad(x):
    x = x.clone().requires_grad_()
    return torch.autograd.grad((x ** 2).sum(), x)[0]
def autograd_backward(x):
    x = x.clone().requires_grad_()
    torch.autograd.backward((x ** 2).sum())
    return x.grad
def tensor_backward(x):
    x = x.clone().requires_grad_()
    (x ** 2).sum().backward()
    return x.grad
def clean(x):
    return (x * x).sum()
'''
ROUTE_CORPUS = {
    "aten_conv": "aten.convolution", "numpy_convolve": "numpy.convolve",
    "signal_imported_in_the_call": "scipy.signal.correlate2d", "ndimage_convolve": "scipy.ndimage.convolve",
    "autograd_grad": "torch.autograd.grad", "autograd_backward": "torch.autograd.backward",
    "tensor_backward": "Tensor.backward", "clean": None,
}


@pytest.fixture(scope="module")
def both_views():
    pytest.importorskip("scipy")
    namespace: dict = {}
    exec(ROUTES_SOURCE, namespace)  # noqa: S102 - test code
    with Student([Cell("routes", ROUTES_SOURCE)], Limits(call_seconds=20, load_seconds=20)) as student:
        yield student, LocalStudent(namespace)


@pytest.mark.parametrize("function", sorted(ROUTE_CORPUS))
def test_both_views_see_the_same_routes_for_each_student_function(both_views, function):
    x = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    seen = [{route.what for route in view.record(function, x).routes} for view in both_views]
    assert seen[0] == seen[1], f"the worker saw {sorted(seen[0])}, the notebook's kernel {sorted(seen[1])}"
    expected = ROUTE_CORPUS[function]
    assert any(what.startswith(expected) for what in seen[0]) if expected else seen[0] == set(), seen[0]
