"""Hidden cases of 04_backprop. Instructor material: never shipped to students.

Gradients are compared with torch autograd through ``torch.nn.functional`` in
float64, on random upstream gradients (never all ones). Each forward is graded
on its output alone; each backward with the student's own forward (the cache
format is theirs). Speed checks time the fast convolution against the
vectorised reference below, as a ratio (``autograder.judge.speed``), and run only on
a result that is right.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.cases.common import pair, rng
from autograder.grading.declarations import Assignment
from autograder.judge import expect, speed
from autograder.judge.expect import fail

ASSIGNMENT = Assignment(
    "04_backprop",
    ["rel_error", "numerical_gradient", "conv_forward", "conv_backward", "maxpool_forward", "maxpool_backward",
     "avgpool_forward", "avgpool_backward", "conv_forward_fast", "conv_backward_fast"],
)
item = ASSIGNMENT.item
SPEED_LIMIT = 15      # times the reference, in CPU time on one thread: tests/benchmarks/speed_verdicts.py
# Each shape makes one Python loop cost a step per few multiply-adds: many small images a loop over N, tall
# images a loop over H, wide images a loop over W. Channels and filters stay few, so loops over them, and over
# kernel offsets, cost little anywhere (N, C, H, W, F, k).
SPEED_SHAPES = {"many small images": (512, 4, 6, 6, 4, 3), "tall images": (2, 4, 512, 6, 4, 3),
                "wide images": (2, 4, 6, 512, 4, 3)}
# The dimension of x each shape doubles to count operators: a count that grows with it is a loop over it,
# failed whatever the times (speed.Growth).
SPEED_GROWS = {"many small images": (0, "the batch (N)"), "tall images": (2, "the rows (H)"),
               "wide images": (3, "the columns (W)")}


# -- trusted references ----------------------------------------------------------------

def ref_conv(x, w, b, stride=1, padding=0):
    return F.conv2d(x, w, b, stride=stride, padding=padding)


def ref_conv_grads(x, w, b, dout, stride=1, padding=0):
    leaves = [t.detach().clone().requires_grad_() for t in (x, w, b)]
    return torch.autograd.grad(ref_conv(*leaves, stride, padding), leaves, dout)


def ref_pool(mode, x, pool_size, stride=None):
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(x, pair(pool_size), pair(pool_size if stride is None else stride))


def ref_pool_grad(mode, x, dout, pool_size, stride=None):
    """The pooling gradient; for max, every window's whole gradient goes to its first maximum (row-major)."""
    (k_h, k_w), (s_h, s_w) = pair(pool_size), pair(pool_size if stride is None else stride)
    windows = x.unfold(2, k_h, s_h).unfold(3, k_w, s_w).flatten(-2)       # (N, C, H', W', k_h * k_w)
    if mode == "max":
        share = F.one_hot(windows.argmax(-1), k_h * k_w).to(x.dtype)       # argmax: the first maximum
    else:
        share = torch.full_like(windows, 1 / (k_h * k_w))
    grads = (share * dout[..., None]).reshape(*dout.shape, k_h, k_w)
    dx = torch.zeros_like(x)
    H, W = dout.shape[2:]
    for a in range(k_h):
        for c in range(k_w):
            dx[:, :, a:a + s_h * (H - 1) + 1:s_h, c:c + s_w * (W - 1) + 1:s_w] += grads[..., a, c]
    return dx


def ref_conv_fast(x, w, b, stride=1, padding=0):
    """The vectorised convolution a speed check compares with: windows by unfold, one einsum."""
    k_h, k_w = w.shape[2:]
    windows = F.pad(x, (padding,) * 4).unfold(2, k_h, stride).unfold(3, k_w, stride)   # (N, C, H', W', kh, kw)
    return torch.einsum("nchwij,fcij->nfhw", windows, w) + b.view(1, -1, 1, 1), (x, w, stride, padding, windows)


def ref_conv_backward_fast(dout, cache):
    x, w, stride, padding, windows = cache
    k_h, k_w = w.shape[2:]
    dw = torch.einsum("nchwij,nfhw->fcij", windows, dout)
    dwindows = torch.einsum("nfhw,fcij->nchwij", dout, w)
    dxp = torch.zeros(x.shape[0], x.shape[1], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding, dtype=dout.dtype)
    H, W = dout.shape[2:]
    for a in range(k_h):           # col2im: every kernel offset adds its slice back, one strided view at a time
        for c in range(k_w):
            dxp[:, :, a:a + stride * (H - 1) + 1:stride, c:c + stride * (W - 1) + 1:stride] += dwindows[..., a, c]
    dx = dxp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    return dx, dw, dout.sum(dim=(0, 2, 3))


# -- inputs ------------------------------------------------------------------------------

def conv_settings(count: int = 14):
    """(N, C, H, W, F, kh, kw, stride, padding): non-square, stride 1-3, padding 0-2, kernels larger than stride."""
    fixed = [(2, 3, 5, 5, 4, 3, 3, 1, 1), (1, 1, 4, 6, 1, 2, 3, 1, 0), (2, 2, 7, 5, 3, 3, 2, 2, 1),
             (1, 3, 6, 6, 2, 4, 4, 2, 2), (3, 1, 5, 7, 2, 1, 1, 3, 0), (1, 2, 8, 3, 2, 3, 3, 3, 2)]
    r, drawn = rng(), []
    while len(fixed) + len(drawn) < count:
        padding, stride = r.randint(0, 2), r.randint(1, 3)
        kh, kw = r.randint(1, 4), r.randint(1, 4)
        H, W = r.randint(max(1, kh - 2 * padding), 9), r.randint(max(1, kw - 2 * padding), 9)
        drawn.append((r.randint(1, 3), r.randint(1, 3), H, W, r.randint(1, 4), kh, kw, stride, padding))
    return fixed + drawn


def pool_settings(count: int = 12):
    """(N, C, H, W, pool_size, stride): overlapping (3x3 stride 2, 2x2 stride 1), default and non-square windows."""
    fixed = [(2, 3, 4, 4, 2, None), (1, 2, 7, 7, 3, 2), (2, 1, 5, 6, 2, 1), (1, 1, 6, 5, (2, 3), (1, 2)),
             (1, 2, 5, 5, 1, None), (2, 2, 9, 4, (3, 1), None)]
    r, drawn = rng(), []
    while len(fixed) + len(drawn) < count:
        k = (r.randint(1, 3), r.randint(1, 3))
        stride = r.choice([None, r.randint(1, 3), (r.randint(1, 3), r.randint(1, 3))])
        drawn.append((r.randint(1, 3), r.randint(1, 3), r.randint(k[0], 9), r.randint(k[1], 9), k, stride))
    return fixed + drawn


def conv_inputs(N, C, H, W, F_, kh, kw, dtype=torch.float64):
    return (torch.randn(N, C, H, W, dtype=dtype), torch.randn(F_, C, kh, kw, dtype=dtype),
            torch.randn(F_, dtype=dtype))


def distinct(*shape, dtype=torch.float64):
    """Values that are all different, so that every maximum is unique."""
    n = 1
    for side in shape:
        n *= side
    return (torch.randperm(n).to(dtype) / n + 0.01 * torch.randn(n, dtype=dtype)).reshape(shape)


def unpack(call: str, value, parts: int) -> tuple:
    if not isinstance(value, tuple) or len(value) != parts:
        fail(f"{call} should return a tuple of {parts} values; it returned {type(value).__name__}"
             + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return value


def conv_call(name, x, w, b, stride, padding):
    return (f"{name}(x {tuple(x.shape)}, w {tuple(w.shape)}, b {tuple(b.shape)}, stride={stride}, "
            f"padding={padding}) [{x.dtype}]")


# -- rel_error and numerical_gradient ---------------------------------------------------------

@item("rel_error")
def test_rel_error_values(student):
    """rel_error is max |a - b| / max(1e-8, |a| + |b|), as a Python float"""
    r = rng()
    for shape in [(3,), (2, 4), (2, 3, 4)]:
        a = torch.randn(shape, dtype=torch.float64)
        b = a + r.choice([1e-3, 1e-6, 0.5]) * torch.randn(shape, dtype=torch.float64)
        expected = float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max())
        got = student.rel_error(a, b)
        if not isinstance(got, float):
            fail(f"rel_error(a {shape}, b {shape}) returned {type(got).__name__}; expected a Python float")
        if abs(got - expected) > 1e-9 * max(1.0, expected):
            fail(f"rel_error(a {shape}, b {shape}) returned {got:.6g}; that is not max |a - b| / max(1e-8, |a| + |b|)")


@item("rel_error")
def test_rel_error_edge_cases(student):
    """Equal tensors give 0, the error is symmetric, zeros do not divide by zero, and float32 is computed in float64"""
    a = torch.randn(4, 5, dtype=torch.float64)
    b = a + 1e-4 * torch.randn(4, 5, dtype=torch.float64)
    expect.equal("rel_error(a, a)", student.rel_error(a, a), 0.0)
    if student.rel_error(a, b) != student.rel_error(b, a):
        fail("rel_error(a, b) differs from rel_error(b, a)")
    zeros = torch.zeros(3, dtype=torch.float64)
    tiny = torch.tensor([0.0, 1e-9, 0.0], dtype=torch.float64)
    got = student.rel_error(zeros, tiny)
    if not isinstance(got, float) or abs(got - 0.1) > 1e-9:
        fail(f"rel_error(zeros, [0, 1e-9, 0]) returned {got!r}; with the 1e-8 floor it is 1e-9 / 1e-8 = 0.1")
    # float32 inputs, computed in float64 as the task asks: 1 and the next float32 after it differ by 2^-23, and
    # |a| + |b| = 2 + 2^-23 is not a float32 (it rounds to 2), so float32 arithmetic is off by 6e-8 of the answer
    a, b = torch.tensor([1.0, 0.5]), torch.tensor([1.0 + 2.0 ** -23, 0.5])
    expected = 2.0 ** -23 / (2 + 2.0 ** -23)
    got = student.rel_error(a, b)
    if not isinstance(got, float) or abs(got - expected) > 1e-12 * expected:
        fail(f"rel_error(a float32, b float32) returned {got!r}, not {expected!r}: compute in float64 (convert "
             "a and b first); float32 arithmetic rounds |a| + |b|")


def ref_probe(name):
    """The functions of the notebook's probe_function (its setup cell), for the judge's own gradients."""
    return {"square": lambda x: x * x, "cube": lambda x: x ** 3, "sin_times_sum": lambda x: torch.sin(x) * x.sum(),
            "rows_times_matrix": lambda x: x @ x.T}[name]


@item("numerical_gradient", weight=2)
def test_numerical_gradient_matches_analytic_gradients(student):
    """Centred differences agree with the analytic gradient of known functions, for random dout"""
    for name, shape in [("square", (3, 4)), ("sin_times_sum", (5,)), ("rows_times_matrix", (3, 2))]:
        x = torch.randn(shape, dtype=torch.float64)
        out = ref_probe(name)(x)
        dout = torch.randn(out.shape, dtype=torch.float64)
        leaf = x.clone().requires_grad_()
        (expected,) = torch.autograd.grad(ref_probe(name)(leaf), leaf, dout)
        f = student.probe_function(name)
        record = student.record("numerical_gradient", f, x, dout)
        call = f"numerical_gradient(probe_function({name!r}), x {shape} float64, dout {tuple(out.shape)})"
        expect.close(call, record.value, expected, atol=1e-6, rtol=1e-6)
        expect.unchanged(record, " (restore each entry to its old value: x[i] + h - h is not always x[i])")


@item("numerical_gradient")
def test_numerical_gradient_step_size(student):
    """The step h is used as given (a larger h on a cubic gives the expected, larger error)"""
    x = torch.randn(4, dtype=torch.float64)
    dout = torch.randn(4, dtype=torch.float64)
    f = student.probe_function("cube")
    for h in (1e-5, 0.1):
        expected = (3 * x ** 2 + h ** 2) * dout    # ((x + h)^3 - (x - h)^3) / 2h, exactly
        expect.close(f"numerical_gradient(probe_function('cube'), x (4,), dout (4,), h={h})",
                     student.numerical_gradient(f, x, dout, h=h), expected, atol=1e-6, rtol=1e-6)


# -- convolution ------------------------------------------------------------------------------

def _forward_cases(student, name):
    for N, C, H, W, F_, kh, kw, stride, padding in conv_settings():
        x, w, b = conv_inputs(N, C, H, W, F_, kh, kw)
        call = conv_call(name, x, w, b, stride, padding)
        record = student.record(name, x, w, b, stride=stride, padding=padding)
        out, _ = unpack(call, record.value, 2)
        expect.close(call, out, ref_conv(x, w, b, stride, padding))
        expect.unchanged(record)


def _backward_cases(student, forward, backward):
    for N, C, H, W, F_, kh, kw, stride, padding in conv_settings(10):
        x, w, b = conv_inputs(N, C, H, W, F_, kh, kw)
        out, cache = unpack(conv_call(forward, x, w, b, stride, padding),
                            student.call(forward, x, w, b, stride=stride, padding=padding), 2)
        dout = torch.randn(ref_conv(x, w, b, stride, padding).shape, dtype=torch.float64)
        call = f"{backward}(dout {tuple(dout.shape)}, cache) after {conv_call(forward, x, w, b, stride, padding)}"
        record = student.record(backward, dout, cache)
        grads = unpack(call, record.value, 3)
        for label, got, expected in zip(("dx", "dw", "db"), grads, ref_conv_grads(x, w, b, dout, stride, padding)):
            expect.close(f"{label} of {call}", got, expected)
        expect.unchanged(record)
    # float32 stays float32: the gradients too
    x, w, b = conv_inputs(2, 2, 6, 5, 3, 3, 2, dtype=torch.float32)
    out, cache = unpack(conv_call(forward, x, w, b, 2, 1), student.call(forward, x, w, b, stride=2, padding=1), 2)
    dout = torch.randn(ref_conv(x, w, b, 2, 1).shape)
    call = f"{backward}(dout {tuple(dout.shape)} float32, cache) after {conv_call(forward, x, w, b, 2, 1)}"
    grads = unpack(call, student.call(backward, dout, cache), 3)
    for label, got, expected in zip(("dx", "dw", "db"), grads, ref_conv_grads(x, w, b, dout, 2, 1)):
        expect.close(f"{label} of {call}", got, expected)


def _dtype_and_sizes(student, name):
    x, w, b = conv_inputs(2, 3, 6, 5, 2, 3, 2, dtype=torch.float32)
    out, _ = unpack(f"{name}(float32)", student.call(name, x, w, b, stride=2, padding=1), 2)
    expect.close(conv_call(name, x, w, b, 2, 1), out, ref_conv(x, w, b, 2, 1))
    for x_shape, w_shape, padding in [((1, 2, 3, 3), (1, 2, 4, 4), 0), ((1, 2, 5, 5), (1, 3, 3, 3), 1),
                                      ((1, 1, 2, 6), (1, 1, 5, 1), 1), ((2, 5, 5), (1, 2, 3, 3), 0),
                                      ((1, 2, 5, 5), (2, 3, 3), 0)]:
        x, w, b = torch.randn(x_shape), torch.randn(w_shape), torch.randn(w_shape[0])
        expect.raises(f"{name}(x {x_shape}, w {w_shape}, b, padding={padding})",
                      lambda x=x, w=w, b=b, padding=padding: student.call(name, x, w, b, padding=padding))
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    for b_shape in [(4,), (3, 1)]:
        expect.raises(f"{name}(x (1, 2, 5, 5), w (3, 2, 3, 3), b {b_shape})",
                      lambda b_shape=b_shape: student.call(name, x, w, torch.randn(b_shape)))


@item("conv_forward", weight=2)
def test_conv_forward_random_settings(student):
    """Outputs match conv2d on random shapes, strides 1-3 and paddings 0-2; inputs are not modified"""
    _forward_cases(student, "conv_forward")


@item("conv_forward")
def test_conv_forward_float32_and_impossible_sizes(student):
    """float32 stays float32; a kernel that does not fit, mismatched channels, a non-4-D x or w, a b not (F,) raise"""
    _dtype_and_sizes(student, "conv_forward")


@item("conv_backward", weight=3)
def test_conv_backward_against_autograd(student):
    """dx, dw and db match autograd for random dout, each with the student's own conv_forward; float32 stays float32"""
    _backward_cases(student, "conv_forward", "conv_backward")


@item("conv_forward_fast", weight=2)
def test_conv_forward_fast_random_settings(student):
    """The fast forward matches conv2d on random shapes, strides and paddings; inputs are not modified"""
    _forward_cases(student, "conv_forward_fast")


@item("conv_forward_fast")
def test_conv_forward_fast_float32_and_impossible_sizes(student):
    """float32 stays float32; a kernel that does not fit, mismatched channels, a non-4-D x or w, a b not (F,) raise"""
    _dtype_and_sizes(student, "conv_forward_fast")


@item("conv_backward_fast", weight=3)
def test_conv_backward_fast_against_autograd(student):
    """dx, dw and db match autograd, each with the student's own conv_forward_fast; float32 stays float32"""
    _backward_cases(student, "conv_forward_fast", "conv_backward_fast")


def _speed_inputs(label):
    """(x, w, b), padding and x with the dimension SPEED_GROWS names doubled."""
    N, C, H, W, F_, k = SPEED_SHAPES[label]
    where = speed.device()
    x, w, b = (torch.randn(N, C, H, W, device=where), torch.randn(F_, C, k, k, device=where),
               torch.randn(F_, device=where))
    axis, _ = SPEED_GROWS[label]
    return (x, w, b), k // 2, torch.cat([x, torch.randn_like(x)], axis)


def _growth(label, x):
    axis, along = SPEED_GROWS[label]
    return {"along": along, "size": x.shape[axis]}


@item("conv_forward_fast", weight=3)
def test_conv_forward_fast_speed(student):
    """As fast as a vectorised reference within a factor, and no more operators for a larger N, H or W"""
    for label in SPEED_SHAPES:
        (x, w, b), padding, x2 = _speed_inputs(label)
        call = f"conv_forward_fast on {label}: x {tuple(x.shape)}, w {tuple(w.shape)}"
        out, _ = unpack(call, student.call("conv_forward_fast", x, w, b, 1, padding), 2)
        expect.close(call, out, ref_conv(x, w, b, 1, padding), atol=1e-3, rtol=1e-3)   # right before fast
        speed.check(student, "conv_forward_fast", (x, w, b, 1, padding), ref_conv_fast, limit=SPEED_LIMIT, call=call,
                    larger=(x2, w, b, 1, padding), **_growth(label, x))


@item("conv_backward_fast", weight=3)
def test_conv_backward_fast_speed(student):
    """As fast as a vectorised reference within a factor, and no more operators for a larger N, H or W"""
    for label in SPEED_SHAPES:
        (x, w, b), padding, x2 = _speed_inputs(label)
        call = f"conv_backward_fast on {label}: x {tuple(x.shape)}, w {tuple(w.shape)}"
        _, cache = unpack(call, student.call("conv_forward_fast", x, w, b, 1, padding), 2)
        dout = torch.randn(ref_conv(x, w, b, 1, padding).shape, device=x.device)
        grads = unpack(call, student.call("conv_backward_fast", dout, cache), 3)
        for part, got, expected in zip(("dx", "dw", "db"), grads, ref_conv_grads(x, w, b, dout, 1, padding)):
            expect.close(f"{part} of {call}", got, expected, atol=1e-2, rtol=1e-3)
        _, cache2 = unpack(call, student.call("conv_forward_fast", x2, w, b, 1, padding), 2)
        dout2 = torch.randn(ref_conv(x2, w, b, 1, padding).shape, device=x.device)
        _, ours = ref_conv_fast(x, w, b, 1, padding)
        speed.check(student, "conv_backward_fast", (dout, cache),
                    lambda d, c, ours=ours: ref_conv_backward_fast(d, ours), limit=SPEED_LIMIT, call=call,
                    larger=(dout2, cache2), **_growth(label, x))


# -- pooling --------------------------------------------------------------------------------------

def _pool_forward_cases(student, mode):
    name = f"{mode}pool_forward"
    for N, C, H, W, pool_size, stride in pool_settings():
        x = distinct(N, C, H, W)
        call = f"{name}(x {(N, C, H, W)}, pool_size={pool_size!r}, stride={stride!r})"
        record = student.record(name, x, pool_size, stride=stride)
        out, _ = unpack(call, record.value, 2)
        expect.close(call, out, ref_pool(mode, x, pool_size, stride))
        expect.unchanged(record)
    x = distinct(1, 2, 4, 4, dtype=torch.float32)
    out, _ = unpack(f"{name}(float32)", student.call(name, x, 2), 2)
    expect.close(f"{name}(x (1, 2, 4, 4) float32, 2)", out, ref_pool(mode, x, 2))


def _pool_backward_cases(student, mode, x_of=distinct):
    forward, backward = f"{mode}pool_forward", f"{mode}pool_backward"
    for N, C, H, W, pool_size, stride in pool_settings(10):
        x = x_of(N, C, H, W)
        _, cache = unpack(forward, student.call(forward, x, pool_size, stride=stride), 2)
        dout = torch.randn(ref_pool(mode, x, pool_size, stride).shape, dtype=torch.float64)
        call = (f"{backward}(dout {tuple(dout.shape)}, cache) after "
                f"{forward}(x {(N, C, H, W)}, pool_size={pool_size!r}, stride={stride!r})")
        record = student.record(backward, dout, cache)
        expect.close(call, record.value, ref_pool_grad(mode, x, dout, pool_size, stride))
        expect.unchanged(record)
    x = x_of(2, 2, 5, 6).float()      # float32 stays float32: the gradient too
    _, cache = unpack(forward, student.call(forward, x, 2, stride=1), 2)
    dout = torch.randn(ref_pool(mode, x, 2, 1).shape)
    call = f"{backward}(dout {tuple(dout.shape)} float32, cache) after {forward}(x (2, 2, 5, 6) float32, 2, stride=1)"
    expect.close(call, student.call(backward, dout, cache), ref_pool_grad(mode, x, dout, 2, 1))


@item("maxpool_forward", weight=2)
def test_maxpool_forward_settings(student):
    """Outputs match max_pool2d: default stride, overlapping and non-square windows; float32 kept"""
    _pool_forward_cases(student, "max")


@item("maxpool_backward", weight=2)
def test_maxpool_backward_distinct_values(student):
    """Each window's gradient goes to its maximum (the student's forward), windows adding up; float32 stays float32"""
    _pool_backward_cases(student, "max")


@item("maxpool_backward")
def test_maxpool_backward_ties(student):
    """Ties: the whole gradient of a window goes to its first maximum in row-major order"""
    _pool_backward_cases(student, "max", lambda *shape: torch.randint(0, 3, shape).double())


@item("avgpool_forward", weight=2)
def test_avgpool_forward_settings(student):
    """Outputs match avg_pool2d: default stride, overlapping and non-square windows; float32 kept"""
    _pool_forward_cases(student, "avg")


@item("avgpool_backward", weight=2)
def test_avgpool_backward_spreads_evenly(student):
    """Each window's gradient is spread evenly over it, overlapping windows adding up; float32 stays float32"""
    _pool_backward_cases(student, "avg")


def _pool_impossible_sizes(student, name):
    for x_shape, pool_size in [((1, 1, 3, 5), 4), ((1, 2, 6, 2), (2, 3))]:
        x = torch.randn(x_shape)
        expect.raises(f"{name}(x {x_shape}, pool_size={pool_size!r})",
                      lambda x=x, pool_size=pool_size: student.call(name, x, pool_size))


@item("maxpool_forward")
def test_maxpool_forward_impossible_sizes(student):
    """A window larger than the input raises ValueError"""
    _pool_impossible_sizes(student, "maxpool_forward")


@item("avgpool_forward")
def test_avgpool_forward_impossible_sizes(student):
    """A window larger than the input raises ValueError"""
    _pool_impossible_sizes(student, "avgpool_forward")


# -- CUDA -----------------------------------------------------------------------------------------

@item("conv_backward_fast")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_conv_fast_on_cuda(student):
    """On CUDA inputs the fast forward and backward stay on the device and match autograd"""
    x, w, b = (t.cuda() for t in conv_inputs(2, 3, 7, 6, 4, 3, 2))
    call = conv_call("conv_forward_fast", x, w, b, 2, 1)
    out, cache = unpack(call, student.call("conv_forward_fast", x, w, b, 2, 1), 2)
    expect.close(call, out, ref_conv(x, w, b, 2, 1))
    dout = torch.randn(out.shape, dtype=torch.float64, device="cuda")
    grads = unpack(f"conv_backward_fast after {call}", student.call("conv_backward_fast", dout, cache), 3)
    for part, got, expected in zip(("dx", "dw", "db"), grads, ref_conv_grads(x, w, b, dout, 2, 1)):
        expect.close(f"{part} of conv_backward_fast after {call}", got, expected)


@item("maxpool_backward")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_maxpool_on_cuda(student):
    """On CUDA inputs max pooling and its gradient stay on the device"""
    x = distinct(2, 3, 6, 6).cuda()
    out, cache = unpack("maxpool_forward (cuda)", student.call("maxpool_forward", x, 3, stride=2), 2)
    expect.close("maxpool_forward(x (2, 3, 6, 6) cuda, 3, stride=2)", out, ref_pool("max", x, 3, 2))
    dout = torch.randn(out.shape, dtype=torch.float64, device="cuda")
    expect.close("maxpool_backward after maxpool_forward(x (2, 3, 6, 6) cuda, 3, stride=2)",
                 student.call("maxpool_backward", dout, cache), ref_pool_grad("max", x, dout, 3, 2))
