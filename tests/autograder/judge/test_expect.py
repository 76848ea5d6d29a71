"""Do the comparisons fail on every kind of wrong answer, with a message that teaches and leaks nothing?"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch

from autograder.judge import expect
from autograder.model import CallRecord

EXPECTED = torch.tensor([[1.5, -2.25], [3.125, 4.0]])


@pytest.mark.parametrize("actual, message", [
    ([[0.0, 1.0]], "returned [[0.0, 1.0]]; expected a torch.Tensor of shape (2, 2)"),
    (torch.zeros(3, 2), "returned shape (3, 2); expected (2, 2)"),
    (EXPECTED.double(), "returned dtype torch.float64; expected torch.float32"),
    (EXPECTED + torch.tensor([[0.0, 0.0], [0.0, 0.5]]), "at 1 of 4 positions; max abs error 0.5 at index (1, 1)"),
    (torch.full((2, 2), float("nan")), "NaN or inf where the reference is finite"),
])
def test_close_fails_with_a_message_that_never_shows_the_expected_values(actual, message):
    with pytest.raises(expect.CaseFailure) as caught:
        expect.close("f(X 2x2)", actual, EXPECTED)
    text = str(caught.value)
    assert message in text and text.startswith("f(X 2x2)")
    assert "3.125" not in text and "-2.25" not in text


def test_close_accepts_the_right_answer_within_tolerance():
    expect.close("f", EXPECTED + 1e-6, EXPECTED)
    expect.close("f", EXPECTED.double() + 1e-12, EXPECTED.double())
    with pytest.raises(expect.CaseFailure):
        expect.close("f", EXPECTED.double() + 1e-6, EXPECTED.double())   # float64 is held to 1e-10


def test_equal_wants_the_same_type_and_value():
    expect.equal("g", (3, 4), (3, 4))
    for wrong in [(3, 5), [3, 4], (3.0, 4.0)]:
        with pytest.raises(expect.CaseFailure, match="not the right answer"):
            expect.equal("g", wrong, (3, 4))
    with pytest.raises(expect.CaseFailure) as right_kind:
        expect.equal("g", 5, 7)
    assert str(right_kind.value) == "g returned 5 (int); that is not the right answer", "no '(expected an int)' then"


@pytest.mark.parametrize("expected, article", [(3, "an int"), (3.0, "a float"), ((3,), "a tuple"), ([3], "a list"),
                                               (OrderedDict(a=1), "an OrderedDict"), ("s", "a str")])
def test_equal_names_the_expected_type_with_the_right_article(expected, article):
    with pytest.raises(expect.CaseFailure, match=rf"\(expected {article}\)$"):
        expect.equal("g", None, expected)


def test_unchanged_names_the_arguments_a_call_modified():
    expect.unchanged(CallRecord("f", "f(tensor float32 (2,))"))
    with pytest.raises(expect.CaseFailure, match=r"modified its input \(argument 0, out\) in place"):
        expect.unchanged(CallRecord("f", "f(tensor float32 (2,))", mutated=("0", "out")))


def test_raises_wants_that_exception_and_no_other():
    from autograder.student.base import StudentError

    def raising(kinds):
        def call():
            raise StudentError("f() raised", kinds)
        return call

    expect.raises("f()", raising(("ValueError", "Exception")))
    with pytest.raises(expect.CaseFailure, match="should raise ValueError; instead"):
        expect.raises("f()", raising(("TypeError", "Exception")))
    with pytest.raises(expect.CaseFailure, match="should raise ValueError; it returned 3"):
        expect.raises("f()", lambda: 3)
