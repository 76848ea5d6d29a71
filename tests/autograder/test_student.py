"""Do the two views of a submission, in a worker and in the notebook's kernel, agree call for call?"""

from __future__ import annotations

import pytest
import torch

from autograder.nbgrader.kernel import LocalStudent
from autograder.notebook import Cell
from autograder.sandbox.process import Limits
from autograder.student.sandboxed import Student, StudentError

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
    assert student.records[-1].error.startswith("fail('index') raised IndexError")


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
