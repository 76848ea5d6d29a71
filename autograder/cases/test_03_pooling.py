"""Hidden cases of 03_pooling. Instructor material: never shipped to students."""

import torch
import torch.nn.functional as F

from autograder.cases.common import check_grads, pair, rng
from autograder.grading.declarations import Assignment
from autograder.judge import expect, speed

ASSIGNMENT = Assignment("03_pooling", ["pool2d", "pool2d_multi"])
item = ASSIGNMENT.item


def ref_pool(X, pool_size, mode="max", padding=0, stride=None):
    """torch's pooling on (H, W), (C, H, W) or (N, C, H, W) input."""
    stride = pool_size if stride is None else stride
    x = X.reshape(-1, 1, *X.shape[-2:])
    if mode == "max":
        out = F.max_pool2d(x, pair(pool_size), pair(stride), pair(padding))
    else:
        out = F.avg_pool2d(x, pair(pool_size), pair(stride), pair(padding), count_include_pad=True)
    return out.reshape(*X.shape[:-2], *out.shape[-2:])


def pool_settings(count: int):
    """(H, W, pool_size, padding, stride): non-square, stride > window, padding up to half the window."""
    r = rng()
    fixed = [(4, 4, 3, 0, None), (4, 4, 3, 1, 2), (4, 4, (2, 3), (0, 1), (2, 3)), (3, 3, 2, 0, 1),
             (6, 9, (3, 2), (1, 1), (1, 3)), (5, 7, 2, 1, 4), (8, 3, (4, 1), (2, 0), None), (1, 6, (1, 2), 0, None),
             (7, 7, 5, 2, 6)]
    drawn = []
    while len(fixed) + len(drawn) < count:
        square = r.random() < 0.4
        k_h = r.randint(1, 5)
        k_w = k_h if square else r.randint(1, 5)
        p_h = r.randint(0, k_h // 2)
        p_w = p_h if square else r.randint(0, k_w // 2)
        H, W = r.randint(max(1, k_h - 2 * p_h), 12), r.randint(max(1, k_w - 2 * p_w), 12)
        pool_size = k_h if square else (k_h, k_w)
        padding = p_h if square and r.random() < 0.5 else (p_h, p_w)
        stride = r.choice([None, r.randint(1, 5), (r.randint(1, 5), r.randint(1, 5))])
        drawn.append((H, W, pool_size, padding, stride))
    return fixed + drawn


def describe(name, shape, pool_size, mode, padding, stride):
    return f"{name}(X {shape}, {pool_size!r}, mode={mode!r}, padding={padding!r}, stride={stride!r})"


def check_pool(student, name, X, pool_size, mode, padding, stride):
    call = describe(name, tuple(X.shape), pool_size, mode, padding, stride)
    kwargs = {"mode": mode, "padding": padding}
    if stride is not None:
        kwargs["stride"] = stride
    expect.close(call, student.call(name, X, pool_size, **kwargs), ref_pool(X, pool_size, mode, padding, stride))


# -- pool2d --------------------------------------------------------------------------

@item("pool2d", weight=2)
def test_pool2d_max_settings(student):
    """Max pooling on random settings (non-square, stride larger than the window, default stride)"""
    for H, W, pool_size, padding, stride in pool_settings(40):
        check_pool(student, "pool2d", torch.randn(H, W), pool_size, "max", padding, stride)


@item("pool2d", weight=2)
def test_pool2d_avg_settings(student):
    """Average pooling on random settings; padding zeros count in the mean (count_include_pad=True)"""
    for H, W, pool_size, padding, stride in pool_settings(40):
        check_pool(student, "pool2d", torch.randn(H, W), pool_size, "avg", padding, stride)


@item("pool2d")
def test_pool2d_max_pads_with_minus_infinity(student):
    """With all-negative inputs, max pooling with padding never returns a padding zero"""
    for H, W, pool_size, padding in [(4, 4, 3, 1), (5, 6, (2, 3), (1, 1)), (3, 7, 2, 1)]:
        X = -1 - torch.rand(H, W)
        check_pool(student, "pool2d", X, pool_size, "max", padding, 1)


@item("pool2d")
def test_pool2d_float64_and_inputs(student):
    """float64 stays float64 (to full precision), and the input is left unchanged"""
    X = torch.randn(7, 6, dtype=torch.float64)
    for mode in ("max", "avg"):
        call = student.record("pool2d", X, (3, 2), mode=mode, padding=(1, 1), stride=(2, 1))
        expect.close(describe("pool2d", (7, 6), (3, 2), mode, (1, 1), (2, 1)), call.value,
                     ref_pool(X, (3, 2), mode, (1, 1), (2, 1)))
        expect.unchanged(call)


@item("pool2d")
def test_pool2d_gradients(student):
    """Gradients flow: to each window's maximum for max, spread evenly for avg"""
    X = torch.randn(6, 7, dtype=torch.float64)  # distinct values: no ties
    for mode in ("max", "avg"):
        check_grads(student, "pool2d", (X, (2, 3)), (0,), ref_pool, describe("pool2d", (6, 7), (2, 3), mode, 1, (2, 2)),
                    mode=mode, padding=1, stride=(2, 2))


@item("pool2d")
def test_pool2d_bad_mode_and_padding(student):
    """A mode other than "max" or "avg", padding over half the window, or an X that is not 2-D raises ValueError"""
    X = torch.randn(5, 5)
    check_pool(student, "pool2d", X, 2, "max", 1, None)
    check_pool(student, "pool2d", X, 2, "avg", 1, None)
    for mode in ("MAX", "mean", "min", ""):
        expect.raises(f"pool2d(X (5, 5), 2, mode={mode!r})", lambda mode=mode: student.pool2d(X, 2, mode=mode))
    expect.raises("pool2d(X (5, 5), 2, padding=2)", lambda: student.pool2d(X, 2, padding=2))
    expect.raises("pool2d(X (5, 5), (3, 2), padding=(1, 2))", lambda: student.pool2d(X, (3, 2), padding=(1, 2)))
    for shape in [(5,), (2, 5, 5)]:
        expect.raises(f"pool2d(X {shape}, 2)", lambda shape=shape: student.pool2d(torch.randn(shape), 2))


@item("pool2d")
def test_pool2d_has_no_loop_over_output_positions(student):
    """No Python loop over the output positions: the work does not grow with the rows or the columns"""
    X = torch.randn(16, 12)
    for mode in ("max", "avg"):
        call = describe("pool2d", (16, 12), 3, mode, 1, 2)
        expect.close(call, student.pool2d(X, 3, mode, 1, 2), ref_pool(X, 3, mode, 1, 2))   # right before loop-free
        for larger, along, size in [(torch.cat([X, X.flip(0)], 0), "the rows (H)", 16),
                                    (torch.cat([X, X.flip(1)], 1), "the columns (W)", 12)]:
            speed.no_loop(student, "pool2d", (X, 3, mode, 1, 2), (larger, 3, mode, 1, 2), along, size, call)


# -- pool2d_multi ------------------------------------------------------------------

@item("pool2d_multi", weight=2)
def test_pool2d_multi_channels_are_not_mixed(student):
    """(C, H, W) and (N, C, H, W) inputs are pooled channel by channel, both modes"""
    r = rng()
    for H, W, pool_size, padding, stride in pool_settings(16):
        shape = r.choice([(r.randint(2, 4), H, W), (r.randint(1, 3), r.randint(2, 4), H, W)])
        X = torch.randn(shape)
        for mode in ("max", "avg"):
            check_pool(student, "pool2d_multi", X, pool_size, mode, padding, stride)


@item("pool2d_multi")
def test_pool2d_multi_seed_example_and_dtype(student):
    """The lecture's two-channel example, in float64"""
    X = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)
    X = torch.cat((X, X + 1), 1)
    check_pool(student, "pool2d_multi", X, 3, "max", 1, 2)
    check_pool(student, "pool2d_multi", X[0], 3, "avg", 1, 2)


@item("pool2d_multi")
def test_pool2d_multi_gradients_and_rank(student):
    """Gradients flow back per channel; inputs of rank 2 or 5, and pool2d's own errors, raise ValueError"""
    X = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    check_grads(student, "pool2d_multi", (X, 2), (0,), ref_pool, describe("pool2d_multi", (2, 3, 5, 4), 2, "max", 1, 1),
                padding=1, stride=1)
    for shape in [(4, 4), (1, 1, 1, 4, 4)]:
        expect.raises(f"pool2d_multi(X {shape}, 2)", lambda shape=shape: student.pool2d_multi(torch.randn(shape), 2))
    X = torch.randn(2, 5, 5)
    for call, kwargs in [("mode='min'", {"mode": "min"}), ("padding=2", {"padding": 2})]:
        expect.raises(f"pool2d_multi(X (2, 5, 5), 2, {call})",
                      lambda kwargs=kwargs: student.pool2d_multi(X, 2, **kwargs))
    expect.raises("pool2d_multi(X (1, 2, 2, 2), 3)", lambda: student.pool2d_multi(torch.randn(1, 2, 2, 2), 3))
