"""Which students' solution cells look alike: MOSS-style fingerprints, per graded item, from the source text alone.

For each solution cell of each assignment, every student's code is normalised (``ast.unparse`` where it
parses: comments, docstrings, blank lines, line breaks and redundant parentheses go) and fingerprinted with
`copydetect <https://github.com/blingenf/copydetect>`_, which also replaces every name by a placeholder and
drops whitespace, so renaming and reformatting change nothing. What is not the student's own does not count:

- the release's own code of that cell (its signature, docstring and stub): its lines are taken out, and its
  fingerprints are dropped as copydetect's *boilerplate*; a blank notebook has nothing left to compare;
- code that many students share (MOSS's ``-m``): a fingerprint found in at least :func:`common_count`
  students' cells is the course's idiom (``h, w = K.shape``, the lecture's loop), not one classmate's.

A pair's similarity in one direction is the share of a student's remaining code that is found in the other's;
the CSV holds both directions and ranks by the larger (``similarity``). Nothing here runs student code.
"""

from __future__ import annotations

import ast
import bisect
import csv
import io
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from copydetect import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage

from autograder.notebook import NotebookError, Release, read_submission
from autograder.report.results import csv_cell, csv_text

NOISE = 25                  # copydetect's noise threshold: a shared run shorter than 25 normalised characters is noise
WINDOW = 1                  # copydetect's default (its guarantee threshold is its noise threshold): every k-gram is
#                             kept. A wider window would pick fingerprints by Python's hash(), salted per process,
#                             and the figures would change from run to run; a cell is small enough to keep them all.
DEFAULT_THRESHOLD = 0.6     # tests/autograder/report/test_similarity.py: a renamed, reformatted copy scores 1.00, a
#                             copy behind checks of its own 0.80, eight independent answers at most 0.38 (a loop
#                             beside the textbook's loop): room for a larger class's closer independent pairs
LISTED = 0.2                # pairs below this share go unlisted in similarity.csv
MIN_SHARED_LINES = 4        # a shared passage of three lines or fewer (a check, its raise, a return) is how anyone
#                             writes a short cell: term.py's cast had independent 3-line conv2d_strict at 0.61-0.75
COMMON_SHARE = 0.1          # a fingerprint in a tenth of the class, and at least COMMON_MIN students, is an idiom
COMMON_MIN = 4              # (in a small class, a ring of three copies still shows)
MAX_SOURCE = 20_000         # characters of a cell that are compared (the course's longest answer has 2,781): a huge
#                             cell costs no more than this
COLUMNS = ["assignment", "item", "student_a", "student_b", "similarity", "similarity_a", "similarity_b",
           "shared_lines_a", "shared_lines_b"]


@dataclass(frozen=True)
class Pair:
    """Two students' code of one solution cell (``item``, its grade_id) and how much of it they share."""

    assignment: str
    item: str
    student_a: str
    student_b: str
    similarity_a: float     # share of a's own code (beyond the release's and the class's) found in b's
    similarity_b: float
    shared_lines_a: int     # lines of a's normalised code in a shared passage
    shared_lines_b: int

    @property
    def similarity(self) -> float:
        """The larger direction: a short answer copied whole into a longer one still shows."""
        return max(self.similarity_a, self.similarity_b)


def normalise(source: str) -> str:
    """The code as ``ast.unparse`` writes it, docstrings left out (no comments, one layout); the text itself where
    it does not parse. (copydetect reads any string as one token: a docstring counts for nothing but its place.)"""
    source = source[:MAX_SOURCE]
    try:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and \
                    isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                    isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        return ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source


def own_lines(code: str, template: str) -> str:
    """``code`` without the lines that the template holds (both normalised): its signature, its stub, what it
    gives. Fingerprints that straddle a template line and a student's would otherwise pair two short answers."""
    given = {line.strip() for line in template.split("\n")}
    return "\n".join(line for line in code.split("\n") if line.strip() not in given)


def common_count(students: int) -> int:
    """How many students' cells a fingerprint must be in to count as the class's idiom rather than a copy."""
    return max(COMMON_MIN, math.ceil(COMMON_SHARE * students))


def _fingerprint(name: str, code: str) -> CodeFingerprint:
    return CodeFingerprint(name, NOISE, WINDOW, fp=io.StringIO(code), language="python")


def _without(fingerprint: CodeFingerprint, ignored: set[int]) -> CodeFingerprint:
    """The fingerprint with ``ignored`` hashes removed (copydetect's own boilerplate removal assumes each hash
    occurs once in a file, and a stub's line written twice then stays)."""
    fingerprint.hashes = fingerprint.hashes - ignored
    fingerprint.hash_idx = {h: where for h, where in fingerprint.hash_idx.items() if h not in ignored}
    fingerprint.token_coverage = get_token_coverage(fingerprint.hash_idx, NOISE, len(fingerprint.filtered_code))
    return fingerprint


def _lines(code: str, slices) -> int:
    """How many lines of ``code`` a shared passage (``slices``: starts, ends) touches."""
    starts = [0, *itertools.accumulate(len(line) + 1 for line in code.split("\n"))]
    touched = set()
    for begin, end in zip(*slices):
        touched.update(range(bisect.bisect_right(starts, begin) - 1, bisect.bisect_left(starts, end)))
    return len(touched)


def compare_cell(assignment: str, item: str, sources: dict[str, str], template: str = "",
                 listed: float = LISTED) -> list[Pair]:
    """Every pair of students (``sources``: student -> their code of one cell) that share at least ``listed``
    of their own code, most similar first. ``template`` is the release's code of that cell."""
    stub = normalise(template)
    codes = {student: code for student, source in sorted(sources.items())
             if (code := own_lines(normalise(source), stub)).strip()}
    prints = {student: _fingerprint(student, code) for student, code in codes.items()}
    held = Counter(h for fingerprint in prints.values() for h in fingerprint.hashes)
    ignored = _fingerprint("release", stub).hashes if stub else set()
    ignored |= {h for h, count in held.items() if count >= common_count(len(codes))}
    prints = {student: fp for student, fp in prints.items() if _without(fp, ignored).token_coverage}
    pairs = []
    for a, b in itertools.combinations(prints, 2):
        overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        if overlap and max(share_a, share_b) >= listed:
            pairs.append(Pair(assignment, item, a, b, round(float(share_a), 4), round(float(share_b), 4),
                              _lines(codes[a], slices_a), _lines(codes[b], slices_b)))
    return sorted(pairs, key=lambda pair: (-pair.similarity, pair.student_a, pair.student_b))


def folder_of(root: Path, student: str) -> Path | None:
    """``root/<student>``, or None where the id (the student's own text) is not a plain folder name."""
    if not student or student in (".", "..") or any(mark in student for mark in "/\\\0"):
        return None
    return Path(root) / student


def class_notebooks(submitted: Path, students: list[str], releases: dict[str, Release]) -> dict[str, dict[str, Path]]:
    """student -> assignment -> their notebook in nbgrader's ``submitted/<student>/<assignment>/``, found as grading
    finds them (``pipeline.find_notebooks``). An id that is not a plain folder name, or a folder with no notebook
    of the course, is left out."""
    from autograder.pipeline import UsageError, find_notebooks

    notebooks = {}
    for student in students:
        if (folder := folder_of(submitted, student)) is None:
            continue
        try:
            found = find_notebooks(folder, releases)
        except (UsageError, OSError):
            continue
        notebooks[student] = {assignment: path for path, assignment in found if path.is_file()}
    return notebooks


def solution_sources(notebooks: dict[str, dict[str, Path]], releases: dict[str, Release]
                     ) -> dict[tuple[str, str], dict[str, str]]:
    """(assignment, grade_id) -> student -> the source of that solution cell, as the grader takes it
    (``notebook.read_submission``: matched to the release by grade_id, then cell id).

    ``notebooks`` is student -> assignment -> their notebook; one that cannot be read is left out.
    """
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for student, theirs in notebooks.items():
        for assignment, path in theirs.items():
            try:
                submission = read_submission(path, releases[assignment])
            except (NotebookError, OSError):
                continue
            for cell in submission.cells:
                if not cell.trusted:
                    cells.setdefault((assignment, cell.name), {})[student] = cell.source
    return cells


def stands_out(pair: Pair, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether the report lists ``pair``: alike at ``threshold`` or more, over a passage long enough to mean
    something (:data:`MIN_SHARED_LINES` lines of each student's code)."""
    return pair.similarity >= threshold and min(pair.shared_lines_a, pair.shared_lines_b) >= MIN_SHARED_LINES


def find_pairs(notebooks: dict[str, dict[str, Path]], releases: dict[str, Release],
               listed: float = LISTED) -> list[Pair]:
    """Every listed pair of every solution cell of every assignment, most similar first."""
    sources = solution_sources(notebooks, releases)
    pairs = []
    for assignment, release in releases.items():
        for spec in release.cells:
            if spec["kind"] == "solution" and (assignment, spec["grade_id"]) in sources:
                pairs += compare_cell(assignment, spec["grade_id"], sources[assignment, spec["grade_id"]],
                                      spec["source"], listed)
    return sorted(pairs, key=lambda pair: -pair.similarity)      # stable: within a tie, course order


def write_csv(pairs: list[Pair], path: Path) -> Path:
    """similarity.csv: a pair per line, most similar first (student ids guarded against spreadsheet formulas)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for pair in pairs:
            writer.writerow([csv_cell(pair.assignment), csv_cell(pair.item), csv_cell(pair.student_a),
                             csv_cell(pair.student_b), f"{pair.similarity:.4f}", f"{pair.similarity_a:.4f}",
                             f"{pair.similarity_b:.4f}", pair.shared_lines_a, pair.shared_lines_b])
    tmp.replace(path)
    return path


def read_csv(path: Path) -> list[Pair]:
    """The pairs of a similarity.csv, in its order."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [Pair(csv_text(row["assignment"]), csv_text(row["item"]), csv_text(row["student_a"]),
                     csv_text(row["student_b"]), float(row["similarity_a"]), float(row["similarity_b"]),
                     int(row["shared_lines_a"]), int(row["shared_lines_b"]))
                for row in csv.DictReader(handle)]
