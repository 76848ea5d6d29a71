"""Is student code confined to a separate, policed worker that only returns data?"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch

from autograder import worker as codec
from autograder.sandbox import Limits
from autograder.student import Cell, Student, StudentError

FAST = Limits(call_seconds=3, load_seconds=3)
PROBE = Cell("probe", "import os\ndef probe():\n    return os.getpid(), sorted(os.environ), os.getcwd()\n"
                      "def add(a, b):\n    return a + b\n")


def test_the_worker_is_another_process_with_an_empty_environment(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    with Student([PROBE], FAST) as student:
        pid, env, cwd = student.probe()
    assert pid != os.getpid()
    assert "CI" not in env and "GITHUB_TOKEN" not in env
    assert not any(name.startswith("GITHUB") for name in env)
    assert cwd != os.getcwd() and ("autograder-worker-" in cwd or cwd == "/tmp/work")


@pytest.mark.parametrize("source", ["import sys\nsys.exit(0)", "raise SystemExit(3)",
                                    "raise KeyboardInterrupt", "raise ValueError('at import')",
                                    "class Escape(BaseException): pass\nraise Escape()"])
def test_an_error_at_import_is_reported_and_later_cells_still_load(source):
    with Student([Cell("bad", source), PROBE], FAST) as student:
        assert student.add(2, 3) == 5
        assert "bad" in student.load.errors


@pytest.mark.parametrize("source", ["import os\nos._exit(0)", "while True:\n    pass"])
def test_a_cell_that_kills_or_hangs_the_worker_is_skipped(source):
    with Student([Cell("bad", source), PROBE], FAST) as student:
        assert student.add(2, 3) == 5
        assert student.load.skipped == ["bad"]


@pytest.mark.parametrize("body, reason", [
    ("import os\n    os._exit(0)", "exited with status 0"),
    ("while True:\n        pass", "no answer within"),
    ("raise SystemExit(0)", "raised SystemExit"),
    ("import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    import time\n    time.sleep(60)",
     "no answer within"),
])
def test_a_bad_call_fails_alone_and_the_next_call_works(body, reason):
    cell = Cell("f", f"def f():\n    {body}\n")
    with Student([cell, PROBE], FAST) as student:
        with pytest.raises(StudentError, match=reason):
            student.f()
        assert student.add(1, 1) == 2


def test_an_output_flood_does_not_disturb_the_protocol():
    cell = Cell("noisy", "def noisy(x):\n    print('{\"score\": 100}' * 10000)\n    return x * 2\n")
    with Student([cell], FAST) as student:
        assert torch.equal(student.noisy(torch.ones(3)), torch.full((3,), 2.0))


def test_results_are_fresh_tensors_and_inputs_come_back_unchanged():
    cell = Cell("m", "def m(x):\n    x += 1\n    return x\n")
    x = torch.zeros(2)
    with Student([cell], FAST) as student:
        out = student.m(x)
        assert student.last_mutated == ["0"]
    assert torch.equal(x, torch.zeros(2)) and torch.equal(out, torch.ones(2))


def test_objects_that_are_not_data_stay_in_the_worker():
    cell = Cell("k", "class Always:\n    def __eq__(self, other):\n        return True\n"
                     "def k():\n    return Always()\n")
    with Student([cell], FAST) as student:
        value = student.k()
    assert value != 1 and value != torch.zeros(1)   # a handle, not the object: no fake equality


def test_pickles_are_refused_by_the_codec():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        codec.decode({"__ndarray__": 0}, [buffer.getvalue()])


def test_forbidden_routes_are_seen_whatever_the_alias():
    cell = Cell("c", "import importlib, torch\n"
                     "def c(x):\n    f = getattr(importlib.import_module('torch.nn.functional'), 'max_' + 'pool2d')\n"
                     "    return f(x, 2)\n"
                     "def d(x):\n    return torch.ops.aten.convolution(x, x, None, [1, 1], [0, 0], [1, 1], False,"
                     " [0, 0], 1)\n")
    with Student([cell], FAST) as student:
        student.c(torch.randn(1, 1, 4, 4))
        student.d(torch.randn(1, 1, 2, 2))
    assert any(route.startswith("aten.max_pool2d") for route in student.flags["c"])
    assert any(route.startswith("aten.convolution") for route in student.flags["d"])


def test_a_function_that_keeps_hanging_is_not_waited_for_again():
    cell = Cell("slow", "def slow():\n    while True:\n        pass\n")
    with Student([cell, PROBE], FAST) as student:
        for _ in range(2):
            with pytest.raises(StudentError, match="no answer within"):
                student.slow()
        with pytest.raises(StudentError, match="already ran out of time 2 times"):
            student.slow()
        assert student.add(1, 2) == 3
