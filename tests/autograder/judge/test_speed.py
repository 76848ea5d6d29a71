"""Do speed checks tell a Python loop over N, H or W from a vectorised convolution, whatever the machine's load?

The student functions (``tests/support.py``'s VARIANTS) run in a worker; the reference (the vectorised one)
runs in the judge, on the shapes and with the limit of 04's speed checks. Loops
over kernel offsets, input channels or filters are allowed by the contract and
must pass; a loop over the batch, over rows or over columns must fail. Figures
over many runs: ``tests/benchmarks/speed_verdicts.py``.
"""

from __future__ import annotations

import nbformat
import pytest
import torch

from autograder.cases.test_04_backprop import SPEED_LIMIT as LIMIT
from autograder.cases.test_04_backprop import SPEED_SHAPES as SHAPES
from autograder.judge import speed
from autograder.model import CallRecord
from autograder.notebook import Cell
from autograder.student.sandboxed import Student
from tests.support import ASSIGNMENTS, EXPECTED, VARIANTS, growth, inputs, reference

BY_STEPS_ONLY = {"numpy_loop_over_batch"}    # loops that run no tensor operation per step: Python steps grow


@pytest.fixture(scope="module")
def student():
    with Student([Cell("variants", VARIANTS)]) as student:
        yield student


def test_a_verdict_says_why_and_the_same_words_whatever_the_figures():
    slow = speed.Verdict("conv_forward_fast(x (4, 3, 8, 8), ...)", "cpu", 6, 0.120, 0.004, 0.001)
    assert not slow.passed and slow.ratio == pytest.approx(30)
    assert "took more than 6 times as long as the reference" in slow.message()
    assert "loop over the batch" in slow.message()
    slower = speed.Verdict("conv_forward_fast(x (4, 3, 8, 8), ...)", "cpu", 6, 0.250, 0.003, 0.002)
    assert slower.message() == slow.message(), "a run's own figures must not change what the student reads"
    assert "30.0x (120.00 ms against 4.00 ms of CPU time" in slow.figures()
    fast = speed.Verdict("f", "cpu", 6, 0.008, 0.004, 0.001)
    assert fast.passed and "within 6 times" in fast.message() and "loop" not in fast.message()


@pytest.mark.parametrize("ops, larger_ops, steps, larger_steps, loops", [
    (40, 40, 300, 300, False), (40, 47, 300, 310, False), (40, 168, 300, 300, True), (2100, 4150, 900, 900, True),
    (6, 6, 300, 1324, True)])
def test_work_that_grows_with_the_dimension_is_a_loop_whatever_the_times(ops, larger_ops, steps, larger_steps,
                                                                         loops):
    grown = speed.Growth("the batch (N)", 512, ops, larger_ops, steps, larger_steps)
    assert grown.loops == loops
    verdict = speed.Verdict("conv_forward_fast on many small images", "cpu", 15, 0.002, 0.001, 0.0, growth=grown)
    assert verdict.passed != loops, "a ratio of 2 passes only when the counts stay put"
    if loops:
        assert (f"{ops} tensor operations and {steps} Python steps for 512, {larger_ops} and {larger_steps} for "
                "1024") in verdict.message()
        assert "a Python loop over the batch (N)" in verdict.message()


class Counting:
    """A stand-in whose calls take ``per_item`` Python steps per element of the first argument, plus ten."""

    def __init__(self, per_item: int) -> None:
        self.per_item, self.counted_calls, self.timed = per_item, 0, 0

    def counted(self, name, x, *args):
        self.counted_calls += 1
        return CallRecord(name, name, value=x, ops=3, steps=10 + self.per_item * len(x))

    def record(self, name, x, *args):
        self.timed += 1
        return CallRecord(name, name, value=x, seconds=1e-3, cpu_seconds=1e-3)

    def echo(self, args, reply_bytes, cpu=False):
        return 0.0


def test_a_growing_count_fails_before_any_timing_and_a_flat_one_is_timed():
    looping = Counting(per_item=1)
    verdict = speed.verdict(looping, "f", (torch.zeros(64),), lambda x: x, limit=1e9, larger=(torch.zeros(128),),
                            along="the batch (N)", size=64)
    assert not verdict.passed and verdict.growth.loops and looping.timed == 0, "counted, never timed"
    assert looping.counted_calls == 3
    flat = Counting(per_item=0)
    verdict = speed.verdict(flat, "f", (torch.zeros(64),), lambda x: x, limit=1e9, larger=(torch.zeros(128),),
                            along="the batch (N)", size=64)
    assert verdict.passed and not verdict.growth.loops and flat.timed > 0


@pytest.mark.parametrize("variant", list(EXPECTED))
@pytest.mark.parametrize("label", list(SHAPES))
def test_loops_over_n_h_or_w_fail_and_vectorised_code_passes(student, variant, label):
    should_pass = label not in EXPECTED[variant]
    verdict = speed.verdict(student, variant, inputs(label), reference, limit=LIMIT, **growth(label))
    assert verdict.passed == should_pass, verdict.message()
    assert verdict.growth is not None, "the worker counts operators"
    assert verdict.growth.loops == (not should_pass), verdict.growth
    grows = verdict.growth.larger_ops - verdict.growth.ops >= verdict.growth.size / 4
    assert grows == (not should_pass and variant not in BY_STEPS_ONLY), "tensor operations grow in torch loops"


class Timed:
    """A stand-in for a student whose calls take ``call`` seconds and whose echo takes ``echo``."""

    def __init__(self, call: float, echo: float) -> None:
        self.call, self.wire = call, echo

    def record(self, name, *args):
        return CallRecord(name, name, value=torch.zeros(4), seconds=self.call, cpu_seconds=self.call)

    def echo(self, args, reply_bytes, cpu=False):
        return self.wire


@pytest.mark.parametrize("echo, counted", [(0.02, 0.08), (5.0, 0.05)])
def test_the_wire_is_taken_off_but_never_more_than_half(echo, counted):
    verdict = speed.measure(Timed(call=0.1, echo=echo), "f", (torch.zeros(4),), lambda x: x, limit=10)
    assert verdict.student == pytest.approx(counted), "a slowed-down echo must not hide a slow function"


def test_the_notebook_states_the_limit_the_grader_applies():
    notebook = nbformat.read(ASSIGNMENTS / "04_backprop" / "04_backprop.ipynb", as_version=4)
    text = " ".join(" ".join(cell.source.split()) for cell in notebook.cells)
    assert f"at most {LIMIT} times as long as the reference" in text
    assert "tall" in text and "wide" in text and len(SHAPES) == 3, "the notebook names the shapes the checks use"
