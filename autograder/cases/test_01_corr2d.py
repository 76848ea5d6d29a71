"""Hidden cases of 01_corr2d. Instructor material: never shipped to students.

Each case compares the student's function, run in the worker, with a trusted
reference computed here, on inputs drawn at grade time.
"""

import pytest
import torch

from autograder.cases.common import check_grads, rng
from autograder.cases.common import ref_conv as ref_corr2d
from autograder.grading.declarations import Assignment
from autograder.grading.rules import ItemRule
from autograder.judge import expect
from autograder.judge.expect import fail
from autograder.sandbox import process as sandbox

ASSIGNMENT = Assignment(
    "01_corr2d", ["corr2d", "Conv2D", "learn_kernel", "conv2d_strict", "receptive_field"],
    # The task: train the kernel with autograd.
    rules={"learn_kernel": ItemRule(allow=frozenset({"autograd"}))},
)
item = ASSIGNMENT.item


# -- trusted references -------------------------------------------------------


def ref_receptive_field(kernel_sizes, strides=None):
    strides = strides or [1] * len(kernel_sizes)
    side, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        side += (k - 1) * jump
        jump *= s
    return side


def ref_learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    weight = torch.rand(kernel_size, requires_grad=True)
    for _ in range(steps):
        loss = ((ref_corr2d(X, weight) - Y) ** 2).sum()
        (grad,) = torch.autograd.grad(loss, weight)
        with torch.no_grad():
            weight -= lr * grad
    return weight.detach()


# -- inputs ----------------------------------------------------------------------

def shapes(count=25):
    """(H, W, h, w) with non-square, 1x1, full-size and thin kernels among them."""
    r = rng()
    fixed = [(5, 7, 2, 3), (6, 4, 6, 4), (4, 9, 1, 1), (3, 8, 1, 8), (7, 2, 7, 1), (1, 1, 1, 1), (9, 6, 4, 2)]
    drawn = []
    for _ in range(count - len(fixed)):
        H, W = r.randint(1, 12), r.randint(1, 12)
        drawn.append((H, W, r.randint(1, H), r.randint(1, W)))
    return fixed + drawn


def edge_data():
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    return X, ref_corr2d(X, torch.tensor([[1.0, -1.0]]))


# -- corr2d ----------------------------------------------------------------------

@item("corr2d")
def test_corr2d_random_shapes_float32(student):
    """Random float32 shapes (non-square, 1x1, kernel as large as the input) agree with the reference"""
    for H, W, h, w in shapes():
        X, K = torch.randn(H, W), torch.randn(h, w)
        call = f"corr2d(X {H}x{W}, K {h}x{w})"
        expect.close(call, student.corr2d(X, K), ref_corr2d(X, K))


@item("corr2d")
def test_corr2d_float64_precision(student):
    """float64 inputs give float64 results to full precision"""
    for H, W, h, w in shapes(10):
        X, K = torch.randn(H, W, dtype=torch.float64), torch.randn(h, w, dtype=torch.float64)
        expect.close(f"corr2d(X {H}x{W} float64, K {h}x{w} float64)", student.corr2d(X, K), ref_corr2d(X, K))


@item("corr2d")
def test_corr2d_dtype_promotion(student):
    """Integer inputs stay integer; mixed inputs follow torch.promote_types"""
    r = rng()
    for x_dtype, k_dtype in [(torch.int64, torch.int64), (torch.int32, torch.int64),
                             (torch.int64, torch.float32), (torch.float32, torch.float64)]:
        H, W = r.randint(3, 9), r.randint(3, 9)
        X = torch.randint(-9, 10, (H, W)).to(x_dtype)
        K = torch.randint(-4, 5, (2, 3)).to(k_dtype)
        call = f"corr2d(X {x_dtype}, K {k_dtype})"
        expect.close(call, student.corr2d(X, K), ref_corr2d(X, K))


@item("corr2d")
def test_corr2d_leaves_inputs_alone(student):
    """The inputs are not modified (and the result is still right)"""
    X, K = torch.randn(6, 5), torch.randn(3, 2)
    call = student.record("corr2d", X, K)
    expect.close("corr2d(X 6x5, K 3x2)", call.value, ref_corr2d(X, K))
    expect.unchanged(call)


@item("corr2d")
def test_corr2d_gradients_flow(student):
    """Autograd flows through the result (built from torch operations) with the right gradients"""
    for H, W, h, w in [(5, 6, 2, 3), (4, 4, 4, 1), (7, 3, 1, 1)]:
        X = torch.randn(H, W, dtype=torch.float64)
        K = torch.randn(h, w, dtype=torch.float64)
        check_grads(student, "corr2d", (X, K), (0, 1), ref_corr2d, f"corr2d(X {H}x{W} float64, K {h}x{w} float64)")


@item("corr2d")
def test_corr2d_impossible_sizes(student):
    """A kernel larger than the input, or an X or K that is not 2-D, raises ValueError (and one that fits does not)"""
    X, K = torch.randn(4, 5), torch.randn(2, 2)
    expect.close("corr2d(X 4x5, K 2x2)", student.corr2d(X, K), ref_corr2d(X, K))
    for X_shape, K_shape in [((3, 3), (4, 2)), ((5, 2), (1, 3)), ((2, 2), (3, 3)), ((2, 4, 4), (2, 2)),
                             ((4, 4), (2,))]:
        X, K = torch.randn(*X_shape), torch.randn(*K_shape)
        expect.raises(f"corr2d(X {X_shape}, K {K_shape})", lambda X=X, K=K: student.corr2d(X, K))


@item("corr2d")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_corr2d_cuda(student):
    """On CUDA inputs the result is on the same device"""
    X, K = torch.randn(9, 7, device="cuda"), torch.randn(3, 2, device="cuda")
    expect.close("corr2d(X 9x7 cuda, K 3x2 cuda)", student.corr2d(X, K), ref_corr2d(X, K))


# -- Conv2D ---------------------------------------------------------------------

@item("Conv2D")
def test_conv2d_layer_parameters(student):
    """Conv2D is an nn.Module whose weight and bias parameters have the right shapes"""
    for kernel_size, shape in [((1, 2), (1, 2)), ((3, 2), (3, 2)), (3, (3, 3)), (1, (1, 1))]:
        layer = student.Conv2D(kernel_size)
        call = f"Conv2D({kernel_size!r})"
        if "torch.nn.modules.module.Module" not in student.type_names(layer):
            fail(f"{call} is not a torch.nn.Module")
        state = layer.state_dict()
        if not isinstance(state, dict) or set(state) != {"weight", "bias"}:
            fail(f"{call} should have exactly the parameters 'weight' and 'bias'; "
                 f"its state_dict has {sorted(state) if isinstance(state, dict) else state!r}")
        expect.tensor_like(f"{call}.weight", state["weight"], torch.empty(shape), check_dtype=False)
        expect.tensor_like(f"{call}.bias", state["bias"], torch.empty(1), check_dtype=False)


@item("Conv2D")
def test_conv2d_layer_forward(student):
    """forward(x) is corr2d(x, weight) + bias, for set weights and random inputs"""
    for H, W, h, w in shapes(8):
        layer = student.Conv2D((h, w))
        weight, bias = torch.randn(h, w), torch.randn(1)
        layer.weight = torch.nn.Parameter(weight)
        layer.bias = torch.nn.Parameter(bias)
        X = torch.randn(H, W)
        expect.close(f"Conv2D(({h}, {w})) with set weight and bias, on x {H}x{W}",
                     layer(X), ref_corr2d(X, weight) + bias, check_dtype=False)


# -- learn_kernel -------------------------------------------------------------

@item("learn_kernel")
def test_learn_kernel_follows_gradient_descent(student):
    """Ten steps of plain gradient descent from the seeded torch.rand start match the reference"""
    X, Y = edge_data()
    for seed, lr in [(0, 3e-2), (rng().randint(1, 10_000), 2e-2)]:
        call = f"learn_kernel(X 6x8, Y 6x7, (1, 2), lr={lr}, steps=10, seed={seed})"
        got = student.learn_kernel(X, Y, (1, 2), lr=lr, steps=10, seed=seed)
        expect.close(call, got, ref_learn_kernel(X, Y, (1, 2), lr, 10, seed), atol=1e-4, rtol=1e-4,
                     check_dtype=False)


@item("learn_kernel")
def test_learn_kernel_converges(student):
    """With enough steps the edge kernel [[1, -1]] is recovered"""
    X, Y = edge_data()
    call = "learn_kernel(X 6x8, Y 6x7, (1, 2), steps=200)"
    got = student.learn_kernel(X, Y, (1, 2), steps=200, timeout=sandbox.TRAINING_SECONDS)
    expect.close(call, got, torch.tensor([[1.0, -1.0]]), atol=1e-3, rtol=0, check_dtype=False)


@item("learn_kernel")
def test_learn_kernel_other_kernel(student):
    """A random 2x3 kernel is learned back from a random image"""
    torch.manual_seed(rng().randint(0, 10_000))
    X = torch.rand(7, 9)
    Y = ref_corr2d(X, torch.randn(2, 3))
    call = "learn_kernel(X 7x9, Y 6x7, (2, 3), lr=3e-3, steps=60, seed=3)"
    got = student.learn_kernel(X, Y, (2, 3), lr=3e-3, steps=60, seed=3, timeout=sandbox.TRAINING_SECONDS)
    expect.close(call, got, ref_learn_kernel(X, Y, (2, 3), 3e-3, 60, 3), atol=1e-3, rtol=1e-3,
                 check_dtype=False)


# -- conv2d_strict ------------------------------------------------------------

@item("conv2d_strict")
def test_conv2d_strict_random_shapes(student):
    """True convolution (kernel flipped on both axes) on random shapes and dtypes"""
    for H, W, h, w in shapes(15):
        X, K = torch.randn(H, W, dtype=torch.float64), torch.randn(h, w, dtype=torch.float64)
        expect.close(f"conv2d_strict(X {H}x{W}, K {h}x{w})", student.conv2d_strict(X, K),
                     ref_corr2d(X, K.flip(0, 1)))
    X, K = torch.randint(-5, 6, (5, 6)), torch.randint(-3, 4, (3, 2))
    call = student.record("conv2d_strict", X, K)
    expect.close("conv2d_strict(X 5x6 int64, K 3x2 int64)", call.value, ref_corr2d(X, K.flip(0, 1)))
    expect.unchanged(call, hint=" (torch.flip returns a copy)")


@item("conv2d_strict")
def test_conv2d_strict_follows_corr2d_rules(student):
    """corr2d's rules: mixed dtypes are promoted, and the shapes corr2d refuses raise ValueError"""
    X, K = torch.randint(-5, 6, (5, 6)), torch.randn(3, 2)
    expect.close("conv2d_strict(X 5x6 int64, K 3x2 float32)", student.conv2d_strict(X, K),
                 ref_corr2d(X, K.flip(0, 1)))
    for X_shape, K_shape in [((3, 3), (4, 2)), ((2, 4, 4), (2, 2)), ((4, 4), (2,))]:
        X, K = torch.randn(*X_shape), torch.randn(*K_shape)
        expect.raises(f"conv2d_strict(X {X_shape}, K {K_shape})", lambda X=X, K=K: student.conv2d_strict(X, K))


# -- receptive_field ----------------------------------------------------------

@item("receptive_field")
def test_receptive_field_stacks(student):
    """Stacks with stride 1 and with strides, including the empty stack"""
    r = rng()
    stacks = [([], None), ([5], None), ([3, 3, 3], None), ([2, 2], [1, 1]), ([3, 3], [2, 2]),
              ([7, 3, 3], [2, 1, 2]), ([1, 1], [4, 4])]
    for _ in range(10):
        n = r.randint(1, 6)
        stacks.append(([r.choice([1, 2, 3, 5, 7]) for _ in range(n)], [r.randint(1, 3) for _ in range(n)]))
    for kernels, strides in stacks:
        call = expect.call("receptive_field", kernels, strides=strides)
        got = student.receptive_field(kernels) if strides is None else student.receptive_field(kernels, strides)
        expect.equal(call, got, ref_receptive_field(kernels, strides))


@item("receptive_field")
def test_receptive_field_mismatched_lengths(student):
    """Lists of different lengths, or a size or stride below 1, raise ValueError (and equal lengths do not)"""
    # Not the notebook's public example ([3, 3] and [2, 1]): an answer written for that alone passes nothing here.
    expect.equal(expect.call("receptive_field", [3, 5], strides=[2, 1]), student.receptive_field([3, 5], [2, 1]),
                 ref_receptive_field([3, 5], [2, 1]))
    expect.raises(expect.call("receptive_field", [3, 3], strides=[2]), lambda: student.receptive_field([3, 3], [2]))
    for kernels, strides in [([3, 0], [1, 1]), ([3, 3], [1, 0])]:
        expect.raises(expect.call("receptive_field", kernels, strides=strides),
                      lambda kernels=kernels, strides=strides: student.receptive_field(kernels, strides))
