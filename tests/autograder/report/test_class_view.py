"""Does the class report show the instructor the class, each item's failures grouped by what went wrong, the
flagged students and the similar solutions, from what is on disk, with every student's text inert?

The gradebook here is written by hand (no grading): gradebook.csv with two extra columns, and results.json
files with the messages a check gives. One student's id, message and flag are HTML.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.pipeline import load_releases
from autograder.report import class_view, similarity
from autograder.report.class_view import message_template
from autograder.report.results import csv_cell
from tests.support import ASSIGNMENTS, build_submission

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('x')</script>"
ITEMS = {"01_corr2d": {"corr2d": 4, "Conv2D": 2, "learn_kernel": 2, "conv2d_strict": 1, "receptive_field": 2},
         "03_pooling": {"pool2d": 4, "pool2d_multi": 2}}
WRITTEN = {"01_corr2d": ["explain_transpose", "explain_flip"], "03_pooling": ["explain_padding_value",
                                                                              "explain_translation"]}
CHECK = "Random shapes agree with the reference"
# student -> assignment -> item -> (points lost, the failed check's message); None: not submitted
CLASS = {
    "alice": {"01_corr2d": {}, "03_pooling": {}},
    "bob": {"01_corr2d": {"corr2d": (1, "corr2d(X 5x7, K 2x3): expected shape (3, 4) got (2, 5)\nreplay: python -m "
                                        "autograder grade bob.ipynb --seed 7")},
            "03_pooling": {"pool2d": (4, "pool2d(tensor float32 (1, 4, 4), 2, mode='avg') raised NotImplementedError"),
                           "pool2d_multi": (2, "pool2d_multi(tensor int64 (2, 3, 3)) raised NotImplementedError")}},
    HOSTILE: {"01_corr2d": {"corr2d": (1, "corr2d(X 9x9, K 4x9): expected shape (6, 1) got (2, 2)"),
                            "Conv2D": (2, f"name {SCRIPT!r} is not defined")},
              "03_pooling": {"pool2d": (4, "pool2d(tensor float64 (2, 6, 5), 3, mode='max') raised "
                                           "NotImplementedError")}},
    "carol": {"01_corr2d": {"receptive_field": (2, "receptive_field([3, 3], strides=[2, 1]) returned 5 (int)")},
              "03_pooling": None},
    "erin": {"01_corr2d": {}, "03_pooling": None},
    "frank": {"01_corr2d": {}, "03_pooling": None},
}
COPIED = '''
def corr2d(X, K):
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("2-D only")
    rows, cols = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    if rows < 1 or cols < 1:
        raise ValueError("the kernel does not fit")
    dtype = torch.promote_types(X.dtype, K.dtype)
    out = torch.empty(rows, cols, dtype=dtype)
    for r in range(rows):
        out[r] = torch.stack([(X[r:r + K.shape[0], c:c + K.shape[1]] * K).sum() for c in range(cols)])
    return out
'''
RENAMED = (COPIED.replace("rows", "height").replace("cols", "width").replace("out", "result")
           .replace("    if height", "\n    # check the sizes\n    if height"))


def results_of(student: str) -> dict:
    tests = []
    for assignment, lost in CLASS[student].items():
        for item, points in ITEMS[assignment].items() if lost is not None else ():
            minus, message = lost.get(item, (0, ""))
            replay = next((line for line in message.split("\n") if line.startswith("replay:")), "")
            tests.append({"name": f"{assignment}/{item}: {CHECK}",
                          "extra_data": {"assignment": assignment, "item": item, "replay": replay},
                          "score": points - minus, "max_score": points, "status": "failed" if minus else "passed",
                          "output": message, "visibility": "visible"})
    return {"score": 0, "max_score": 0, "output": "", "tests": tests, "internal_error": False}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, Path]:
    """(gradebook, submitted): a class's gradebook written by hand, and their notebooks (erin's corr2d is a
    renamed copy of frank's; everyone else's cells are the instructor's)."""
    root = tmp_path_factory.mktemp("class")
    gradebook, submitted = root / "gradebook", root / "submitted"
    items = [f"{a}/{i}" for a, names in ITEMS.items() for i in names]
    written = [f"{a}/{w}" for a, names in WRITTEN.items() for w in names]
    header = ["student", "commit", *items, *written, "automatic", "automatic_max", "manual", "manual_pending",
              "total", "flags", "seeds", "late_penalty"]
    rows = []
    for student, work in {**CLASS, "dave": {}, "=1+1": {}}.items():
        scores = {f"{a}/{i}": (points - work[a].get(i, (0, ""))[0] if work.get(a) is not None else 0)
                  for a, names in ITEMS.items() for i, points in names.items()}
        manual = {key: ("2" if student == "alice" else "") for key in written}
        flags = [f"{a}: no submission" for a in ITEMS if work.get(a) is None]
        flags += [f"01_corr2d: Cell 'corr2d' raised an error when run: {SCRIPT}"] if student == HOSTILE else []
        flags += ["internal error of the autograder while grading dave"] if student == "dave" else []
        automatic = sum(scores.values())
        total = automatic + sum(float(v or 0) for v in manual.values())
        rows.append([student, "abc123", *(f"{scores[k]:g}" for k in items), *manual.values(), f"{automatic:g}", "17",
                     f"{total - automatic:g}", "0" if student == "alice" else "8", f"{total:g}", "; ".join(flags), "",
                     "0"])
        folder = gradebook / student
        folder.mkdir(parents=True)
        if student in CLASS:
            (folder / "results.json").write_text(json.dumps(results_of(student)))
            code = {"erin": RENAMED, "frank": COPIED}.get(student)
            build_submission(submitted / student, "01_corr2d", {"corr2d": code} if code else {})
        elif student == "dave":
            (folder / "results.json").write_text(json.dumps(
                {"tests": [], "internal_error": True, "score": 0, "max_score": 0,
                 "output": "internal error of the autograder while grading dave; nothing was graded: BrokenPipe"}))
    with open(gradebook / "gradebook.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([csv_cell(cell) for cell in row] for row in [header, *rows])
    return gradebook, submitted


@pytest.fixture(scope="module")
def data(graded):
    return class_view.read_class(graded[0], load_releases(ASSIGNMENTS))


@pytest.fixture(scope="module")
def page(graded) -> str:
    gradebook, submitted = graded
    return class_view.write_report(gradebook, submitted).read_text(encoding="utf-8")


# -- message templates -------------------------------------------------------------------------------------

def test_messages_that_differ_only_in_shapes_and_numbers_share_a_template():
    assert message_template("expected shape (3, 4) got (2, 5)") == message_template("expected shape (6, 1) got (2, 2)")
    assert message_template("expected shape (3, 4) got (2, 5)") == "expected shape (#, #) got (#, #)"
    assert message_template("max abs error 1.5e-03 at index (0, -1); 12 of 20 positions") == \
        "max abs error # at index (#, #); # of # positions"
    assert message_template("corr2d(X 5x7, K 2x3) differs") == message_template("corr2d(X 12x8, K 1x1) differs")


def test_tensor_reprs_described_tensors_and_quoted_values_are_placeholders():
    one = "got tensor([[ 7, 13],\n        [25, 31]]), expected tensor([1., 2.], dtype=torch.float64)"
    two = "got tensor([[0.5000]]), expected tensor([[1, 2, (3)]])"
    assert message_template(one) == message_template(two) == "got tensor(…), expected tensor(…)"
    assert message_template("corr2d(tensor float32 (5, 7), tensor float32 (2, 3)) raised NotImplementedError") == \
        message_template("corr2d(tensor int64 (8, 6), tensor int64 (2, 3)) raised NotImplementedError") == \
        "corr2d(tensor …, tensor …) raised NotImplementedError"
    assert message_template("name 'foo' is not defined") == message_template('name "bar_2" is not defined')


def test_what_tells_mistakes_apart_stays_in_the_template():
    assert "torch.int64" in message_template("expected dtype torch.int64, got dtype torch.float32")
    assert message_template("conv2d_strict flips one axis") == "conv2d_strict flips one axis"
    assert message_template("the kernel isn't square, it's (2, 3)") == "the kernel isn't square, it's (#, #)"
    assert message_template("expected (3, 4)") != message_template("expected (3, 4, 5)"), "the rank shows"


# -- the class's figures, from the files -------------------------------------------------------------------

def test_each_item_has_its_maximum_mean_and_pass_rate_over_those_who_submitted(data):
    items = {item.column: item for item in data.items}
    corr2d = items["01_corr2d/corr2d"]
    assert corr2d.maximum == 4 and not corr2d.written
    # alice, bob, the hostile id, carol, erin, frank; dave's grading did not finish and =1+1 submitted nothing
    assert sorted(corr2d.scores) == [3, 3, 4, 4, 4, 4]
    assert corr2d.pass_rate == pytest.approx(4 / 6) and corr2d.mean == pytest.approx(22 / 6)
    pool = items["03_pooling/pool2d"]
    assert sorted(pool.scores) == [0, 0, 4], "only alice, bob and the hostile id submitted 03"
    assert items["03_pooling/explain_translation"].written and items["03_pooling/explain_translation"].maximum == 2


def test_failures_are_grouped_by_check_and_by_template(data):
    corr2d = next(item for item in data.items if item.column == "01_corr2d/corr2d")
    (check, templates), = corr2d.failures.items()
    assert check == CHECK
    (template, cases), = templates.items()
    assert template == "corr2d(X #x#, K #x#): expected shape (#, #) got (#, #)"
    assert sorted(student for student, _ in cases) == [HOSTILE, "bob"]
    assert all("replay:" not in message for _, message in cases), "the replay line is the instructor's, not a message"


def test_extra_columns_are_read_by_name_and_not_taken_for_items(data):
    assert "commit" not in {item.column for item in data.items}
    assert data.students[0].cells["late_penalty"] == "0"
    assert "=1+1" in [student.id for student in data.students], "an id guarded against spreadsheets reads as written"


# -- the page ----------------------------------------------------------------------------------------------

class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parsed(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def similar_section(page: str) -> str:
    return page[page.index('id="similarity"'):page.index('id="students"')]


def test_the_page_holds_the_class_items_failures_flags_errors_and_pairs(page):
    text = " ".join(parsed(page).text)
    for student in ("alice", "bob", "carol", "dave", "=1+1", HOSTILE):
        assert student in text
    assert "01_corr2d/corr2d" in text and "03_pooling/pool2d_multi" in text
    assert "corr2d(X #x#, K #x#): expected shape (#, #) got (#, #)" in text
    assert "pool2d(tensor …, #, mode='…') raised NotImplementedError" in text
    assert "03_pooling: no submission" in text and "BrokenPipe" in text
    assert "mean total" in text and "median total" in text


def test_the_copied_pair_is_listed_and_written_to_similarity_csv(graded, page):
    pairs = similarity.read_csv(graded[0] / class_view.SIMILARITY)
    assert {pairs[0].student_a, pairs[0].student_b} == {"erin", "frank"} and pairs[0].similarity > 0.9
    assert "<td>01_corr2d/corr2d</td><td>erin</td><td>frank</td>" in similar_section(page)


def test_student_text_is_inert_everywhere(page):
    assert "<script" not in page and "<img src=x" not in page and HOSTILE not in page
    tags = parsed(page)
    assert set(tags.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section",
                              "table", "thead", "tbody", "tr", "th", "td", "img", "div", "span", "code", "pre",
                              "details", "summary", "ul", "li"}
    assert not [name for _, name, _ in tags.attributes if name.startswith("on")]
    images = [value for tag, name, value in tags.attributes if tag == "img" and name == "src"]
    assert len(images) == 3, "the totals, and each of the two assignments"
    for source in images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG")
    policy = next(value for tag, name, value in tags.attributes if tag == "meta" and name == "content")
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "http://" not in page and "https://" not in page


def test_without_submissions_the_page_lists_the_similarity_csv_already_there(graded, tmp_path):
    gradebook = tmp_path / "gradebook"
    shutil.copytree(graded[0], gradebook)
    (gradebook / class_view.SIMILARITY).unlink(missing_ok=True)
    page = class_view.write_report(gradebook).read_text(encoding="utf-8")
    assert "code was not compared" in page
    similarity.write_csv([similarity.Pair("01_corr2d", "corr2d", "ann", "ben", 0.95, 0.9, 9, 9),
                          similarity.Pair("01_corr2d", "Conv2D", "cat", "dan", 0.3, 0.2, 1, 1)],
                         gradebook / class_view.SIMILARITY)
    section = similar_section(class_view.write_report(gradebook, threshold=0.5).read_text(encoding="utf-8"))
    assert "<td>ann</td>" in section and "<td>cat</td>" not in section, "only the pairs above the threshold"


# -- in a real browser -------------------------------------------------------------------------------------

def browser() -> tuple[str, str] | None:
    """(a headless browser, its driver, of one version): Debian's chromium and chromium-driver, or the Chrome and
    chromedriver of GitHub's runner image ($CHROMEWEBDRIVER)."""
    webdriver = os.path.join(os.environ.get("CHROMEWEBDRIVER", "/nonexistent"), "chromedriver")
    pairs = [(shutil.which("chromium"), shutil.which("chromedriver")),
             (shutil.which("google-chrome"), webdriver if os.access(webdriver, os.X_OK) else None),
             (shutil.which("chromium-browser"), shutil.which("chromedriver"))]
    return next(((binary, driver) for binary, driver in pairs if binary and driver), None)


def test_the_report_renders_in_a_browser_with_its_text_and_figures(graded, page, tmp_path):
    found = browser()
    if found is None:
        message = "no headless Chromium and chromedriver (.ci/setup installs Debian's chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    profile = tempfile.mkdtemp(dir=tmp_path)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                     "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        driver.get((graded[0] / class_view.REPORT).resolve().as_uri())
        for _ in range(2):      # the whole page in the window: its height, plus what the window's frame takes
            frame = driver.get_window_size()["height"] - driver.execute_script("return window.innerHeight")
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(height + frame, 10_000))
        screenshot = tmp_path / "report.png"
        assert driver.save_screenshot(str(screenshot))
        if os.environ.get("REPORT_SCREENSHOT"):
            shutil.copyfile(screenshot, os.environ["REPORT_SCREENSHOT"])
        text = driver.find_element("tag name", "body").text
        widths = driver.execute_script("return Array.from(document.images, image => image.naturalWidth)")
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text     # noqa: B018 - the hostile id's onerror never ran
    finally:
        driver.quit()
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    for shown in ("alice", "bob", "carol", "erin", "frank", HOSTILE, "01_corr2d/corr2d", "03_pooling/pool2d",
                  "corr2d(X #x#, K #x#): expected shape (#, #) got (#, #)", "Similar solutions"):
        assert shown in text, shown
    assert len(widths) == 3 and all(width > 0 for width in widths), widths
