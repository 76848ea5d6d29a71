"""The release notebook's test cells, run by the judge against the student's worker.

The source comes from the trusted release, never from the submission. It runs
here, in the judge, after the release's setup cell; the graded names are bound
to proxies, so every comparison happens in trusted code on returned data. The
setup's ``probe_*`` functions hand out functions that checks pass *to* graded
functions (04's ``numerical_gradient(probe_function("square"), ...)``): they are
bound to the worker's copy, so what they return lives where it is called.
"""

import linecache

import pytest

from autograder.student.base import RemoteFunction

PROBE_PREFIX = "probe_"


@pytest.fixture(scope="module")
def setup_namespace(release):
    namespace = {"__name__": "__public_checks__"}
    exec(compile(release.setup_source, "<release setup>", "exec"), namespace)  # noqa: S102 - trusted
    return namespace


def test_public_checks(public_cell, setup_namespace, student, release):
    namespace = dict(setup_namespace)
    namespace.update({name: RemoteFunction(student, name) for name in release.solution_ids})
    namespace.update({name: RemoteFunction(student, name) for name in setup_namespace
                      if name.startswith(PROBE_PREFIX) and callable(setup_namespace[name])})
    filename = f"<public {public_cell.grade_id}>"
    linecache.cache[filename] = (len(public_cell.source), None,
                                 public_cell.source.splitlines(True), filename)
    exec(compile(public_cell.source, filename, "exec"), namespace)  # noqa: S102 - trusted source
