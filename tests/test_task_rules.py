"""Every rule a task or a docstring states is checked: a version that breaks only that rule fails the case that
checks it, and the instructor's solution passes it.

Each version is the solution cell with one change, graded in a worker (where calls are counted, as when grading),
with the hidden cases of its own item only. Slow (workers): marked in conftest.py.
"""

from __future__ import annotations

import functools

import pytest

from autograder.judge import plugin as judge
from autograder.notebook import Cell, read_release
from autograder.student.sandboxed import Student
from tests.support import ASSIGNMENTS
from tests.support import solution_code as read_solutions


@functools.cache
def _solutions(assignment: str) -> dict[str, str]:
    """The solution cells of ``assignment``, read once for every version built from them."""
    return read_solutions(assignment)


def solution_code(assignment: str) -> dict[str, str]:
    return dict(_solutions(assignment))


def changed(assignment: str, grade_id: str, old: str, new: str) -> str:
    source = solution_code(assignment)[grade_id]
    assert source.count(old) == 1, f"{assignment}/{grade_id}: the text to change is not there once: {old!r}"
    return source.replace(old, new)


def appended(assignment: str, grade_id: str, name: str, wrapper: str) -> str:
    """The solution, renamed ``_name``, under a ``wrapper`` that calls it."""
    return changed(assignment, grade_id, f"def {name}(", f"def _{name}(") + "\n\n" + wrapper


# (assignment, item, the rule's case: words of its title, the item's cell as broken)
BROKEN = {
    "rel_error computed in float32": (
        "04_backprop", "rel_error", "float32 is computed in float64",
        changed("04_backprop", "rel_error",
                "a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)",
                "a, b = torch.as_tensor(a), torch.as_tensor(b)")),
    "conv_backward's gradients always float64": (
        "04_backprop", "conv_backward", "float32 stays float32",
        changed("04_backprop", "conv_backward", "    return dx, dw, db\n",
                "    return dx.double(), dw.double(), db.double()\n")),
    "maxpool_backward's gradient always float64": (
        "04_backprop", "maxpool_backward", "float32 stays float32",
        changed("04_backprop", "maxpool_backward", "    return dx\n", "    return dx.double()\n")),
    "feature_maps with gradients": (
        "05_lenet", "feature_maps", "without gradients",
        changed("05_lenet", "feature_maps", "with torch.no_grad():", "if True:")),
    "evaluate_accuracy indexing data_iter": (
        "05_lenet", "evaluate_accuracy", "a DataLoader serves",
        changed("05_lenet", "evaluate_accuracy", "            for X, y in data_iter:\n",
                "            for index in range(len(data_iter)):\n                X, y = data_iter[index]\n")),
    "layer_shapes with float32 zeros": (
        "05_lenet", "layer_shapes", "in the dtype",
        changed("05_lenet", "layer_shapes",
                "dtype = next((weights.dtype for weights in net.parameters()), torch.float32)",
                "dtype = torch.float32")),
    "1x1 convolution looping over output channels": (
        "02_padding_stride_channels", "corr2d_multi_in_out_1x1", "no loop",
        appended("02_padding_stride_channels", "corr2d_multi_in_out_1x1", "corr2d_multi_in_out_1x1",
                 "def corr2d_multi_in_out_1x1(X, K):\n"
                 "    return torch.cat([_corr2d_multi_in_out_1x1(X, K[o:o + 1]) for o in range(K.shape[0])])\n")),
    "1x1 convolution looping over rows": (
        "02_padding_stride_channels", "corr2d_multi_in_out_1x1", "no loop",
        appended("02_padding_stride_channels", "corr2d_multi_in_out_1x1", "corr2d_multi_in_out_1x1",
                 "def corr2d_multi_in_out_1x1(X, K):\n"
                 "    return torch.cat([_corr2d_multi_in_out_1x1(X[:, i:i + 1], K) for i in range(X.shape[1])], 1)\n")),
    "pool2d looping over output positions": (
        "03_pooling", "pool2d", "no Python loop over the output positions",
        changed("03_pooling", "pool2d",
                "    windows = X_padded.unfold(0, k_h, s_h).unfold(1, k_w, s_w).flatten(2)",
                "    H_out, W_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1\n"
                "    windows = torch.stack([torch.stack([X_padded[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]\n"
                "                                        .flatten() for j in range(W_out)]) for i in range(H_out)])")),
    "conv2d_dilated looping over the batch": (
        "06_conv_variants", "conv2d_dilated", "no Python loop over N",
        appended("06_conv_variants", "conv2d_dilated", "conv2d_dilated",
                 "def conv2d_dilated(x, w, dilation=1, stride=1, padding=0):\n"
                 "    return torch.cat([_conv2d_dilated(x[n:n + 1], w, dilation, stride, padding)\n"
                 "                      for n in range(x.shape[0])])\n")),
    "corr2d_separable forming col @ row": (
        "06_conv_variants", "corr2d_separable", "grows with h + w",
        "def corr2d_separable(X, col, row):\n"
        "    dtype = torch.promote_types(torch.promote_types(X.dtype, col.dtype), row.dtype)\n"
        "    K = col.to(dtype) @ row.to(dtype)\n"
        "    (h, w), (H, W) = K.shape, X.shape\n"
        "    X = X.to(dtype)\n"
        "    return sum(K[a, b] * X[a:a + H - h + 1, b:b + W - w + 1] for a in range(h) for b in range(w))\n"),
}


def graded(assignment: str, item: str, overrides: dict[str, str]) -> dict[str, tuple[bool, str]]:
    """title -> (passed, message) of the item's hidden cases, the notebook's cells as solved (some replaced)."""
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    code = {**solution_code(assignment), **overrides}
    cells = [Cell("setup", release.setup_source, trusted=True)] + [Cell(grade_id, code[grade_id])
                                                                  for grade_id in release.solution_ids]
    with Student(cells) as student:
        results = judge.run_cases(release, student, items={item}, public=False)
    return {result.title: (result.passed, result.output) for result in results}


def the_case(results: dict, words: str) -> tuple[bool, str]:
    matching = [title for title in results if words.lower() in title.lower()]
    assert len(matching) == 1, f"one case's title should hold {words!r}: {list(results)}"
    return results[matching[0]]


@pytest.mark.parametrize("version", BROKEN)
def test_a_version_that_breaks_a_stated_rule_fails_the_case_that_checks_it(version):
    assignment, item, words, source = BROKEN[version]
    results = graded(assignment, item, {item: source})
    passed, message = the_case(results, words)
    assert not passed, f"{version}: the case '{words}' passed"
    others = [title for title, (ok, _) in results.items() if not ok and words.lower() not in title.lower()]
    print(f"{version}: {message}\n  (other failing cases: {others})")


# Correct versions the rule's check must not take for a broken one: (assignment, item, words of the case, cell).
UNUSUAL = {
    "1x1 convolution by einsum": (
        "02_padding_stride_channels", "corr2d_multi_in_out_1x1", "no loop",
        "def corr2d_multi_in_out_1x1(X, K):\n"
        "    dtype = torch.promote_types(X.dtype, K.dtype)\n"
        "    return torch.einsum('oc,chw->ohw', K[:, :, 0, 0].to(dtype), X.to(dtype))\n"),
    "pool2d by a loop over the window's offsets (the notebook's first route)": (
        "03_pooling", "pool2d", "no Python loop over the output positions",
        "def pool2d(X, pool_size, mode='max', padding=0, stride=None):\n"
        "    import torch.nn.functional as F\n"
        "    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)\n"
        "    (k_h, k_w), (p_h, p_w) = pair(pool_size), pair(padding)\n"
        "    s_h, s_w = pair(pool_size if stride is None else stride)\n"
        "    Xp = F.pad(X, (p_w, p_w, p_h, p_h), value=float('-inf') if mode == 'max' else 0.0)\n"
        "    H_out, W_out = (Xp.shape[0] - k_h) // s_h + 1, (Xp.shape[1] - k_w) // s_w + 1\n"
        "    out = None\n"
        "    for a in range(k_h):\n"
        "        for b in range(k_w):\n"
        "            part = Xp[a:a + s_h * (H_out - 1) + 1:s_h, b:b + s_w * (W_out - 1) + 1:s_w]\n"
        "            out = part if out is None else torch.maximum(out, part) if mode == 'max' else out + part\n"
        "    return out if mode == 'max' else out / (k_h * k_w)\n"),
    "conv2d_dilated by Tensor.unfold and every d-th tap": (
        "06_conv_variants", "conv2d_dilated", "no Python loop over N",
        "def conv2d_dilated(x, w, dilation=1, stride=1, padding=0):\n"
        "    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)\n"
        "    (d_h, d_w), (s_h, s_w), (p_h, p_w) = pair(dilation), pair(stride), pair(padding)\n"
        "    k_h, k_w = w.shape[2:]\n"
        "    dtype = torch.promote_types(x.dtype, w.dtype)\n"
        "    padded = F.pad(x.to(dtype), (p_w, p_w, p_h, p_h))\n"
        "    windows = padded.unfold(2, d_h * (k_h - 1) + 1, s_h).unfold(3, d_w * (k_w - 1) + 1, s_w)\n"
        "    return torch.einsum('nchwij,fcij->nfhw', windows[..., ::d_h, ::d_w], w.to(dtype))\n"),
    "corr2d_separable by Tensor.unfold, one pass per axis": (
        "06_conv_variants", "corr2d_separable", "grows with h + w",
        "def corr2d_separable(X, col, row):\n"
        "    dtype = torch.promote_types(torch.promote_types(X.dtype, col.dtype), row.dtype)\n"
        "    X, col, row = X.to(dtype), col.to(dtype), row.to(dtype)\n"
        "    down = (X.unfold(0, col.shape[0], 1) * col[:, 0]).sum(-1)         # (H', W)\n"
        "    return (down.unfold(1, row.shape[1], 1) * row[0]).sum(-1)         # (H', W')\n"),
}


@pytest.mark.parametrize("version", UNUSUAL)
def test_a_correct_unusual_version_passes_the_case_of_the_rule(version):
    assignment, item, words, source = UNUSUAL[version]
    passed, message = the_case(graded(assignment, item, {item: source}), words)
    assert passed, f"{version}: {message}"


RULE_CASES = sorted({(assignment, item, words) for assignment, item, words, _ in BROKEN.values()})


@pytest.mark.parametrize("assignment, item, words", RULE_CASES)
def test_the_solution_passes_every_rule_case(assignment, item, words):
    passed, message = the_case(graded(assignment, item, {}), words)
    assert passed, message
