"""Do speed checks tell a Python loop over N, H or W from a vectorised convolution, whatever the machine's load?

The student functions below run in a worker; the reference (the vectorised one)
runs in the judge, on the shapes and with the limit of 04's speed checks. Loops
over kernel offsets, input channels or filters are allowed by the contract and
must pass; a loop over the batch, over rows or over columns must fail. Figures
over many runs: ``tests/benchmarks/speed_verdicts.py``.
"""

from __future__ import annotations

import nbformat
import pytest
import torch

from autograder import speed
from autograder.cases.test_04_backprop import SPEED_LIMIT as LIMIT
from autograder.cases.test_04_backprop import SPEED_SHAPES as SHAPES
from autograder.notebook import Cell
from autograder.records import CallRecord
from autograder.student import Student

VARIANTS = '''
import torch

def vectorised(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)
    return torch.einsum("nchwij,fcij->nfhw", windows, w) + b.view(1, -1, 1, 1)

def loop_over_offsets(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = torch.zeros(N, F, Ho, Wo, dtype=x.dtype) + b.view(1, -1, 1, 1)
    for a in range(kh):
        for c in range(kw):
            patch = xp[:, :, a:a + stride * (Ho - 1) + 1:stride, c:c + stride * (Wo - 1) + 1:stride]
            out += torch.einsum("nchw,fc->nfhw", patch, w[:, :, a, c])
    return out

def loop_over_channels(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    out = b.view(1, -1, 1, 1)
    for c in range(x.shape[1]):
        windows = xp[:, c].unfold(1, kh, stride).unfold(2, kw, stride)      # (N, H', W', kh, kw)
        out = out + torch.einsum("nhwij,fij->nfhw", windows, w[:, c])
    return out

def loop_over_filters(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)
    return torch.stack([torch.einsum("nchwij,cij->nhw", windows, w[f]) + b[f] for f in range(w.shape[0])], 1)

def loop_over_batch(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[2:]
    outs = []
    for n in range(x.shape[0]):
        windows = torch.nn.functional.pad(x[n:n + 1], (padding,) * 4).unfold(2, kh, stride).unfold(3, kw, stride)
        outs.append(torch.einsum("nchwij,fcij->nfhw", windows, w) + b.view(1, -1, 1, 1))
    return torch.cat(outs)

def loop_over_rows(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    Ho = (H + 2 * padding - kh) // stride + 1
    rows = []
    for i in range(Ho):
        band = xp[:, :, i * stride:i * stride + kh].unfold(3, kw, stride)     # (N, C, kh, W', kw)
        rows.append(torch.einsum("ncawj,fcaj->nfw", band, w) + b.view(1, -1, 1))
    return torch.stack(rows, 2)

def loop_over_columns(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    Wo = (W + 2 * padding - kw) // stride + 1
    cols = []
    for j in range(Wo):
        band = xp[:, :, :, j * stride:j * stride + kw].unfold(2, kh, stride)     # (N, C, H', kw, kh)
        cols.append(torch.einsum("nchji,fcij->nfh", band, w) + b.view(1, -1, 1))
    return torch.stack(cols, 3)

'''
EXPECTED = {  # variant -> the shapes whose speed check it fails
    "vectorised": set(), "loop_over_offsets": set(), "loop_over_channels": set(), "loop_over_filters": set(),
    "loop_over_batch": {"many small images"}, "loop_over_rows": {"tall images"}, "loop_over_columns": {"wide images"},
}


_OURS: dict = {}
exec(VARIANTS, _OURS)  # noqa: S102 - the test's own code
reference = _OURS["vectorised"]     # the judge's copy of the vectorised variant


def inputs(label: str) -> tuple:
    N, C, H, W, F, k = SHAPES[label]
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(N, C, H, W, generator=generator), torch.randn(F, C, k, k, generator=generator),
            torch.randn(F, generator=generator), 1, k // 2)


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


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(EXPECTED))
@pytest.mark.parametrize("label", list(SHAPES))
def test_loops_over_n_h_or_w_fail_and_vectorised_code_passes(student, variant, label):
    should_pass = label not in EXPECTED[variant]
    verdicts = [speed.measure(student, variant, inputs(label), reference, limit=LIMIT)]
    if verdicts[0].passed != should_pass and should_pass:   # a loaded machine only ever adds time: one more try
        verdicts.append(speed.measure(student, variant, inputs(label), reference, limit=LIMIT))
    assert verdicts[-1].passed == should_pass, verdicts[-1].message()


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
    from tests.conftest import ASSIGNMENTS

    notebook = nbformat.read(ASSIGNMENTS / "04_backprop" / "04_backprop.ipynb", as_version=4)
    text = " ".join(" ".join(cell.source.split()) for cell in notebook.cells)
    assert f"at most {LIMIT} times as long as the reference" in text
    assert "tall" in text and "wide" in text and len(SHAPES) == 3, "the notebook names the shapes the checks use"
