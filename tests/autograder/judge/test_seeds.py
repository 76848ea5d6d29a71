"""Are hidden inputs reproducible from the recorded seed, and different for every student?"""

from __future__ import annotations

import random

import pytest
import torch

from autograder.judge import seeds


def test_the_seed_depends_on_assignment_student_and_course_secret(monkeypatch, tmp_path):
    monkeypatch.setenv(seeds.SECRET_ENV, "one secret")
    alice = seeds.for_notebook(tmp_path / "a.ipynb", "01_corr2d", [], student="alice")
    assert alice == seeds.for_notebook(tmp_path / "b.ipynb", "01_corr2d", ["other code"], student="alice")
    assert alice.value != seeds.for_notebook(tmp_path / "a.ipynb", "01_corr2d", [], student="bob").value
    assert alice.value != seeds.for_notebook(tmp_path / "a.ipynb", "03_pooling", [], student="alice").value
    monkeypatch.setenv(seeds.SECRET_ENV, "another secret")
    assert alice.value != seeds.for_notebook(tmp_path / "a.ipynb", "01_corr2d", [], student="alice").value
    assert 0 <= alice.value < 2**seeds.SEED_BITS and alice.origin == "student 'alice'"


def test_nbgrader_folders_name_the_student_and_other_notebooks_are_known_by_their_answers(tmp_path):
    path = tmp_path / "submitted" / "alice" / "01_corr2d" / "01_corr2d.ipynb"
    assert seeds.nbgrader_student(path, "01_corr2d") == "alice"
    assert seeds.nbgrader_student(tmp_path / "alice" / "01_corr2d" / "01_corr2d.ipynb", "01_corr2d") is None
    assert seeds.for_notebook(path, "01_corr2d", ["x = 1"]).origin == "student 'alice'"
    loose = tmp_path / "01_corr2d.ipynb"
    first = seeds.for_notebook(loose, "01_corr2d", ["def corr2d(X, K):\n    return X"])
    assert first.origin == "notebook content"
    assert first == seeds.for_notebook(loose, "01_corr2d", ["def corr2d(X, K):\n    return X"])
    assert first != seeds.for_notebook(loose, "01_corr2d", ["def corr2d(X, K):\n    return K"])


def test_an_explicit_seed_wins():
    assert seeds.for_notebook("x.ipynb", "01_corr2d", [], student="alice", override=7) == seeds.Seed(7, "--seed")


def draw(seed: int, case: str) -> tuple:
    seeds.start_case(seed, case)
    return torch.randn(3).tolist(), seeds.rng().random(), seeds.rng().random()


def test_each_case_has_its_own_streams_whatever_ran_before():
    first = draw(11, "cases/test_01.py::test_a")
    draw(11, "cases/test_01.py::test_b")
    torch.randn(100)                               # another case drew a lot...
    random.random()
    assert draw(11, "cases/test_01.py::test_a") == first   # ...and test_a meets the same inputs
    assert draw(12, "cases/test_01.py::test_a") != first
    assert draw(11, "cases/test_01.py::test_b") != first
    _, one, two = first
    assert one != two                              # successive rng() calls are different streams


def test_the_worker_generators_follow_the_seed():
    import numpy as np

    from autograder.sandbox.values import seed_generators

    def state(seed):
        seed_generators(seeds.worker_seed(seed))
        return random.random(), float(np.random.rand()), torch.rand(1).item()

    assert state(5) == state(5) and state(5) != state(6)
    assert seeds.worker_seed(5) != 5, "the worker's generators never start from the notebook's seed itself"


@pytest.mark.parametrize("text", ["-1", "abc", str(2**53)])
def test_a_seed_out_of_range_is_a_usage_error(text, tmp_path):
    from autograder import cli

    assert cli.main(["grade", "--seed", text, "--json", str(tmp_path / "r.json")]) == 2


def test_without_a_course_secret_grading_says_so(monkeypatch, tmp_path, release_01):
    from autograder.pipeline import grade_notebook

    monkeypatch.setattr(seeds, "SECRET_FILE", tmp_path / "none")
    monkeypatch.delenv(seeds.SECRET_ENV, raising=False)
    assert seeds.course_secret() == b""
    result = grade_notebook(release_01.path, release_01)
    assert result.seed is not None and any("No course secret is set" in note for note in result.notes)
