"""Hidden cases of 02_padding_stride_channels. Instructor material: never shipped to students."""

import torch
import torch.nn.functional as F

from autograder.cases.common import check_grads, conv_settings, pair, ref_conv, ref_output_shape, rng
from autograder.grading.declarations import Assignment
from autograder.grading.rules import ItemRule
from autograder.judge import expect, speed
from autograder.judge.expect import fail

ASSIGNMENT = Assignment(
    "02_padding_stride_channels",
    ["pad2d", "output_shape", "corr2d_ps", "corr2d_multi_in", "corr2d_multi_in_out", "corr2d_multi_in_out_1x1",
     "conv_param_count"],
    # F.pad is allowed everywhere but where padding is the task.
    rules={"pad2d": ItemRule(forbid=frozenset({"padding"}))},
)
item = ASSIGNMENT.item


def int_pair(call: str, got, expected: tuple[int, int]) -> None:
    if not (isinstance(got, tuple) and len(got) == 2 and all(type(v) is int for v in got)):
        fail(f"{call} returned {got!r}; expected a tuple of two Python ints")
    if got != expected:
        fail(f"{call} returned {got}; that is not the output size floor((n + 2p - k) / s) + 1 per axis")


# -- output_shape ----------------------------------------------------------------

@item("output_shape")
def test_output_shape_settings(student):
    """Per-side padding, floor division and per-axis stride on many settings"""
    for H, W, h, w, padding, stride in conv_settings(60, max_side=40):
        call = f"output_shape(({H}, {W}), ({h}, {w}), padding={padding}, stride={stride})"
        int_pair(call, student.output_shape((H, W), (h, w), padding=padding, stride=stride),
                 ref_output_shape((H, W), (h, w), padding, stride))


@item("output_shape")
def test_output_shape_defaults_and_int_kernel(student):
    """Defaults are padding 0 and stride 1; an int kernel k means (k, k)"""
    r = rng()
    for _ in range(10):
        H, W, k = r.randint(5, 30), r.randint(5, 30), r.randint(1, 5)
        int_pair(expect.call("output_shape", (H, W), k), student.output_shape((H, W), k),
                 ref_output_shape((H, W), (k, k)))


@item("output_shape")
def test_output_shape_impossible(student):
    """A kernel larger than the padded input, a size or stride below 1 or a negative padding raises ValueError"""
    int_pair(expect.call("output_shape", (5, 4), (5, 1), 0, 1), student.output_shape((5, 4), (5, 1), 0, 1), (1, 4))
    for args in [((3, 3), (4, 1), 0, 1), ((5, 2), (3, 5), (0, 1), 1), ((2, 2), (5, 5), 1, 2), ((0, 5), (1, 1), 0, 1),
                 ((5, 5), (0, 2), 0, 1), ((5, 5), (3, 3), 0, (1, 0)), ((5, 5), (3, 3), (1, -1), 1)]:
        expect.raises(expect.call("output_shape", *args), lambda args=args: student.output_shape(*args))


# -- pad2d -------------------------------------------------------------------------

@item("pad2d")
def test_pad2d_ranks_and_paddings(student):
    """(H, W), (C, H, W) and (N, C, H, W) tensors get zeros on each side of the last two axes"""
    r = rng()
    for shape in [(4, 5), (3, 2, 6), (2, 3, 5, 4), (1, 1), (2, 1, 1, 7)]:
        for padding in [0, 1, (2, 0), (0, 3), (r.randint(1, 4), r.randint(1, 4))]:
            X = torch.randn(shape)
            p_h, p_w = pair(padding)
            call = f"pad2d(X {shape}, {padding})"
            expect.close(call, student.pad2d(X, padding), F.pad(X, (p_w, p_w, p_h, p_h)))


@item("pad2d")
def test_pad2d_dtypes_and_inputs(student):
    """The dtype is kept (int64, float64) and the input is left unchanged"""
    for X in [torch.randint(-9, 10, (3, 4)), torch.randn(2, 3, 4, dtype=torch.float64)]:
        call = student.record("pad2d", X, (1, 2))
        expect.close(f"pad2d(X {X.dtype} {tuple(X.shape)}, (1, 2))", call.value, F.pad(X, (2, 2, 1, 1)))
        expect.unchanged(call)


@item("pad2d")
def test_pad2d_gradients(student):
    """Gradients flow back to X (the gradient of padding crops the upstream gradient)"""
    X = torch.randn(2, 4, 3, dtype=torch.float64)
    check_grads(student, "pad2d", (X, (1, 2)), (0,), lambda x, p: F.pad(x, (2, 2, 1, 1)), "pad2d(X (2, 4, 3), (1, 2))")


@item("pad2d")
def test_pad2d_bad_input(student):
    """Negative padding (an int, or either of a pair) or a 1-D tensor raises ValueError (and valid input does not)"""
    X = torch.randn(3, 2)
    expect.close("pad2d(X (3, 2), 1)", student.pad2d(X, 1), F.pad(X, (1, 1, 1, 1)))
    expect.raises("pad2d(X (3, 3), -1)", lambda: student.pad2d(torch.ones(3, 3), -1))
    expect.raises("pad2d(X (3, 3), (1, -1))", lambda: student.pad2d(torch.ones(3, 3), (1, -1)))
    expect.raises("pad2d(X (5,), 1)", lambda: student.pad2d(torch.ones(5), 1))


# -- corr2d_ps ---------------------------------------------------------------------

@item("corr2d_ps", weight=2)
def test_corr2d_ps_settings(student):
    """Random settings (stride larger than the kernel, padding larger than the kernel, pairs) agree with conv2d"""
    for H, W, h, w, padding, stride in conv_settings(40):
        for dtype in (torch.float32, torch.float64):
            X, K = torch.randn(H, W, dtype=dtype), torch.randn(h, w, dtype=dtype)
            call = f"corr2d_ps(X {H}x{W} {dtype}, K {h}x{w}, padding={padding}, stride={stride})"
            expect.close(call, student.corr2d_ps(X, K, padding=padding, stride=stride),
                         ref_conv(X, K, padding, stride))


@item("corr2d_ps")
def test_corr2d_ps_integers_and_inputs(student):
    """Integer inputs stay integer, and the inputs are left unchanged"""
    X, K = torch.randint(-5, 6, (7, 6)), torch.randint(-3, 4, (3, 2))
    call = student.record("corr2d_ps", X, K, padding=(1, 2), stride=(2, 1))
    expect.close("corr2d_ps(X 7x6 int64, K 3x2 int64, padding=(1, 2), stride=(2, 1))", call.value,
                 ref_conv(X, K, (1, 2), (2, 1)))
    expect.unchanged(call)


@item("corr2d_ps")
def test_corr2d_ps_gradients(student):
    """Gradients with respect to X and K match conv2d's"""
    X, K = torch.randn(7, 8, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    check_grads(student, "corr2d_ps", (X, K, 2, (2, 3)), (0, 1),
                lambda x, k, p, s: ref_conv(x, k, p, s), "corr2d_ps(X 7x8, K 3x2, 2, (2, 3))")


@item("corr2d_ps")
def test_corr2d_ps_impossible(student):
    """A kernel that does not fit the padded input raises ValueError (and one that just fits does not)"""
    X, K = torch.randn(2, 2), torch.randn(4, 1)
    expect.close("corr2d_ps(X 2x2, K 4x1, padding=1)", student.corr2d_ps(X, K, padding=1), ref_conv(X, K, 1))
    K = torch.randn(5, 1)
    expect.raises("corr2d_ps(X 2x2, K 5x1, padding=1)", lambda: student.corr2d_ps(X, K, padding=1))
    for X, K in [(torch.randn(2, 5, 5), torch.randn(2, 2)), (torch.randn(5, 5), torch.randn(2))]:
        expect.raises(f"corr2d_ps(X {tuple(X.shape)}, K {tuple(K.shape)})", lambda X=X, K=K: student.corr2d_ps(X, K))


@item("corr2d_ps")
def test_corr2d_ps_mixed_dtypes(student):
    """Mixed dtypes follow torch.promote_types (int64 input, float32 kernel: float32)"""
    X, K = torch.randint(-5, 6, (6, 7)), torch.randn(3, 2)
    expect.close("corr2d_ps(X 6x7 int64, K 3x2 float32, padding=1, stride=2)",
                 student.corr2d_ps(X, K, padding=1, stride=2), ref_conv(X, K, 1, 2))


# -- channels ------------------------------------------------------------------------

def channel_shapes(count=12):
    r = rng()
    fixed = [(2, 3, 3, 2, 2), (3, 5, 4, 3, 1), (1, 4, 6, 2, 3), (4, 6, 6, 6, 6)]
    drawn = [(r.randint(1, 5), r.randint(3, 9), r.randint(3, 9), r.randint(1, 3), r.randint(1, 3))
             for _ in range(count - len(fixed))]
    return fixed + drawn


@item("corr2d_multi_in", weight=2)
def test_multi_in_sums_over_channels(student):
    """Each channel is cross-correlated with its own kernel slice and the results are summed"""
    for C, H, W, h, w in channel_shapes():
        X, K = torch.randn(C, H, W), torch.randn(C, h, w)
        expect.close(f"corr2d_multi_in(X {(C, H, W)}, K {(C, h, w)})", student.corr2d_multi_in(X, K),
                     ref_conv(X, K[None])[0])


@item("corr2d_multi_in")
def test_multi_in_dtypes_and_mismatch(student):
    """Integer inputs stay integer; mismatched channel counts raise ValueError"""
    X, K = torch.randint(-5, 6, (3, 5, 4)), torch.randint(-3, 4, (3, 2, 2))
    expect.close("corr2d_multi_in(X (3, 5, 4) int64, K (3, 2, 2) int64)", student.corr2d_multi_in(X, K),
                 ref_conv(X, K[None])[0])
    expect.raises("corr2d_multi_in(X (3, 5, 5), K (2, 2, 2))",
                  lambda: student.corr2d_multi_in(torch.randn(3, 5, 5), torch.randn(2, 2, 2)))


@item("corr2d_multi_in")
def test_multi_in_docstring_rules(student):
    """Mixed dtypes are promoted and the inputs left unchanged; non-3-D inputs and a kernel that does not fit raise"""
    X, K = torch.randint(-5, 6, (2, 5, 4)), torch.randn(2, 2, 3)
    call = student.record("corr2d_multi_in", X, K)
    expect.close("corr2d_multi_in(X (2, 5, 4) int64, K (2, 2, 3) float32)", call.value, ref_conv(X, K[None])[0])
    expect.unchanged(call)
    for X, K in [(torch.randn(5, 5), torch.randn(2, 2)), (torch.randn(2, 5, 5), torch.randn(1, 2, 2, 2)),
                 (torch.randn(2, 3, 3), torch.randn(2, 4, 2))]:
        expect.raises(f"corr2d_multi_in(X {tuple(X.shape)}, K {tuple(K.shape)})",
                      lambda X=X, K=K: student.corr2d_multi_in(X, K))


@item("corr2d_multi_in_out", weight=2)
def test_multi_in_out_random(student):
    """Output channel o is the multi-input correlation with K[o]; C_out differs from C_in"""
    r = rng()
    for C, H, W, h, w in channel_shapes():
        C_out = r.choice([c for c in range(1, 6) if c != C])
        X, K = torch.randn(C, H, W), torch.randn(C_out, C, h, w)
        expect.close(f"corr2d_multi_in_out(X {(C, H, W)}, K {(C_out, C, h, w)})",
                     student.corr2d_multi_in_out(X, K), ref_conv(X, K))


@item("corr2d_multi_in_out")
def test_multi_in_out_gradients_and_mismatch(student):
    """Gradients match conv2d's; a weight whose C_in differs from X's raises ValueError"""
    X, K = torch.randn(3, 6, 5, dtype=torch.float64), torch.randn(2, 3, 2, 3, dtype=torch.float64)
    check_grads(student, "corr2d_multi_in_out", (X, K), (0, 1), ref_conv,
                "corr2d_multi_in_out(X (3, 6, 5), K (2, 3, 2, 3))")
    expect.raises("corr2d_multi_in_out(X (3, 5, 5), K (2, 4, 2, 2))",
                  lambda: student.corr2d_multi_in_out(torch.randn(3, 5, 5), torch.randn(2, 4, 2, 2)))


@item("corr2d_multi_in_out")
def test_multi_in_out_docstring_rules(student):
    """Mixed dtypes are promoted and the inputs left unchanged; an X that is not 3-D or a K not 4-D raises"""
    X, K = torch.randint(-5, 6, (2, 5, 4)), torch.randn(3, 2, 2, 2)
    call = student.record("corr2d_multi_in_out", X, K)
    expect.close("corr2d_multi_in_out(X (2, 5, 4) int64, K (3, 2, 2, 2) float32)", call.value, ref_conv(X, K))
    expect.unchanged(call)
    for X, K in [(torch.randn(1, 2, 5, 5), torch.randn(3, 2, 2, 2)), (torch.randn(2, 5, 5), torch.randn(2, 2, 2))]:
        expect.raises(f"corr2d_multi_in_out(X {tuple(X.shape)}, K {tuple(K.shape)})",
                      lambda X=X, K=K: student.corr2d_multi_in_out(X, K))


@item("corr2d_multi_in_out_1x1", weight=2)
def test_one_by_one_random(student):
    """A 1x1 kernel mixes channels at every pixel; non-square images and C_out != C_in"""
    r = rng()
    for _ in range(12):
        C_in, C_out, H, W = r.randint(1, 6), r.randint(1, 6), r.randint(1, 9), r.randint(1, 9)
        if H == W:
            W += 1
        X, K = torch.randn(C_in, H, W), torch.randn(C_out, C_in, 1, 1)
        expect.close(f"corr2d_multi_in_out_1x1(X {(C_in, H, W)}, K {(C_out, C_in, 1, 1)})",
                     student.corr2d_multi_in_out_1x1(X, K), ref_conv(X, K))


@item("corr2d_multi_in_out_1x1")
def test_one_by_one_dtype_and_bad_kernel(student):
    """float64 stays float64; a kernel that is not 1x1 raises ValueError"""
    X, K = torch.randn(3, 4, 5, dtype=torch.float64), torch.randn(2, 3, 1, 1, dtype=torch.float64)
    expect.close("corr2d_multi_in_out_1x1(X (3, 4, 5) float64, K (2, 3, 1, 1) float64)",
                 student.corr2d_multi_in_out_1x1(X, K), ref_conv(X, K))
    expect.raises("corr2d_multi_in_out_1x1(X (3, 4, 4), K (2, 3, 3, 3))",
                  lambda: student.corr2d_multi_in_out_1x1(torch.randn(3, 4, 4), torch.randn(2, 3, 3, 3)))


@item("corr2d_multi_in_out_1x1")
def test_one_by_one_docstring_rules(student):
    """The inputs are left unchanged; an X that is not 3-D, or a K that is not (C_out, C_in, 1, 1), raises"""
    X, K = torch.randn(3, 4, 5), torch.randn(2, 3, 1, 1)
    call = student.record("corr2d_multi_in_out_1x1", X, K)
    expect.close("corr2d_multi_in_out_1x1(X (3, 4, 5), K (2, 3, 1, 1))", call.value, ref_conv(X, K))
    expect.unchanged(call)
    for X, K in [(torch.randn(4, 4), torch.randn(2, 3, 1, 1)), (torch.randn(3, 4, 4), torch.randn(2, 3))]:
        expect.raises(f"corr2d_multi_in_out_1x1(X {tuple(X.shape)}, K {tuple(K.shape)})",
                      lambda X=X, K=K: student.corr2d_multi_in_out_1x1(X, K))


@item("corr2d_multi_in_out_1x1")
def test_one_by_one_has_no_loop(student):
    """One matrix product, no loop: the work does not grow with the rows, columns or channels"""
    X, K = torch.randn(4, 6, 5), torch.randn(3, 4, 1, 1)
    call = "corr2d_multi_in_out_1x1(X (4, 6, 5), K (3, 4, 1, 1))"
    expect.close(call, student.corr2d_multi_in_out_1x1(X, K), ref_conv(X, K))    # right before loop-free
    for larger, along, size in [((torch.cat([X, X.flip(1)], 1), K), "the rows (H)", 6),
                                ((torch.cat([X, X.flip(2)], 2), K), "the columns (W)", 5),
                                ((torch.cat([X, X.flip(0)], 0), torch.cat([K, K], 1)), "the input channels (C_in)", 4),
                                ((X, torch.cat([K, -K], 0)), "the output channels (C_out)", 3)]:
        speed.no_loop(student, "corr2d_multi_in_out_1x1", (X, K), larger, along, size, call)


# -- conv_param_count ---------------------------------------------------------------

@item("conv_param_count")
def test_param_count(student):
    """(c_in * kh * kw + 1) * c_out with bias, c_in * kh * kw * c_out without, for pairs and ints"""
    r = rng()
    settings = [(1, 6, (5, 5), True), (6, 16, (5, 5), True), (3, 64, 3, True), (64, 128, (1, 1), False)]
    settings += [(r.randint(1, 512), r.randint(1, 512), (r.randint(1, 7), r.randint(1, 7)), r.random() < 0.5)
                 for _ in range(10)]
    for c_in, c_out, kernel, bias in settings:
        k_h, k_w = pair(kernel)
        expected = (c_in * k_h * k_w + int(bias)) * c_out
        expect.equal(expect.call("conv_param_count", c_in, c_out, kernel, bias=bias),
                     student.conv_param_count(c_in, c_out, kernel, bias=bias), expected)


@item("conv_param_count")
def test_param_count_below_one(student):
    """A channel count or kernel size below 1 raises ValueError"""
    for args in [(0, 4, 3), (3, 0, 3), (3, 4, 0), (3, 4, (3, 0))]:
        expect.raises(expect.call("conv_param_count", *args), lambda args=args: student.conv_param_count(*args))
