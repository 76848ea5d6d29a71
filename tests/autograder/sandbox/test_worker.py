"""Does the worker answer calls with data and a faithful record of what each call did?

One worker serves every test here (starting one costs an ``import torch``).
"""

from __future__ import annotations

import pytest
import torch

from autograder.model import Route
from autograder.notebook import Cell
from autograder.sandbox.process import Limits
from autograder.student.base import StudentError
from autograder.student.sandboxed import Student

SOURCE = '''
import importlib, torch
def add(a, b):
    return a + b
def bump(x, y=None):
    x += 1
    if y is not None:
        y.mul_(2)
    return x
def pool_by_alias(x):
    f = getattr(importlib.import_module("torch.nn.functional"), "max_" + "pool2d")
    return f(x, 2)
def conv_by_ops(x):
    return torch.ops.aten.convolution(x, x, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
def pad_then_sum(x):
    return torch.nn.functional.pad(x, (1, 1)).sum()
conv_builtin = torch.conv2d     # a builtin: no frame of this cell runs during the call
def learn(x):
    x = x.clone().requires_grad_()
    (x ** 2).sum().backward()
    return x.grad
class Always:
    def __eq__(self, other):
        return True
def always():
    return Always()
class Box(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(2))
    def forward(self, x):
        return x * self.weight
def fail(kind):
    raise {"value": ValueError, "type": TypeError, "key": KeyError}[kind]("no")
def noisy(x):
    print('{"score": 100}' * 10000)
    return x * 2
def more_threads(count):
    torch.set_num_threads(count)
    torch.set_num_interop_threads(count)
    return torch.get_num_threads()
def steps(n):
    total = 0
    for i in range(n):
        total += i
    return torch.zeros(n).sum()
'''


@pytest.fixture(scope="module")
def student():
    with Student([Cell("tools", SOURCE)], Limits(call_seconds=5, load_seconds=5)) as student:
        yield student


def test_results_are_fresh_tensors_and_the_inputs_stay_unchanged(student):
    x = torch.zeros(2)
    out = student.add(x, torch.ones(2))
    assert torch.equal(out, torch.ones(2)) and torch.equal(x, torch.zeros(2))


def test_a_record_names_every_argument_the_call_modified(student):
    record = student.record("bump", torch.zeros(2), y=torch.ones(3))
    assert record.mutated == ("0", "y") and torch.equal(record.value, torch.ones(2))
    assert record.function == "bump" and record.seconds > 0 and not record.error
    assert student.record("bump", torch.zeros(2)).mutated == ("0",)


@pytest.mark.parametrize("function, route", [
    ("pool_by_alias", "aten.max_pool2d"), ("conv_by_ops", "aten.convolution"), ("pad_then_sum", "aten.constant_pad_nd"),
])
def test_watched_routes_are_recorded_whatever_the_alias(student, function, route):
    record = student.record(function, torch.randn(1, 1, 4, 4))
    assert any(r.what.startswith(route) and r.cell == "tools" and r.kind == "run" for r in record.routes), record.routes


def test_a_builtin_the_notebook_names_is_watched_as_the_calls_own(student):
    x = torch.randn(1, 1, 4, 4)
    record = student.record("conv_builtin", x, x)
    assert any(r.what.startswith("aten.convolution") for r in record.routes), record.routes


def test_autograd_inside_a_call_is_recorded_but_the_judges_own_backward_is_not(student):
    assert Route("Tensor.backward", "tools") in student.record("learn", torch.ones(2)).routes
    out, grads = student.grad("add", (torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)),
                              wrt=(0,), dout=torch.ones(2, dtype=torch.float64))
    assert torch.equal(grads[0], torch.ones(2, dtype=torch.float64))
    assert student.records[-1].routes == ()


def test_objects_that_are_not_data_stay_in_the_worker(student):
    value = student.always()
    assert value != 1 and value != torch.zeros(1)   # a handle, not the object: no fake equality
    box = student.Box()
    assert "torch.nn.modules.module.Module" in student.type_names(box)
    box.weight = torch.nn.Parameter(torch.full((2,), 3.0))
    assert torch.equal(box(torch.ones(2)), torch.full((2,), 3.0))


@pytest.mark.parametrize("kind, builtin", [("value", ValueError), ("type", TypeError), ("key", KeyError)])
def test_a_students_exception_keeps_its_built_in_class(student, kind, builtin):
    with pytest.raises(builtin) as caught:
        student.fail(kind)
    assert isinstance(caught.value, StudentError) and "raised" in str(caught.value)
    assert student.records[-1].error


def test_an_output_flood_does_not_disturb_the_protocol(student):
    assert torch.equal(student.noisy(torch.ones(3)), torch.full((3,), 2.0))


def test_an_unknown_name_is_a_name_error_that_says_so(student):
    with pytest.raises(NameError, match="not defined by your notebook"):
        student.nothing_here(1)


def test_torch_stays_on_one_thread_whatever_the_notebook_asks(student):
    assert student.call("more_threads", 4) == 1, "spinning threads would be charged as the student's CPU time"


def test_a_counted_call_counts_operators_and_python_steps_and_a_loop_makes_them_grow(student):
    small, large = student.counted("steps", 100), student.counted("steps", 200)
    assert small.ops == large.ops and small.ops >= 1, "one tensor operation whatever n"
    assert large.steps - small.steps >= 100, "at least a line run per turn of the loop"
    assert student.record("steps", 100).steps is None, "a plain call is not traced"
