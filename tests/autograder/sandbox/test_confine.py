"""Does the allowlist name the interpreter and its packages, and nothing of the course?"""

from __future__ import annotations

import os
import sys

import pytest

from autograder.sandbox import confine
from tests.support import ROOT


@pytest.fixture
def fresh_allowlist():
    confine.allowlist.cache_clear()
    yield confine.allowlist
    confine.allowlist.cache_clear()


def test_the_allowlist_holds_the_interpreter_and_its_packages_but_no_course_folder(fresh_allowlist):
    allowed = fresh_allowlist()
    bound = allowed["read_only"]
    assert any(sys.base_prefix == path or sys.base_prefix.startswith(path + "/") for path in bound)
    import numpy

    assert any(numpy.__file__.startswith(path + "/") for path in bound), "the installed packages are there"
    for path in bound:
        assert path != "/" and not (str(ROOT) + "/").startswith(path + "/"), f"{path} holds the whole course"
        assert not path.startswith(str(ROOT) + "/") or path.startswith(sys.prefix), f"{path} is part of the course"
    assert all(device.startswith("/dev/") for device in allowed["devices"])


def test_no_folder_is_bound_twice_or_inside_another():
    assert confine._outermost(["/usr/lib", "/usr", "/opt/py/lib", "/opt/py", "/opt/pyx"]) == ["/opt/py", "/opt/pyx",
                                                                                                "/usr"]


def test_the_package_is_covered_where_it_was_installed_into_a_bound_folder(fresh_allowlist, monkeypatch):
    inside = os.path.join(sys.base_prefix, "lib", "site-packages", "autograder")
    monkeypatch.setattr(confine, "PACKAGE", type(confine.PACKAGE)(inside))
    assert fresh_allowlist()["hidden"] == [inside]


def test_an_editable_checkout_needs_no_cover(fresh_allowlist):
    if any(str(confine.PACKAGE).startswith(path + "/") for path in fresh_allowlist()["read_only"]):
        pytest.skip("this checkout's package is installed inside a bound folder")
    assert fresh_allowlist()["hidden"] == []


def test_without_namespaces_the_walls_are_limits_alone(monkeypatch):
    monkeypatch.setattr(confine, "isolation", lambda: confine.Isolation())
    spec = confine.walls("/tmp/home", {"processes": 64})
    assert spec["namespaces"] is False and "read_only" not in spec
    assert confine.Isolation().describe().startswith("WEAK")
