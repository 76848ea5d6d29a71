"""Hidden cases of 06_conv_variants. Instructor material: never shipped to students.

Every layer is compared with ``torch.nn.functional`` (``conv_transpose2d``, ``conv2d`` with ``dilation`` and
``groups``); the convolution matrix with one built column by column from ``conv2d`` of unit inputs; the costs
with the parameters of real ``torch.nn.Conv2d`` layers and with multiply-accumulates counted by running the
convolution on ones (every output then holds the number of products summed into it).
"""

import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.cases.common import check_grads, pair, rng
from autograder.grading.declarations import Assignment
from autograder.judge import expect, speed
from autograder.judge.expect import fail
from autograder.sandbox.values import describe, describe_call

ASSIGNMENT = Assignment(
    "06_conv_variants",
    ["conv_matrix", "conv_transpose2d", "conv2d_dilated", "dilated_receptive_field", "separate_kernel",
     "corr2d_separable", "conv2d_grouped", "depthwise_separable", "conv_cost"],
)
item = ASSIGNMENT.item
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


# -- trusted references ----------------------------------------------------------------------

def promoted(reference):
    """``reference`` computed in the promoted dtype of the tensor arguments (integers: in float64, rounded back)."""
    @functools.wraps(reference)
    def run(*args, **kwargs):
        dtype = functools.reduce(torch.promote_types, [a.dtype for a in args if isinstance(a, torch.Tensor)])
        work = dtype if dtype.is_floating_point else torch.float64
        out = reference(*[a.to(work) if isinstance(a, torch.Tensor) else a for a in args], **kwargs)
        return out if dtype.is_floating_point else out.round().to(dtype)
    return run


@promoted
def ref_conv_matrix(K, input_hw):
    """Column q of C is the flattened valid correlation of the q-th unit image with K."""
    H, W = input_hw
    units = torch.eye(H * W, dtype=K.dtype, device=K.device).reshape(H * W, 1, H, W)
    return F.conv2d(units, K[None, None]).reshape(H * W, -1).T


@promoted
def ref_conv_transpose(x, w, stride=1, padding=0):
    return F.conv_transpose2d(x, w, stride=pair(stride), padding=pair(padding))


@promoted
def ref_dilated(x, w, dilation=1, stride=1, padding=0):
    return F.conv2d(x, w, stride=pair(stride), padding=pair(padding), dilation=pair(dilation))


@promoted
def ref_grouped(x, w, groups, stride=1, padding=0):
    return F.conv2d(x, w, stride=pair(stride), padding=pair(padding), groups=groups)


@promoted
def ref_depthwise_separable(x, w_depth, w_point, stride=1, padding=0):
    depthwise = F.conv2d(x, w_depth, stride=pair(stride), padding=pair(padding), groups=x.shape[1])
    return F.conv2d(depthwise, w_point)


@promoted
def ref_corr2d_separable(X, col, row):
    return F.conv2d(X[None, None], (col @ row)[None, None])[0, 0]


def ref_dilated_receptive_field(kernel_sizes, dilations):
    """The span of one output's support: a one-pixel field scattered back through each layer (1-D suffices)."""
    field = torch.ones(1, 1, 1, dtype=torch.float64)
    for k, d in zip(kernel_sizes, dilations):
        field = F.conv_transpose1d(field, torch.ones(1, 1, k, dtype=torch.float64), dilation=d)
    return field.shape[-1]


def ref_conv_cost(c_in, c_out, kernel_hw, out_hw, groups=1, separable=False):
    """Parameters of real nn.Conv2d layers; multiply-accumulates counted by convolving ones with ones."""
    (k_h, k_w), (o_h, o_w) = pair(kernel_hw), pair(out_hw)
    if separable:
        layers = [(nn.Conv2d(c_in, c_in, (k_h, k_w), groups=c_in, bias=False), (k_h, k_w), c_in),
                  (nn.Conv2d(c_in, c_out, 1, bias=False), (1, 1), 1)]
    else:
        layers = [(nn.Conv2d(c_in, c_out, (k_h, k_w), groups=groups, bias=False), (k_h, k_w), groups)]
    params = sum(p.numel() for layer, _, _ in layers for p in layer.parameters())
    macs = 0
    for layer, (a, b), g in layers:   # each layer's input is just large enough for an (o_h, o_w) output
        ones = torch.ones(1, layer.in_channels, o_h + a - 1, o_w + b - 1, dtype=torch.float64)
        products = F.conv2d(ones, torch.ones_like(layer.weight, dtype=torch.float64), groups=g)
        if products.shape[-2:] != (o_h, o_w):
            raise AssertionError("the counting convolution has the wrong output size")
        macs += round(float(products.sum()))
    return params, macs


# -- helpers ---------------------------------------------------------------------------------

def check(student, name, args, kwargs, reference, **tolerance):
    """The student's ``name(*args, **kwargs)`` matches the reference; the inputs are left unchanged."""
    call = describe_call(name, args, kwargs)
    record = student.record(name, *args, **kwargs)
    expect.close(call, record.value, reference(*args, **kwargs), **tolerance)
    expect.unchanged(record)


def dtype_cases(student, name, args, kwargs, reference, promote=(0, 1)):
    """float32 with float64 (promoted to float64), int64 with int64 (int64), int64 with float32 (float32)."""
    for dtypes in [(torch.float32, torch.float64), (torch.int64, torch.int64), (torch.int64, torch.float32)]:
        cast = list(args)
        for index, dtype in zip(promote, dtypes):
            cast[index] = (args[index] * 3).round().to(dtype) if dtype == torch.int64 else args[index].to(dtype)
        check(student, name, tuple(cast), kwargs, reference)


def gradients(student, name, args, wrt, reference, call, **kwargs):
    """The result first (so that a wrong shape is reported as such), then the gradients (``check_grads``)."""
    expect.close(call, student.call(name, *args, **kwargs), reference(*args, **kwargs))
    check_grads(student, name, args, wrt, reference, call, **kwargs)


def raises(student, name, *args, **kwargs):
    expect.raises(describe_call(name, args, kwargs), lambda: student.call(name, *args, **kwargs))


def on_device(student, name, args, kwargs, reference, device):
    """Inputs on ``device`` give a result on it, equal to the reference (float64)."""
    args = tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)
    expect.close(describe_call(name, args, kwargs), student.call(name, *args, **kwargs),
                 reference(*args, **kwargs))


def draw_pair(r, low, high):
    return r.choice([r.randint(low, high), (r.randint(low, high), r.randint(low, high))])


# -- conv_matrix -----------------------------------------------------------------------------

def matrix_sizes(count=12):
    """(H, W, h, w): kernels as large as the input, 1x1, one-row and non-square."""
    fixed = [(4, 4, 3, 3), (3, 5, 2, 2), (5, 3, 3, 1), (4, 4, 4, 4), (2, 6, 1, 1), (1, 5, 1, 3)]
    r = rng()
    drawn = []
    while len(fixed) + len(drawn) < count:
        H, W = r.randint(1, 7), r.randint(1, 7)
        drawn.append((H, W, r.randint(1, H), r.randint(1, W)))
    return fixed + drawn


@item("conv_matrix", weight=3)
def test_conv_matrix_random_sizes(student):
    """C has shape (H'W', HW) and C @ X.flatten() is the correlation, on many sizes, float32 and float64"""
    for H, W, h, w in matrix_sizes():
        for dtype in (torch.float32, torch.float64):
            K = torch.randn(h, w, dtype=dtype)
            call = describe_call("conv_matrix", (K, (H, W)), {})
            record = student.record("conv_matrix", K, (H, W))
            C = record.value
            expect.close(call, C, ref_conv_matrix(K, (H, W)))
            expect.unchanged(record)
            X = torch.randn(H, W, dtype=dtype)
            expect.close(f"C @ X.flatten() with C = {call}", C @ X.flatten(),
                         F.conv2d(X[None, None], K[None, None]).flatten())


@item("conv_matrix")
def test_conv_matrix_lecture_example(student):
    """The lecture's 3x3 kernel on a 4x4 input gives a 4x16 matrix, in K's dtype (int64, float64)"""
    K = torch.tensor([[1, 4, 1], [1, 4, 3], [3, 3, 1]])
    for dtype in (torch.int64, torch.float64):
        check(student, "conv_matrix", (K.to(dtype), (4, 4)), {}, ref_conv_matrix)


@item("conv_matrix")
def test_conv_matrix_gradients(student):
    """Gradients flow back to the kernel K"""
    K = torch.randn(2, 3, dtype=torch.float64)
    gradients(student, "conv_matrix", (K, (4, 5)), (0,), ref_conv_matrix, "conv_matrix(K (2, 3), (4, 5))")


@item("conv_matrix")
def test_conv_matrix_kernel_too_large(student):
    """A kernel that does not fit in the input raises ValueError (and one as large as the input does not)"""
    check(student, "conv_matrix", (torch.randn(3, 2), (3, 2)), {}, ref_conv_matrix)
    raises(student, "conv_matrix", torch.randn(3, 2), (2, 5))
    raises(student, "conv_matrix", torch.randn(1, 6), (3, 5))


@item("conv_matrix")
@CUDA
def test_conv_matrix_cuda(student):
    """On CUDA the matrix stays on the kernel's device"""
    on_device(student, "conv_matrix", (torch.randn(2, 3, dtype=torch.float64), (4, 5)), {}, ref_conv_matrix, "cuda")


# -- conv_transpose2d ------------------------------------------------------------------------

def transpose_settings(count=14):
    """(N, C_in, C_out, H, W, kh, kw, stride, padding): stride above the kernel, padding up to 2, pairs."""
    fixed = [(1, 1, 1, 2, 2, 3, 3, 1, 0), (2, 2, 3, 3, 4, 3, 3, 2, 1), (1, 3, 2, 4, 3, 2, 3, (2, 3), (0, 1)),
             (1, 1, 1, 3, 3, 1, 1, 3, 0), (2, 2, 1, 5, 2, 4, 2, 2, (2, 1)), (1, 2, 2, 1, 1, 3, 4, 1, 1),
             (1, 1, 3, 2, 5, 2, 1, (1, 3), (0, 0)), (1, 3, 1, 4, 4, 3, 3, 3, (2, 1))]
    r = rng()
    drawn = []
    while len(fixed) + len(drawn) < count:
        H, W, kh, kw = r.randint(1, 6), r.randint(1, 6), r.randint(1, 4), r.randint(1, 4)
        stride, padding = draw_pair(r, 1, 3), draw_pair(r, 0, 2)
        (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
        if (H - 1) * s_h + kh - 2 * p_h >= 1 and (W - 1) * s_w + kw - 2 * p_w >= 1:
            drawn.append((r.randint(1, 2), r.randint(1, 3), r.randint(1, 3), H, W, kh, kw, stride, padding))
    return fixed + drawn


@item("conv_transpose2d", weight=3)
def test_conv_transpose2d_settings(student):
    """Equal to torch's conv_transpose2d on many shapes, strides 1-3 and paddings 0-2, float32 and float64"""
    for N, C_in, C_out, H, W, kh, kw, stride, padding in transpose_settings():
        for dtype in (torch.float32, torch.float64):
            x, w = torch.randn(N, C_in, H, W, dtype=dtype), torch.randn(C_in, C_out, kh, kw, dtype=dtype)
            check(student, "conv_transpose2d", (x, w), {"stride": stride, "padding": padding}, ref_conv_transpose)


@item("conv_transpose2d")
def test_conv_transpose2d_is_the_transposed_matrix(student):
    """For one channel it is C.T @ y, and in general the input gradient of a strided convolution"""
    r = rng()
    for _ in range(4):
        H, W = r.randint(2, 7), r.randint(2, 7)
        h, w = r.randint(1, H), r.randint(1, W)
        K, y = torch.randn(h, w, dtype=torch.float64), torch.randn(H - h + 1, W - w + 1, dtype=torch.float64)
        expected = (ref_conv_matrix(K, (H, W)).T @ y.flatten()).reshape(1, 1, H, W)
        expect.close(f"{describe_call('conv_transpose2d', (y[None, None], K[None, None]), {})}, against C.T @ y",
                     student.conv_transpose2d(y[None, None], K[None, None]), expected)
    for stride, padding, (H, W), (kh, kw) in [(2, 1, (7, 5), (3, 3)), ((3, 2), (0, 1), (7, 6), (4, 2))]:
        x, w = torch.randn(2, 3, H, W, dtype=torch.float64, requires_grad=True), torch.randn(4, 3, kh, kw,
                                                                                              dtype=torch.float64)
        out = F.conv2d(x, w, stride=stride, padding=padding)
        dout = torch.randn(out.shape, dtype=torch.float64)
        (dx,) = torch.autograd.grad(out, x, dout)
        call = describe_call("conv_transpose2d", (dout, w), {"stride": stride, "padding": padding})
        expect.close(f"{call}, against the input gradient of the strided convolution",
                     student.conv_transpose2d(dout, w, stride=stride, padding=padding), dx)


@item("conv_transpose2d")
def test_conv_transpose2d_gradients(student):
    """Gradients with respect to x and w match torch's, for a random upstream gradient"""
    x, w = torch.randn(2, 2, 3, 4, dtype=torch.float64), torch.randn(2, 3, 3, 2, dtype=torch.float64)
    gradients(student, "conv_transpose2d", (x, w), (0, 1), ref_conv_transpose,
                "conv_transpose2d(x (2, 2, 3, 4), w (2, 3, 3, 2), stride=(2, 1), padding=1)", stride=(2, 1), padding=1)


@item("conv_transpose2d")
def test_conv_transpose2d_dtypes(student):
    """The result has the promoted dtype of x and w; the inputs are left unchanged"""
    x, w = torch.randn(1, 2, 3, 3), torch.randn(2, 3, 2, 2)
    dtype_cases(student, "conv_transpose2d", (x, w), {"stride": 2, "padding": 1}, ref_conv_transpose)


@item("conv_transpose2d")
def test_conv_transpose2d_impossible(student):
    """Cropping padding, mismatched channels, a stride below 1, a negative padding or non-4-D x raise ValueError"""
    check(student, "conv_transpose2d", (torch.randn(1, 1, 1, 1), torch.randn(1, 2, 3, 3)), {"padding": 1},
          ref_conv_transpose)
    raises(student, "conv_transpose2d", torch.randn(1, 1, 1, 1), torch.randn(1, 1, 2, 2), padding=1)
    raises(student, "conv_transpose2d", torch.randn(1, 2, 2, 3), torch.randn(2, 1, 3, 3), padding=(1, 3))
    raises(student, "conv_transpose2d", torch.randn(1, 3, 4, 4), torch.randn(2, 3, 3, 3))
    x, w = torch.randn(1, 2, 3, 3), torch.randn(2, 1, 2, 2)
    raises(student, "conv_transpose2d", x, w, stride=0)
    raises(student, "conv_transpose2d", x, w, padding=-1)
    raises(student, "conv_transpose2d", x[0], w)


@item("conv_transpose2d")
@CUDA
def test_conv_transpose2d_cuda(student):
    """On CUDA inputs the result stays on the device"""
    x, w = torch.randn(2, 3, 4, 5, dtype=torch.float64), torch.randn(3, 2, 3, 2, dtype=torch.float64)
    on_device(student, "conv_transpose2d", (x, w), {"stride": 2, "padding": 1}, ref_conv_transpose, "cuda")


# -- conv2d_dilated and dilated_receptive_field ----------------------------------------------

def dilated_settings(count=14):
    """(N, C, F, H, W, kh, kw, dilation, stride, padding): the dilated kernel as large as the padded input, pairs."""
    fixed = [(1, 1, 1, 7, 7, 3, 3, 2, 1, 0), (2, 3, 2, 8, 6, 3, 2, (2, 1), 1, (2, 1)),
             (1, 2, 3, 9, 9, 3, 3, 3, (2, 3), 2), (1, 1, 2, 5, 5, 2, 2, 4, 1, 0), (2, 2, 2, 6, 7, 1, 3, (1, 3), 2, 1),
             (1, 1, 1, 4, 4, 3, 3, 1, 1, 1), (1, 2, 1, 3, 3, 2, 2, 3, 3, 2), (1, 3, 2, 6, 9, 2, 4, (2, 2), (1, 2), 0)]
    r = rng()
    drawn = []
    while len(fixed) + len(drawn) < count:
        H, W, kh, kw = r.randint(1, 10), r.randint(1, 10), r.randint(1, 4), r.randint(1, 4)
        dilation, stride, padding = draw_pair(r, 1, 3), draw_pair(r, 1, 3), draw_pair(r, 0, 2)
        (d_h, d_w), (p_h, p_w) = pair(dilation), pair(padding)
        if d_h * (kh - 1) + 1 <= H + 2 * p_h and d_w * (kw - 1) + 1 <= W + 2 * p_w:
            drawn.append((r.randint(1, 2), r.randint(1, 3), r.randint(1, 3), H, W, kh, kw, dilation, stride, padding))
    return fixed + drawn


@item("conv2d_dilated", weight=3)
def test_conv2d_dilated_settings(student):
    """Equal to conv2d with dilation 1-3, strides 1-3 and paddings 0-2 on many shapes, float32 and float64"""
    for N, C, F_, H, W, kh, kw, dilation, stride, padding in dilated_settings():
        for dtype in (torch.float32, torch.float64):
            x, w = torch.randn(N, C, H, W, dtype=dtype), torch.randn(F_, C, kh, kw, dtype=dtype)
            check(student, "conv2d_dilated", (x, w), {"dilation": dilation, "stride": stride, "padding": padding},
                  ref_dilated)


@item("conv2d_dilated")
def test_conv2d_dilated_defaults(student):
    """Without dilation, stride or padding it is the plain valid convolution"""
    x, w = torch.randn(2, 3, 6, 5, dtype=torch.float64), torch.randn(4, 3, 3, 2, dtype=torch.float64)
    check(student, "conv2d_dilated", (x, w), {}, ref_dilated)


@item("conv2d_dilated")
def test_conv2d_dilated_gradients(student):
    """Gradients with respect to x and w match conv2d's, for a random upstream gradient"""
    x, w = torch.randn(2, 2, 8, 7, dtype=torch.float64), torch.randn(3, 2, 3, 2, dtype=torch.float64)
    gradients(student, "conv2d_dilated", (x, w), (0, 1), ref_dilated,
                "conv2d_dilated(x (2, 2, 8, 7), w (3, 2, 3, 2), dilation=(2, 3), stride=2, padding=1)",
                dilation=(2, 3), stride=2, padding=1)


@item("conv2d_dilated")
def test_conv2d_dilated_dtypes(student):
    """The result has the promoted dtype of x and w; the inputs are left unchanged"""
    x, w = torch.randn(1, 2, 7, 6), torch.randn(3, 2, 2, 2)
    dtype_cases(student, "conv2d_dilated", (x, w), {"dilation": 2, "padding": 1}, ref_dilated)


@item("conv2d_dilated")
def test_conv2d_dilated_impossible(student):
    """Too wide a dilated kernel, mismatched channels, dilation or stride below 1, padding below 0, non-4-D x raise"""
    x, w = torch.randn(1, 1, 6, 6), torch.randn(1, 1, 3, 3)
    check(student, "conv2d_dilated", (x, w), {"dilation": 3, "padding": 1}, ref_dilated)
    raises(student, "conv2d_dilated", x, w, dilation=3)
    raises(student, "conv2d_dilated", torch.randn(1, 2, 5, 9), torch.randn(1, 2, 2, 2), dilation=(1, 9))
    raises(student, "conv2d_dilated", torch.randn(1, 3, 5, 5), torch.randn(1, 2, 3, 3))
    for kwargs in [{"dilation": 0}, {"stride": 0}, {"padding": -1}]:
        raises(student, "conv2d_dilated", x, w, **kwargs)
    raises(student, "conv2d_dilated", x[0], w)


@item("conv2d_dilated")
def test_conv2d_dilated_has_no_loop_over_n_h_or_w(student):
    """No Python loop over N, H' or W': the work does not grow with the batch, the rows or the columns"""
    x, w = torch.randn(2, 2, 12, 10), torch.randn(3, 2, 3, 3)
    settings = {"dilation": 2, "stride": 1, "padding": 1}
    check(student, "conv2d_dilated", (x, w), settings, ref_dilated)      # right before loop-free
    call = describe_call("conv2d_dilated", (x, w), settings)
    for axis, along in [(0, "the batch (N)"), (2, "the rows (H)"), (3, "the columns (W)")]:
        larger = torch.cat([x, torch.randn_like(x)], axis)
        speed.no_loop(student, "conv2d_dilated", (x, w, 2, 1, 1), (larger, w, 2, 1, 1), along, x.shape[axis], call)


@item("conv2d_dilated")
@CUDA
def test_conv2d_dilated_cuda(student):
    """On CUDA inputs the result stays on the device"""
    x, w = torch.randn(2, 3, 9, 8, dtype=torch.float64), torch.randn(2, 3, 3, 2, dtype=torch.float64)
    on_device(student, "conv2d_dilated", (x, w), {"dilation": 2, "stride": (1, 2), "padding": 1}, ref_dilated, "cuda")


@item("dilated_receptive_field", weight=2)
def test_dilated_receptive_field_stacks(student):
    """Stacks of dilated layers, growing dilations and the empty stack"""
    r = rng()
    stacks = [([], []), ([3], [1]), ([3], [2]), ([3, 3, 3], [1, 2, 4]), ([2, 2], [1, 1]), ([1, 5], [3, 2]),
              ([3, 3, 3, 3], [1, 2, 4, 8])]
    for _ in range(8):
        n = r.randint(1, 5)
        stacks.append(([r.choice([1, 2, 3, 5, 7]) for _ in range(n)], [r.randint(1, 4) for _ in range(n)]))
    for kernels, dilations in stacks:
        expect.equal(expect.call("dilated_receptive_field", kernels, dilations),
                     student.dilated_receptive_field(kernels, dilations),
                     ref_dilated_receptive_field(kernels, dilations))


@item("dilated_receptive_field")
def test_dilated_receptive_field_mismatched_lengths(student):
    """Kernel and dilation lists of different lengths raise ValueError"""
    expect.equal(expect.call("dilated_receptive_field", [3, 3], [2, 1]),
                 student.dilated_receptive_field([3, 3], [2, 1]), ref_dilated_receptive_field([3, 3], [2, 1]))
    for kernels, dilations in [([3, 3], [2]), ([], [1])]:
        expect.raises(expect.call("dilated_receptive_field", kernels, dilations),
                      lambda kernels=kernels, dilations=dilations: student.dilated_receptive_field(kernels, dilations))


# -- separate_kernel and corr2d_separable -----------------------------------------------------

def factors(call, got, K, atol):
    """``got`` is (col (h, 1), row (1, w)) in K's dtype whose product is K within ``atol``."""
    h, w = K.shape
    if not (isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got)):
        fail(f"{call} returned {describe(got)}; expected a tuple (col, row) of two tensors (the kernel is separable)")
    col, row = got
    if tuple(col.shape) != (h, 1) or tuple(row.shape) != (1, w):
        fail(f"{call} returned factors of shapes {tuple(col.shape)} and {tuple(row.shape)}; expected ({h}, 1) "
             f"and (1, {w})")
    if col.dtype != K.dtype or row.dtype != K.dtype:
        fail(f"{call} returned factors of dtypes {col.dtype} and {row.dtype}; expected K's dtype {K.dtype}")
    expect.close(f"col @ row from {call}", col @ row, K, atol=atol, rtol=0)


def not_separable(call, got):
    if got is not None:
        fail(f"{call} returned {describe(got)}; expected None (the kernel is not separable)")


def with_singular_values(h, w, s1, s2):
    """An (h, w) float64 kernel whose two non-zero singular values are s1 and s2 (random singular vectors)."""
    U, _ = torch.linalg.qr(torch.randn(h, 2, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(w, 2, dtype=torch.float64))
    return s1 * U[:, :1] @ V[:, :1].T + s2 * U[:, 1:] @ V[:, 1:].T


@item("separate_kernel", weight=3)
def test_separate_kernel_rank_one(student):
    """Rank-one kernels (Sobel, Gaussian, random, zero entries) split into col (h, 1) @ row (1, w), dtype kept"""
    r = rng()
    kernels = [torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=torch.float64),
               torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
               torch.tensor([[0.0, 0], [0, 3], [0, -1]], dtype=torch.float64)]
    for _ in range(10):
        h, w = r.randint(1, 6), r.randint(1, 6)
        col, row = torch.randn(h, 1, dtype=torch.float64), torch.randn(1, w, dtype=torch.float64)
        if r.random() < 0.3:
            col[r.randrange(h)] = 0
        kernels.append((col @ row).to(r.choice([torch.float32, torch.float64])))
    for K in kernels:
        scale = float(K.abs().max())
        if K.dtype == torch.float32:   # float32 singular values carry a relative error near 1e-7
            call = f"separate_kernel(K {tuple(K.shape)} float32 of rank 1, tol=1e-4)"
            got, atol = student.separate_kernel(K, tol=1e-4), 1e-5 * scale
        else:
            call = f"separate_kernel(K {tuple(K.shape)} float64 of rank 1)"
            got, atol = student.separate_kernel(K), 1e-10 * scale
        factors(call, got, K, atol)


@item("separate_kernel")
def test_separate_kernel_not_separable(student):
    """Kernels of rank 2 or more (identity, Laplacian, random) give None"""
    r = rng()
    kernels = [torch.eye(3, dtype=torch.float64), torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
               torch.tensor([[1.0, 2], [3, 4]], dtype=torch.float64)]
    for _ in range(5):
        h, w = r.randint(2, 6), r.randint(2, 6)
        kernels.append(with_singular_values(h, w, 1.0, r.uniform(0.1, 1.0)) * r.uniform(0.5, 5))
    kernels.append(torch.randn(4, 5))
    for K in kernels:
        call = f"separate_kernel(K {tuple(K.shape)} {str(K.dtype).removeprefix('torch.')} of rank 2 or more)"
        not_separable(call, student.separate_kernel(K))


@item("separate_kernel")
def test_separate_kernel_zero_kernel(student):
    """The zero kernel gives zero factors (no NaN), in its dtype; K is left unchanged"""
    for shape, dtype in [((3, 3), torch.float64), ((2, 5), torch.float32), ((1, 4), torch.float64)]:
        K = torch.zeros(shape, dtype=dtype)
        record = student.record("separate_kernel", K)
        factors(f"separate_kernel(K {shape} of zeros, {str(dtype).removeprefix('torch.')})", record.value, K, 0.0)
        expect.unchanged(record)
    K = torch.randn(3, 1, dtype=torch.float64) @ torch.randn(1, 4, dtype=torch.float64)
    expect.unchanged(student.record("separate_kernel", K))


@item("separate_kernel")
def test_separate_kernel_tolerance(student):
    """tol is relative to the first singular value, with the default 1e-6 and a given tol, at any scale"""
    r = rng()
    for scale in (1.0, 1e4, 1e-3):
        for tol, below, above in [(None, 1e-8, 1e-4), (1e-3, 1e-5, 1e-1)]:
            h, w = r.randint(2, 5), r.randint(2, 5)
            kwargs = {} if tol is None else {"tol": tol}
            given = "" if tol is None else f", tol={tol:g}"
            for ratio in (below, above):
                K = with_singular_values(h, w, scale, ratio * scale)
                call = (f"separate_kernel(K {(h, w)} float64 with singular values {scale:g} and "
                        f"{ratio * scale:g}{given})")
                got = student.separate_kernel(K, **kwargs)
                if ratio == below:
                    factors(call, got, K, atol=10 * ratio * scale)
                else:
                    not_separable(call, got)


@item("corr2d_separable", weight=3)
def test_corr2d_separable_random(student):
    """Two 1-D passes equal corr2d(X, col @ row) on many shapes, float32 and float64"""
    r = rng()
    shapes = [(6, 6, 3, 3), (5, 8, 1, 4), (7, 4, 5, 1), (3, 3, 3, 3), (1, 6, 1, 2), (4, 1, 2, 1)]
    while len(shapes) < 14:
        H, W = r.randint(1, 9), r.randint(1, 9)
        shapes.append((H, W, r.randint(1, min(H, 5)), r.randint(1, min(W, 5))))
    for H, W, h, w in shapes:
        for dtype in (torch.float32, torch.float64):
            args = (torch.randn(H, W, dtype=dtype), torch.randn(h, 1, dtype=dtype), torch.randn(1, w, dtype=dtype))
            check(student, "corr2d_separable", args, {}, ref_corr2d_separable)


@item("corr2d_separable")
def test_corr2d_separable_dtypes(student):
    """The result has the promoted dtype of X, col and row (integers stay integer); bad col or row shapes raise"""
    X, col, row = torch.randn(6, 5), torch.randn(3, 1), torch.randn(1, 2)
    dtype_cases(student, "corr2d_separable", (X, col, row), {}, ref_corr2d_separable, promote=(0, 1))
    dtype_cases(student, "corr2d_separable", (X, col, row), {}, ref_corr2d_separable, promote=(0, 2))
    for bad_col, bad_row in [(torch.randn(3, 2), row), (torch.randn(3), row), (col, torch.randn(2, 1))]:
        raises(student, "corr2d_separable", X, bad_col, bad_row)
    ints = ((X * 3).round().long(), (col * 3).round().long(), (row * 3).round().long())
    check(student, "corr2d_separable", ints, {}, ref_corr2d_separable)


@item("corr2d_separable")
def test_corr2d_separable_gradients(student):
    """Gradients with respect to X, col and row match those of corr2d(X, col @ row)"""
    args = (torch.randn(7, 6, dtype=torch.float64), torch.randn(3, 1, dtype=torch.float64),
            torch.randn(1, 4, dtype=torch.float64))
    gradients(student, "corr2d_separable", args, (0, 1, 2), ref_corr2d_separable,
                "corr2d_separable(X (7, 6), col (3, 1), row (1, 4))")


@item("corr2d_separable")
def test_corr2d_separable_too_large(student):
    """A kernel that does not fit raises ValueError (and one as large as X does not)"""
    X = torch.randn(4, 6)
    check(student, "corr2d_separable", (X, torch.randn(4, 1), torch.randn(1, 6)), {}, ref_corr2d_separable)
    raises(student, "corr2d_separable", X, torch.randn(5, 1), torch.randn(1, 2))
    raises(student, "corr2d_separable", X, torch.randn(2, 1), torch.randn(1, 7))


@item("corr2d_separable")
def test_corr2d_separable_does_two_1d_passes(student):
    """The work grows with h + w, not with h * w: two 1-D passes, never a loop over the 2-D kernel col @ row"""
    X = torch.randn(20, 20)
    sizes = [(4, 4), (8, 4), (4, 8), (8, 8)]
    counts = {}
    for h, w in sizes[:1] + sizes:      # the first call warms up (a lazy import, a cache filled once)
        args = (X, torch.randn(h, 1), torch.randn(1, w))
        check(student, "corr2d_separable", args, {}, ref_corr2d_separable)    # right before how it is done
        record = student.counted("corr2d_separable", *args)
        if record.error or record.ops is None or record.steps is None:
            return          # not counted here (a notebook's kernel): the values above are all there is to check
        counts[h, w] = (record.ops, record.steps)
    for index, what in enumerate(("tensor operations", "Python steps")):
        n = {size: count[index] for size, count in counts.items()}
        # Two 1-D passes cost a(h) + b(w), so the 8x8 kernel costs exactly what 8x4 and 4x8 add to 4x4; a loop over
        # the h * w taps of the 2-D kernel costs 16 taps' work more than that.
        if n[8, 8] - n[8, 4] - n[4, 8] + n[4, 4] >= 8:
            fail(f"corr2d_separable(X (20, 20), col (h, 1), row (1, w)) ran {n[4, 4]}, {n[8, 4]}, {n[4, 8]} and "
                 f"{n[8, 8]} {what} for (h, w) = (4, 4), (8, 4), (4, 8) and (8, 8): its work grows with h * w, as a "
                 "loop over the taps of the whole kernel col @ row does, not with h + w, as two 1-D passes do. The "
                 "task rules the 2-D kernel out: weight h slices of X by col's entries, then w slices of that by row's")


@item("corr2d_separable")
@CUDA
def test_corr2d_separable_cuda(student):
    """On CUDA inputs the result stays on the device"""
    args = (torch.randn(8, 7, dtype=torch.float64), torch.randn(3, 1, dtype=torch.float64),
            torch.randn(1, 2, dtype=torch.float64))
    on_device(student, "corr2d_separable", args, {}, ref_corr2d_separable, "cuda")


# -- conv2d_grouped and depthwise_separable -----------------------------------------------------

def grouped_settings(count=14):
    """(N, groups, C per group, F per group, H, W, kh, kw, stride, padding): groups 1, a proper divisor and C."""
    fixed = [(2, 1, 3, 2, 5, 5, 3, 3, 1, 1), (1, 2, 2, 3, 6, 5, 3, 2, 2, 0), (2, 4, 1, 1, 5, 6, 3, 3, 1, 1),
             (1, 3, 1, 2, 7, 4, 2, 3, (2, 1), (1, 2)), (1, 2, 3, 1, 4, 4, 1, 1, 3, 0), (1, 3, 2, 2, 6, 6, 4, 2, 3, 2),
             (2, 2, 1, 2, 3, 7, 3, 4, (1, 3), (1, 0))]
    r = rng()
    drawn = []
    while len(fixed) + len(drawn) < count:
        H, W, kh, kw = r.randint(1, 8), r.randint(1, 8), r.randint(1, 4), r.randint(1, 4)
        stride, padding = draw_pair(r, 1, 3), draw_pair(r, 0, 2)
        (p_h, p_w) = pair(padding)
        if kh <= H + 2 * p_h and kw <= W + 2 * p_w:
            drawn.append((r.randint(1, 2), r.randint(1, 4), r.randint(1, 3), r.randint(1, 3), H, W, kh, kw, stride,
                          padding))
    return fixed + drawn


@item("conv2d_grouped", weight=3)
def test_conv2d_grouped_settings(student):
    """Equal to conv2d(groups=g) for g = 1, a proper divisor and C, strides 1-3 and paddings 0-2"""
    for N, g, per_group, filters, H, W, kh, kw, stride, padding in grouped_settings():
        for dtype in (torch.float32, torch.float64):
            x = torch.randn(N, g * per_group, H, W, dtype=dtype)
            w = torch.randn(g * filters, per_group, kh, kw, dtype=dtype)
            check(student, "conv2d_grouped", (x, w, g), {"stride": stride, "padding": padding}, ref_grouped)


@item("conv2d_grouped")
def test_conv2d_grouped_gradients(student):
    """Gradients with respect to x and w match conv2d's, for a random upstream gradient"""
    x, w = torch.randn(2, 6, 5, 6, dtype=torch.float64), torch.randn(4, 3, 3, 2, dtype=torch.float64)
    gradients(student, "conv2d_grouped", (x, w, 2), (0, 1), ref_grouped,
                "conv2d_grouped(x (2, 6, 5, 6), w (4, 3, 3, 2), 2, stride=2, padding=(1, 0))", stride=2,
                padding=(1, 0))


@item("conv2d_grouped")
def test_conv2d_grouped_dtypes(student):
    """The result has the promoted dtype of x and w; the inputs are left unchanged"""
    x, w = torch.randn(1, 4, 5, 5), torch.randn(6, 2, 2, 3)
    dtype_cases(student, "conv2d_grouped", (x, w, 2), {"padding": 1}, ref_grouped)


@item("conv2d_grouped")
def test_conv2d_grouped_impossible(student):
    """Channels or filters not divisible by groups, a wrong filter depth, a kernel too large, non-4-D inputs raise"""
    check(student, "conv2d_grouped", (torch.randn(1, 4, 3, 3), torch.randn(2, 2, 3, 3), 2), {}, ref_grouped)
    raises(student, "conv2d_grouped", torch.randn(1, 4, 5, 5), torch.randn(3, 1, 3, 3), 3)
    raises(student, "conv2d_grouped", torch.randn(1, 4, 5, 5), torch.randn(3, 2, 1, 1), 2)
    raises(student, "conv2d_grouped", torch.randn(1, 6, 5, 5), torch.randn(3, 6, 1, 1), 3)
    raises(student, "conv2d_grouped", torch.randn(1, 2, 3, 3), torch.randn(2, 1, 4, 4), 2)
    raises(student, "conv2d_grouped", torch.randn(4, 3, 3), torch.randn(2, 2, 3, 3), 2)
    raises(student, "conv2d_grouped", torch.randn(1, 4, 3, 3), torch.randn(2, 2, 3), 2)


@item("conv2d_grouped")
@CUDA
def test_conv2d_grouped_cuda(student):
    """On CUDA inputs the result stays on the device"""
    x, w = torch.randn(2, 6, 7, 6, dtype=torch.float64), torch.randn(9, 2, 3, 3, dtype=torch.float64)
    on_device(student, "conv2d_grouped", (x, w, 3), {"stride": 2, "padding": 1}, ref_grouped, "cuda")


def depthwise_settings(count=12):
    """(N, C, F, H, W, kh, kw, stride, padding)."""
    fixed = [(1, 3, 8, 7, 7, 3, 3, 1, 0), (2, 2, 3, 6, 5, 3, 2, 2, 1), (1, 4, 2, 5, 8, 2, 3, (1, 2), (2, 0)),
             (1, 1, 3, 4, 4, 1, 1, 3, 0), (2, 3, 1, 5, 5, 4, 4, 2, 2)]
    r = rng()
    drawn = []
    while len(fixed) + len(drawn) < count:
        H, W, kh, kw = r.randint(1, 8), r.randint(1, 8), r.randint(1, 4), r.randint(1, 4)
        stride, padding = draw_pair(r, 1, 3), draw_pair(r, 0, 2)
        (p_h, p_w) = pair(padding)
        if kh <= H + 2 * p_h and kw <= W + 2 * p_w:
            drawn.append((r.randint(1, 2), r.randint(1, 4), r.randint(1, 5), H, W, kh, kw, stride, padding))
    return fixed + drawn


@item("depthwise_separable", weight=3)
def test_depthwise_separable_settings(student):
    """A depthwise conv2d (groups=C, with the stride and padding) then a 1x1 conv2d, on many shapes"""
    for N, C, F_, H, W, kh, kw, stride, padding in depthwise_settings():
        for dtype in (torch.float32, torch.float64):
            args = (torch.randn(N, C, H, W, dtype=dtype), torch.randn(C, 1, kh, kw, dtype=dtype),
                    torch.randn(F_, C, 1, 1, dtype=dtype))
            check(student, "depthwise_separable", args, {"stride": stride, "padding": padding},
                  ref_depthwise_separable)


@item("depthwise_separable")
def test_depthwise_separable_gradients(student):
    """Gradients with respect to x, w_depth and w_point match torch's"""
    args = (torch.randn(2, 3, 6, 5, dtype=torch.float64), torch.randn(3, 1, 3, 2, dtype=torch.float64),
            torch.randn(4, 3, 1, 1, dtype=torch.float64))
    gradients(student, "depthwise_separable", args, (0, 1, 2), ref_depthwise_separable,
                "depthwise_separable(x (2, 3, 6, 5), w_depth (3, 1, 3, 2), w_point (4, 3, 1, 1), stride=2, "
                "padding=1)", stride=2, padding=1)


@item("depthwise_separable")
def test_depthwise_separable_dtypes(student):
    """The result has the promoted dtype of the inputs; the inputs are left unchanged"""
    args = (torch.randn(1, 2, 5, 4), torch.randn(2, 1, 2, 2), torch.randn(3, 2, 1, 1))
    dtype_cases(student, "depthwise_separable", args, {"padding": 1}, ref_depthwise_separable)
    args = (*args[:2], args[2].double())     # the depthwise step may run in float32: values to float32 precision
    check(student, "depthwise_separable", args, {"padding": 1}, ref_depthwise_separable, atol=1e-5, rtol=1e-5)


@item("depthwise_separable")
def test_depthwise_separable_mismatched(student):
    """Weights whose channels do not match x, a kernel that does not fit, a w_point not 1x1 or 3-D weights raise"""
    x = torch.randn(1, 3, 5, 5)
    raises(student, "depthwise_separable", x, torch.randn(4, 1, 3, 3), torch.randn(2, 3, 1, 1))
    raises(student, "depthwise_separable", x, torch.randn(3, 1, 3, 3), torch.randn(2, 4, 1, 1))
    raises(student, "depthwise_separable", torch.randn(1, 3, 3, 3), torch.randn(3, 1, 4, 4), torch.randn(2, 3, 1, 1))
    raises(student, "depthwise_separable", x, torch.randn(3, 1, 3, 3), torch.randn(2, 3, 3, 3))
    raises(student, "depthwise_separable", x, torch.randn(3, 3, 3), torch.randn(2, 3, 1, 1))


@item("depthwise_separable")
@CUDA
def test_depthwise_separable_cuda(student):
    """On CUDA inputs the result stays on the device"""
    args = (torch.randn(2, 3, 7, 6, dtype=torch.float64), torch.randn(3, 1, 3, 3, dtype=torch.float64),
            torch.randn(5, 3, 1, 1, dtype=torch.float64))
    on_device(student, "depthwise_separable", args, {"stride": 2, "padding": 1}, ref_depthwise_separable, "cuda")


# -- conv_cost -------------------------------------------------------------------------------

def cost_call(c_in, c_out, kernel_hw, out_hw, **kwargs):
    return describe_call("conv_cost", (c_in, c_out, kernel_hw, out_hw), kwargs)


@item("conv_cost", weight=2)
def test_conv_cost_standard_and_grouped(student):
    """Parameters of a real nn.Conv2d (no bias) and the multiply-accumulates it performs, groups 1 and more"""
    r = rng()
    settings = [(3, 128, 3, 5, 1), (1, 6, 5, 28, 1), (6, 16, (5, 5), (10, 10), 1), (64, 64, 3, 14, 4),
                (32, 32, 3, 8, 32), (8, 12, (3, 1), (6, 9), 2)]
    while len(settings) < 14:
        g = r.choice([1, 1, 2, 3, 4, 8])
        kernel = r.choice([r.randint(1, 7), (r.randint(1, 7), r.randint(1, 7))])
        out = r.choice([r.randint(1, 16), (r.randint(1, 16), r.randint(1, 16))])
        settings.append((g * r.randint(1, 24), g * r.randint(1, 24), kernel, out, g))
    for c_in, c_out, kernel, out, g in settings:
        kwargs = {} if g == 1 and r.random() < 0.5 else {"groups": g}
        expect.equal(cost_call(c_in, c_out, kernel, out, **kwargs),
                     student.conv_cost(c_in, c_out, kernel, out, **kwargs), ref_conv_cost(c_in, c_out, kernel, out, g))


@item("conv_cost", weight=2)
def test_conv_cost_separable(student):
    """Depthwise-separable layers count as a depthwise nn.Conv2d (groups=c_in) plus a 1x1 one"""
    r = rng()
    settings = [(3, 128, 3, 5), (32, 64, 3, 112), (16, 16, (1, 3), (4, 7)), (1, 1, 1, 1)]
    while len(settings) < 10:
        kernel = r.choice([r.randint(1, 7), (r.randint(1, 7), r.randint(1, 7))])
        out = r.choice([r.randint(1, 16), (r.randint(1, 16), r.randint(1, 16))])
        settings.append((r.randint(1, 64), r.randint(1, 64), kernel, out))
    for c_in, c_out, kernel, out in settings:
        expect.equal(cost_call(c_in, c_out, kernel, out, separable=True),
                     student.conv_cost(c_in, c_out, kernel, out, separable=True),
                     ref_conv_cost(c_in, c_out, kernel, out, separable=True))


@item("conv_cost")
def test_conv_cost_groups_must_divide(student):
    """Channels not divisible by groups raise ValueError (and divisible ones do not)"""
    expect.equal(cost_call(8, 4, 3, 6, groups=4), student.conv_cost(8, 4, 3, 6, groups=4),
                 ref_conv_cost(8, 4, 3, 6, groups=4))
    expect.raises(cost_call(6, 8, 3, 6, groups=4), lambda: student.conv_cost(6, 8, 3, 6, groups=4))
    expect.raises(cost_call(8, 6, 3, 6, groups=4), lambda: student.conv_cost(8, 6, 3, 6, groups=4))
