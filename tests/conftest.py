"""Fixtures and hooks shared by the project's tests (helpers live in tests/support.py)."""

from __future__ import annotations

import pytest

from autograder.notebook import read_release
from tests.support import ASSIGNMENTS


@pytest.fixture(scope="session")
def release_01():
    return read_release(ASSIGNMENTS / "01_corr2d" / "01_corr2d.ipynb")
