"""Does grading give each submission the score it earned, and say why?"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from autograder.grading.declarations import Assignment
from autograder.grading.rules import ItemRule
from autograder.judge import plugin as judge
from autograder.model import CallRecord, LoadReport, Route
from autograder.notebook import read_release
from autograder.pipeline import grade_notebook, score
from autograder.report.results import results_json
from tests.support import ASSIGNMENT_IDS, ASSIGNMENTS, SAMPLES, SOLUTIONS, build_submission, read_sample


def item_scores(entries) -> dict[str, tuple[float, float]]:
    """(score, max) per item ("" for the whole notebook's entries)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for entry in entries:
        item = entry.item
        totals[item][0] += entry.score
        totals[item][1] += entry.max_score
    return {item: (round(s, 6), round(m, 6)) for item, (s, m) in totals.items()}


def judgement(cases, calls=(), declared=True) -> judge.Judgement:
    declaration = Assignment("01_corr2d", ["corr2d", "Conv2D", "learn_kernel", "conv2d_strict", "receptive_field"],
                             rules={"learn_kernel": ItemRule(allow=frozenset({"autograd"}))})
    return judge.Judgement(cases, tuple(calls), LoadReport(), "namespaces", declaration if declared else None)


def case(item, passed=True, public=False, weight=1.0, title=None):
    return judge.CaseResult(item, title or ("public checks (notebook)" if public else f"case of {item}"), public,
                            weight, passed, "" if passed else "it went wrong")


def all_cases(**failing):
    return [case(item, passed=not failing.get(item), public=public)
            for item in ("corr2d", "Conv2D", "learn_kernel", "conv2d_strict", "receptive_field")
            for public in (True, False)]


def scores(entries) -> dict[str, float]:
    return {item: s for item, (s, _) in item_scores(entries).items()}


def test_public_checks_weigh_a_quarter_and_hidden_cases_split_the_rest_by_weight(release_01):
    cases = all_cases() + [case("corr2d", weight=2, title="heavy")]
    entries, _ = score(release_01, judgement(cases))
    corr2d = {e.name.split(": ")[1]: e.max_score for e in entries if e.name.startswith("01_corr2d/corr2d:")}
    points = release_01.item_points()["corr2d"]
    assert corr2d["public checks (notebook)"] == pytest.approx(points / 4)
    assert corr2d["heavy"] == pytest.approx(2 * corr2d["case of corr2d"])
    assert sum(corr2d.values()) == pytest.approx(points)


def test_public_points_count_only_with_a_hidden_check_passed(release_01):
    cases = [c for c in all_cases(corr2d=True) if not (c.item == "corr2d" and c.public)]
    cases.append(case("corr2d", public=True))
    entries, _ = score(release_01, judgement(cases))
    assert scores(entries)["corr2d"] == 0
    public = next(e for e in entries if e.name == "01_corr2d/corr2d: public checks (notebook)")
    assert "no hidden check does" in public.output


def test_a_forbidden_route_zeroes_the_item_whose_call_took_it_and_no_other(release_01):
    calls = [CallRecord("conv2d_strict", "conv2d_strict(...)", routes=(Route("aten.convolution.default", "corr2d"),)),
             CallRecord("corr2d", "corr2d(...)")]
    entries, _ = score(release_01, judgement(all_cases(), calls))
    got = scores(entries)
    assert got["conv2d_strict"] == 0 and got["corr2d"] > 0
    rule = next(e for e in entries if e.name == "01_corr2d/conv2d_strict: from-scratch rule")
    assert "aten.convolution.default in cell corr2d" in rule.output and rule.status == "failed"


def test_an_items_declared_exception_is_honoured(release_01):
    calls = [CallRecord("learn_kernel", "learn_kernel(...)", routes=(Route("Tensor.backward", "learn_kernel"),)),
             CallRecord("corr2d", "corr2d(...)", routes=(Route("Tensor.backward", "corr2d"),))]
    got = scores(score(release_01, judgement(all_cases(), calls))[0])
    assert got["learn_kernel"] > 0 and got["corr2d"] == 0


def test_the_static_scan_zeroes_its_cell_and_tampering_the_whole_notebook(release_01):
    static = [Route("F.conv2d", "receptive_field", "source", 3, "convolution")]
    got = scores(score(release_01, judgement(all_cases()), static)[0])
    assert got["receptive_field"] == 0 and got["corr2d"] > 0
    tampering = [Route("import gc", "corr2d", "source", 1, "indirection")]
    entries, _ = score(release_01, judgement(all_cases()), [], tampering)
    assert sum(e.score for e in entries) == 0
    assert "import gc, line 1 in the source of cell corr2d" in entries[-1].output


def test_without_the_declaration_run_time_routes_are_reported_not_scored(release_01):
    calls = [CallRecord("learn_kernel", "learn_kernel(...)", routes=(Route("Tensor.backward", "learn_kernel"),))]
    entries, notes = score(release_01, judgement(all_cases(), calls, declared=False))
    assert scores(entries)["learn_kernel"] > 0
    assert any("01_corr2d/learn_kernel took Tensor.backward" in note for note in notes)


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """Each assignment's instructor notebook (with its hidden blocks), graded once."""
    cache = {}

    def grade(assignment):
        if assignment not in cache:
            release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
            cache[assignment] = grade_notebook(SOLUTIONS / assignment / f"{assignment}.ipynb", release)
        return cache[assignment]
    return grade


@pytest.fixture(scope="module")
def solved_01(solved):
    return solved("01_corr2d")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_a_correct_submission_scores_full_marks(solved, assignment):
    result = solved(assignment)
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    assert result.max_score == pytest.approx(sum(release.item_points().values()))
    failed = [(e.name, e.output) for e in result.entries if e.status != "passed"]
    assert not failed
    assert result.score == pytest.approx(result.max_score)
    assert not any("edited" in note for note in result.notes), result.notes
    assert result.isolation, "the isolation in force is reported"


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_blank_release_scores_zero_without_crashing(assignment):
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    result = grade_notebook(release.path, release)
    assert result.max_score == pytest.approx(sum(release.item_points().values()))
    assert result.score == 0
    assert all("NotImplementedError" in e.output for e in result.entries if e.max_score), \
        [e.output for e in result.entries]


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_every_item_has_public_and_hidden_cases_and_public_weighs_a_quarter(solved, assignment):
    result = solved(assignment)
    release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
    for item, points in release.item_points().items():
        mine = [e for e in result.entries if e.name.startswith(f"{assignment}/{item}:")]
        public = [e for e in mine if "public checks" in e.name]
        assert len(public) == 1 and len(mine) >= 2, item
        assert public[0].max_score <= points / 4 + 1e-9, item


SAMPLE_FILES = sorted(SAMPLES.glob("*/*.py"))
# 04's speed checks were tuned (tests/benchmarks/speed_verdicts.py) with torch on every core. Graded two at a
# time, each job on one thread, its Python loop over N once passed the check: graded one at a time here.
SPEED_CHECKED = {"04_backprop"}


@pytest.fixture(scope="module")
def graded_samples(tmp_path_factory):
    """Every sample of every assignment handed in by a student of its own and graded as a class, two at a
    time (grade-all --jobs 2) but for the speed-checked ones: sample path -> its results.json entries."""
    from types import SimpleNamespace

    from autograder.verbs.grade_all import grade_class

    root = tmp_path_factory.mktemp("samples")
    students = {sample: f"{sample.parent.name}--{sample.stem}" for sample in SAMPLE_FILES
                if sample.parent.name not in SPEED_CHECKED}
    for sample, student in students.items():
        build_submission(root / "submitted" / student, sample.parent.name, read_sample(sample)[0])
    grade_class(root / "submitted", ASSIGNMENTS, root / "gradebook", jobs=2, progress=False)
    graded = {sample: [SimpleNamespace(**test, **test["extra_data"]) for test in
                       json.loads((root / "gradebook" / student / "results.json").read_text())["tests"]]
              for sample, student in students.items()}
    for sample in SAMPLE_FILES:          # one at a time, in this process, as `grade` does
        if sample.parent.name in SPEED_CHECKED:
            assignment = sample.parent.name
            release = read_release(ASSIGNMENTS / assignment / f"{assignment}.ipynb")
            notebook = build_submission(root / "alone" / sample.stem, assignment, read_sample(sample)[0])
            graded[sample] = grade_notebook(notebook, release).entries
    return graded


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in SAMPLE_FILES])
def test_a_sample_loses_exactly_the_items_it_gets_wrong(sample, graded_samples):
    _, loses, mistake = read_sample(sample)
    entries = graded_samples[sample]
    assert entries, "the sample was graded"
    for item, (got, maximum) in item_scores(entries).items():
        if item in loses:
            assert got < maximum, f"{mistake}: {item} kept all its points"
        else:
            assert got == maximum, f"{mistake}: {item} lost points it earned"
    reasons = [e.output for e in entries if e.status == "failed"]
    assert all(reasons), "every failed check says why"
    assert bool(reasons) == bool(loses)


def test_a_forbidden_route_is_named_in_the_feedback(graded_samples):
    entries = graded_samples[SAMPLES / "01_corr2d" / "corr2d_cheats_through_getattr.py"]
    rule = [e for e in entries if e.name == "01_corr2d/corr2d: from-scratch rule"]
    assert rule and "aten.convolution" in rule[0].output and "cell corr2d" in rule[0].output
    assert item_scores(entries)["corr2d"][0] == 0


def test_hidden_feedback_shows_shapes_but_not_expected_values(graded_samples):
    entries = graded_samples[SAMPLES / "01_corr2d" / "receptive_field_ignores_strides.py"]
    hidden = [e for e in entries if e.name.startswith("01_corr2d/receptive_field: Stacks")][0]
    assert hidden.status == "failed"
    assert "receptive_field([" in hidden.output        # what was called
    assert "not the right answer" in hidden.output      # that it was wrong, in words
    assert "returned 5 (int)" in hidden.output          # what came back, and no expected value
    assert "def " not in hidden.output and "ref_" not in hidden.output  # no case source


def test_results_are_json_in_the_gradescope_schema(solved_01):
    data = json.loads(json.dumps(results_json([solved_01])))
    assert set(data) >= {"score", "max_score", "tests", "output"}
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "extra_data"}
        assert test["name"].startswith("01_corr2d/")
        assert test["status"] in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-3)
    assert [m["name"] for m in data["manual"]] == ["01_corr2d/explain_transpose: written answer",
                                                   "01_corr2d/explain_flip: written answer"]
