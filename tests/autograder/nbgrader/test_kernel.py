"""Does run_hidden, inside a notebook's kernel, run the same hidden cases and fail loudly?"""

from __future__ import annotations

import pytest

from autograder.nbgrader.kernel import run_hidden
from tests.support import namespace


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


def test_nbgrader_autograde_draws_the_same_hidden_inputs_as_the_command_line(tmp_path, monkeypatch):
    from autograder.judge import seeds
    from autograder.nbgrader.kernel import inline_seed

    folder = tmp_path / "autograded" / "alice" / "01_corr2d"      # where nbgrader autograde runs the notebook
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("AUTOGRADER_SEED", raising=False)
    seed = inline_seed("01_corr2d", {})
    submitted = tmp_path / "submitted" / "alice" / "01_corr2d" / "01_corr2d.ipynb"
    assert seed == seeds.for_notebook(submitted, "01_corr2d", ["whatever the cells hold"])
    assert seed.origin == "student 'alice'"
    monkeypatch.setenv("AUTOGRADER_SEED", "42")
    assert inline_seed("01_corr2d", {}) == seeds.Seed(42, "$AUTOGRADER_SEED")


def test_a_failure_in_the_kernel_says_its_seed():
    wrong = {"receptive_field": "def receptive_field(kernel_sizes, strides=None):\n    return sum(kernel_sizes)\n"}
    with pytest.raises(AssertionError, match=r"hidden inputs from seed \d+ \(from notebook content\)"):
        run_hidden("01_corr2d/receptive_field", namespace("01_corr2d", wrong))
