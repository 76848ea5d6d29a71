"""Does the similarity of students' code find a renamed, reformatted copy, and leave independent answers alone?

The class below answers 01's ``corr2d`` eight ways that the notebook allows (a double loop, the textbook's
loop, einsum over unfolded windows, a strided view and tensordot, a sum over kernel offsets, gathered
indices, a matrix product of flattened windows), and one student hands in a classmate's matrix product with
every name changed, comments and blank lines of their own and another layout. Their other cells are the
instructor's, as most of a class's short answers look alike. Nothing is graded: only the source is read.
"""

from __future__ import annotations

import csv

import pytest
import torch

from autograder.notebook import read_release
from autograder.pipeline import load_releases
from autograder.report import similarity
from tests.support import ASSIGNMENTS, build_submission

INDEPENDENT = {
    "loops": '''
def corr2d(X, K):
    """Valid cross-correlation, one output element at a time."""
    if X.ndim != 2 or K.ndim != 2:
        raise ValueError("X and K must both be matrices")
    kh, kw = K.shape
    H, W = X.shape
    if kh > H or kw > W:
        raise ValueError(f"kernel {tuple(K.shape)} does not fit in {tuple(X.shape)}")
    Y = torch.zeros(H - kh + 1, W - kw + 1, dtype=torch.promote_types(X.dtype, K.dtype), device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
    return Y
''',
    "book": '''
def corr2d(X, K):  #@save
    """Compute 2D cross-correlation."""
    h, w = K.shape
    if X.dim() != 2 or K.dim() != 2 or h > X.shape[0] or w > X.shape[1]:
        raise ValueError("bad shapes")
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.promote_types(X.dtype, K.dtype))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''',
    "einsum": '''
def corr2d(X, K):
    # windows of X, shaped like K, then one einsum over the kernel axes
    if len(X.shape) != 2 or len(K.shape) != 2:
        raise ValueError(f"expected 2-D tensors, got {X.shape} and {K.shape}")
    if any(k > x for k, x in zip(K.shape, X.shape)):
        raise ValueError("the kernel is larger than the input")
    out_dtype = torch.promote_types(X.dtype, K.dtype)
    patches = X.to(out_dtype).unfold(0, K.shape[0], 1).unfold(1, K.shape[1], 1)   # (H', W', h, w)
    return torch.einsum("ijab,ab->ij", patches, K.to(out_dtype))
''',
    "strided": '''
import torch


def corr2d(X, K):
    """Cross-correlation through a strided view of X (no copy) and tensordot."""
    if X.dim() != 2:
        raise ValueError("X must be 2-D")
    if K.dim() != 2:
        raise ValueError("K must be 2-D")
    rows = X.size(0) - K.size(0) + 1
    cols = X.size(1) - K.size(1) + 1
    if rows <= 0 or cols <= 0:
        raise ValueError("K is larger than X")
    common = torch.promote_types(X.dtype, K.dtype)
    Xc = X.to(common).contiguous()
    s0, s1 = Xc.stride()
    view = torch.as_strided(Xc, (rows, cols, K.size(0), K.size(1)), (s0, s1, s0, s1))
    return torch.tensordot(view, K.to(common), dims=2)
''',
    "offsets": '''
def corr2d(X, K):
    if not (X.dim() == K.dim() == 2):
        raise ValueError("corr2d takes two matrices")
    p, q = K.shape
    m, n = X.shape[0] - p + 1, X.shape[1] - q + 1
    if min(m, n) < 1:
        raise ValueError("kernel bigger than image")
    kind = torch.promote_types(X.dtype, K.dtype)
    terms = [X[a:a + m, b:b + n].to(kind) * K[a, b].to(kind) for a in range(p) for b in range(q)]
    return torch.stack(terms).sum(dim=0)
''',
    "gather": '''
def corr2d(X, K):
    # Build the index of every window element, gather once, then weigh by K.
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("need matrices")
    h, w = K.shape
    out_rows, out_cols = X.shape[0] - h + 1, X.shape[1] - w + 1
    if out_rows < 1 or out_cols < 1:
        raise ValueError("kernel does not fit")
    r = torch.arange(out_rows).view(-1, 1, 1, 1) + torch.arange(h).view(1, 1, -1, 1)
    c = torch.arange(out_cols).view(1, -1, 1, 1) + torch.arange(w).view(1, 1, 1, -1)
    windows = X[r, c]                                       # (out_rows, out_cols, h, w)
    dtype = torch.promote_types(X.dtype, K.dtype)
    return (windows.to(dtype) * K.to(dtype)).sum(dim=(-2, -1))
''',
    "matmul": '''
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation of an input with a kernel.

    Inputs:
    - X: input, shape (H, W).
    - K: kernel, shape (h, w), with h <= H and w <= W.

    Returns:
    - Y: shape (H - h + 1, W - w + 1), with Y[i, j] = sum over a, b of X[i + a, j + b] * K[a, b].
      Its dtype is torch.promote_types(X.dtype, K.dtype) and it lives on X's device.

    Raises ValueError if X or K is not 2-D, or if K is larger than X along either axis.
    """
    # im2col: every window as a row, then one matrix-vector product with the flattened kernel
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("X and K have to be 2-D")
    kernel_h, kernel_w = K.shape
    height, width = X.shape
    if kernel_h > height or kernel_w > width:
        raise ValueError("kernel larger than input")
    dtype = torch.promote_types(X.dtype, K.dtype)
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    columns = []
    for i in range(out_h):
        for j in range(out_w):
            columns.append(X[i:i + kernel_h, j:j + kernel_w].reshape(-1))
    patches = torch.stack(columns).to(dtype)              # (out_h * out_w, kh * kw)
    return (patches @ K.reshape(-1).to(dtype)).reshape(out_h, out_w)
''',
}
# matmul's answer, every name changed, its comments and blank lines replaced, laid out again
RENAMED_COPY = '''
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation of an input with a kernel.

    Inputs:
    - X: input, shape (H, W).
    - K: kernel, shape (h, w), with h <= H and w <= W.

    Returns:
    - Y: shape (H - h + 1, W - w + 1), with Y[i, j] = sum over a, b of X[i + a, j + b] * K[a, b].
      Its dtype is torch.promote_types(X.dtype, K.dtype) and it lives on X's device.

    Raises ValueError if X or K is not 2-D, or if K is larger than X along either axis.
    """
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError('both inputs must be two-dimensional')
    kh, kw = K.shape
    H, W = X.shape

    if kh > H or kw > W:
        raise ValueError('the kernel must fit inside the input')

    result_type = torch.promote_types(X.dtype, K.dtype)
    rows_out, cols_out = H - kh + 1, W - kw + 1

    # collect the flattened windows
    flat_windows = []
    for r in range(rows_out):
        for c in range(cols_out):
            flat_windows.append(
                X[r : r + kh, c : c + kw].reshape(-1)
            )
    matrix = torch.stack(flat_windows).to(result_type)

    # one product with the kernel as a vector
    return (matrix @ K.reshape(-1).to(result_type)).reshape(
        rows_out, cols_out
    )
'''
# strided's core under other names, behind checks of the copier's own
PARTIAL_COPY = '''
import torch

def corr2d(A, B):
    # own checks, then the classmate's strided view
    if A.dim() != 2 or B.dim() != 2 or B.size(0) > A.size(0) or B.size(1) > A.size(1):
        raise ValueError("shapes do not work")
    n_r = A.size(0) - B.size(0) + 1
    n_c = A.size(1) - B.size(1) + 1
    t = torch.promote_types(A.dtype, B.dtype)
    Ac = A.to(t).contiguous()
    a, b = Ac.stride()
    v = torch.as_strided(Ac, (n_r, n_c, B.size(0), B.size(1)), (a, b, a, b))
    return torch.tensordot(v, B.to(t), dims=2)
'''
ASSIGNMENT = "01_corr2d"


@pytest.fixture(scope="module")
def releases():
    return load_releases(ASSIGNMENTS)


def class_of(root, answers: dict[str, str | None]) -> dict[str, dict]:
    """Notebooks of students whose corr2d is ``answers[student]`` (None: the blank release), the rest solved."""
    notebooks = {}
    for student, code in answers.items():
        path = build_submission(root / student, ASSIGNMENT, {"corr2d": code} if code else {}, solved=code is not None)
        notebooks[student] = {ASSIGNMENT: path}
    return notebooks


def corr2d_pairs(pairs):
    return [pair for pair in pairs if (pair.assignment, pair.item) == (ASSIGNMENT, "corr2d")]


def test_every_answer_of_the_corpus_is_a_correct_corr2d():
    generator = torch.Generator().manual_seed(0)
    X, K = torch.randn(6, 7, generator=generator, dtype=torch.float64), torch.randn(2, 3, generator=generator,
                                                                                    dtype=torch.float64)
    expected = torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]
    for name, code in {**INDEPENDENT, "copy": RENAMED_COPY, "partial": PARTIAL_COPY}.items():
        space = {"torch": torch}
        exec(code, space)  # noqa: S102 - the test's own code
        assert torch.allclose(space["corr2d"](X, K), expected), name
        assert space["corr2d"](X.long(), K.long()).dtype == torch.int64, name


def test_a_renamed_copy_ranks_first_and_no_independent_pair_crosses_the_threshold(tmp_path, releases):
    notebooks = class_of(tmp_path, {**INDEPENDENT, "copier": RENAMED_COPY})
    pairs = corr2d_pairs(similarity.find_pairs(notebooks, releases, listed=0.0))
    first, *others = pairs
    assert {first.student_a, first.student_b} == {"copier", "matmul"}
    assert first.similarity == pytest.approx(1.0) and first.similarity_a == pytest.approx(1.0)
    assert first.shared_lines_a >= 10
    independent = max(pair.similarity for pair in others)
    assert independent < similarity.DEFAULT_THRESHOLD - 0.15, f"closest independent pair: {independent:.2f}"
    assert {"copier", "matmul"} not in [{pair.student_a, pair.student_b} for pair in others]


def test_a_copy_behind_checks_of_its_own_still_crosses_the_threshold(tmp_path, releases):
    notebooks = class_of(tmp_path, {**INDEPENDENT, "copier": PARTIAL_COPY})
    first = corr2d_pairs(similarity.find_pairs(notebooks, releases))[0]
    assert {first.student_a, first.student_b} == {"copier", "strided"}
    assert first.similarity >= similarity.DEFAULT_THRESHOLD + 0.1


def test_the_instructors_code_that_most_of_the_class_shares_pairs_nobody(tmp_path, releases):
    pairs = similarity.find_pairs(class_of(tmp_path, {**INDEPENDENT, "copier": RENAMED_COPY}), releases)
    assert {pair.item for pair in pairs} == {"corr2d"}, "the other cells are the instructor's in every notebook"


def test_blank_notebooks_do_not_pair_up(tmp_path, releases):
    notebooks = class_of(tmp_path, {"ann": None, "ben": None, "cat": None, "dan": INDEPENDENT["loops"]})
    assert similarity.find_pairs(notebooks, releases, listed=0.0) == []


def test_the_template_does_not_count_between_two_answers_that_keep_it():
    stub = next(cell["source"] for cell in read_release(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").cells
                if cell["grade_id"] == "corr2d")
    kept = {"ann": stub.replace("raise NotImplementedError()", "return torch.zeros(1)"),
            "ben": stub.replace("raise NotImplementedError()", "return X.sum() * K.mean()")}
    assert similarity.compare_cell(ASSIGNMENT, "corr2d", kept, stub, listed=0.0) == []
    assert similarity.compare_cell(ASSIGNMENT, "corr2d", kept, "", listed=0.0)[0].similarity > 0.9


def test_names_comments_and_layout_do_not_change_the_figure():
    original = INDEPENDENT["gather"]
    disguised = original.replace("out_rows", "n_rows").replace("windows", "patches").replace("# Build", "# Make")
    disguised = disguised.replace("    ", "\t").replace(", ", ",")
    pair, = similarity.compare_cell(ASSIGNMENT, "corr2d", {"a": original, "b": disguised}, listed=0.0)
    assert pair.similarity == 1.0


def test_cells_that_do_not_parse_or_are_huge_are_still_compared_as_text():
    broken = "def corr2d(X, K):\n    return [X for in K]\n" * 3
    huge = "x = 1\n" * 100_000
    pairs = similarity.compare_cell(ASSIGNMENT, "corr2d", {"a": broken, "b": broken, "c": huge, "d": huge + "y"})
    assert {(pair.student_a, pair.student_b) for pair in pairs} == {("a", "b"), ("c", "d")}


def test_nothing_of_the_students_code_runs(tmp_path, releases):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\n\ndef corr2d(X, K):\n    return open({str(marker)!r})\n"
    similarity.find_pairs(class_of(tmp_path / "class", {"ann": code, "ben": code}), releases)
    assert not marker.exists()


def test_the_csv_ranks_pairs_and_keeps_hostile_ids_as_written(tmp_path):
    pairs = [similarity.Pair(ASSIGNMENT, "corr2d", "=HYPERLINK(\"x\")", "a,b\n\"c\"", 0.9, 1.0, 12, 10),
             similarity.Pair(ASSIGNMENT, "Conv2D", "ann", "<img src=x onerror=alert(1)>", 0.7, 0.5, 3, 4)]
    path = similarity.write_csv(pairs, tmp_path / "similarity.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == similarity.COLUMNS
    assert rows[0]["student_a"].startswith("'="), "no spreadsheet runs a student's id as a formula"
    assert [row["similarity"] for row in rows] == ["1.0000", "0.7000"]
    assert similarity.read_csv(path) == pairs


def test_a_fingerprint_of_many_students_is_the_class_idiom():
    assert similarity.common_count(8) == similarity.COMMON_MIN
    assert similarity.common_count(300) == 30
    same = INDEPENDENT["offsets"]
    answers = {f"s{n}": same for n in range(similarity.COMMON_MIN)}
    assert similarity.compare_cell(ASSIGNMENT, "corr2d", answers, listed=0.0) == []
    answers.popitem()
    assert len(similarity.compare_cell(ASSIGNMENT, "corr2d", answers)) == 3    # three copies: every pair of them


def test_an_id_that_is_not_a_plain_folder_name_reads_no_notebook(tmp_path, releases):
    build_submission(tmp_path / "submitted" / "ann", ASSIGNMENT)
    build_submission(tmp_path / "elsewhere", ASSIGNMENT)
    ids = ["ann", "..", "../elsewhere", "ann/../..", ""]
    assert list(similarity.class_notebooks(tmp_path / "submitted", ids, releases)) == ["ann"]


def test_a_short_cell_written_alike_by_two_students_is_not_listed():
    """Two independent conv2d_strict of three lines (a check, its raise, a return: term.py's ann and cat) share
    all three; a copied cell of five lines is still listed."""
    ann = 'def conv2d_strict(X, K):\n    if K.ndim != 2:\n        raise ValueError("the kernel must be 2-D")\n' \
          "    return corr2d(X, K.flip(0).flip(1))\n"
    cat = 'def conv2d_strict(X, K):\n    if K.dim() != 2:\n        raise ValueError("K must have two dimensions")\n' \
          "    return corr2d(X, torch.rot90(K, 2, dims=(0, 1)))\n"
    (short,) = similarity.compare_cell("01_corr2d", "conv2d_strict", {"ann": ann, "cat": cat})
    assert short.similarity >= similarity.DEFAULT_THRESHOLD and not similarity.stands_out(short)
    gus = 'def conv2d_strict(X, K):\n    if K.dim() != 2:\n        raise ValueError("K must be 2-D")\n' \
          "    K_flipped = torch.flip(K, (0, 1))\n    result = corr2d(X, K_flipped)\n    return result\n"
    hal = gus.replace("K_flipped", "flippedK").replace("result", "res")
    (copied,) = similarity.compare_cell("01_corr2d", "conv2d_strict", {"gus": gus, "hal": hal})
    assert similarity.stands_out(copied) and copied.similarity == 1.0
