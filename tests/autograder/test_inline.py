"""Does run_hidden, inside a notebook's kernel, run the same hidden cases and fail loudly?"""

from __future__ import annotations

import pytest

from autograder.inline import run_hidden
from tests.autograder.test_judge import namespace


def test_a_correct_item_passes_and_says_how_many_checks_ran(capsys):
    run_hidden("01_corr2d/receptive_field", namespace("01_corr2d"))
    assert "01_corr2d/receptive_field: all 2 hidden checks passed" in capsys.readouterr().out


def test_a_wrong_item_raises_with_every_failed_check():
    wrong = {"receptive_field": "def receptive_field(kernel_sizes, strides=None):\n    return sum(kernel_sizes)\n"}
    with pytest.raises(AssertionError, match=r"2 of 2 hidden checks failed for 01_corr2d/receptive_field"):
        run_hidden("01_corr2d/receptive_field", namespace("01_corr2d", wrong))


def test_an_item_without_cases_is_an_error():
    with pytest.raises(RuntimeError):
        run_hidden("01_corr2d/no_such_item", {})
