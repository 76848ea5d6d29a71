"""The class at a glance: ``gradebook/report.html``, one self-contained page for the instructor.

Read from what grading left on disk (``gradebook.csv``, each student's ``results.json``, and the submissions
for the similarity of their code), never from a grading in memory, so it can be written again after ``merge``
or once written answers are graded by hand (``python -m autograder class-report``). The page shows the
class's totals with histograms; per graded item its mean, its pass rate and its most common failures,
grouped by check and by message template; flagged students and internal errors; and the pairs of students
whose code of one item is more alike than a threshold (``report/similarity.py``).

Student ids, messages, flags and code are the students' text: every one goes through ``html.escape``, the
figures are inline PNG data, and the page's own policy allows no script, no request and no external style.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import COURSE
from autograder.notebook import Release
from autograder.report import similarity
from autograder.report.results import csv_text

REPORT = "report.html"
SIMILARITY = "similarity.csv"
FIXED = ("student", "automatic", "automatic_max", "manual", "manual_pending", "total", "flags", "seeds")
TEMPLATES_SHOWN = 3        # message templates per failed check
PAIRS_SHOWN = 100          # pairs above the threshold listed in the page (all of them are in similarity.csv)
EXAMPLE_LINES = 8
EXAMPLE_CHARACTERS = 2000
MESSAGE_CHARACTERS = 2000  # of a message's first line, templated
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

# Message templates: what varies between two students' failures of one check becomes a placeholder.
_REPRS = re.compile(r"\b(?:tensor|array|Parameter)\(")
_DESCRIBED = re.compile(r"\btensor [a-z]+[0-9]* \(")     # an argument as the grader describes it: tensor float32 (5, 7)
_QUOTED = re.compile(r"""(?<![\w'"])(['"])(?:(?!\1)[^\n\\]|\\.){0,200}\1(?![\w'"])""")
_NUMBER = re.compile(r"(?:(?<=\dx)|(?<![\w.]))"       # 5x7 is two numbers; int64, conv2d and x.5 are none
                     r"(?:0x[0-9a-fA-F]+|[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf)(?!(?!x\d)\w)")
_SPACE = re.compile(r"\s+")


# -- message templates -------------------------------------------------------------------------------------

def _close(text: str, start: int) -> int:
    """The index just past the parenthesis that closes the one opened before ``start`` (or the end of text)."""
    depth = 1
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return len(text)


def _collapse(text: str, pattern: re.Pattern, placeholder: str) -> str:
    """Every match of ``pattern`` (which ends with an opening parenthesis) up to its closing one -> placeholder."""
    out, position = [], 0
    while match := pattern.search(text, position):
        out += [text[position:match.start()], placeholder]
        position = _close(text, match.end())
    return "".join(out) + text[position:]


def message_template(message: str) -> str:
    """A failure message with what varies between students' runs of a check made a placeholder: tensor and
    array reprs, described tensors, quoted values and numbers (so shapes, sizes, errors and indices).

    ``"expected shape (3, 4) got (2, 5)"`` and ``"expected shape (6, 1) got (2, 2)"`` both give
    ``"expected shape (#, #) got (#, #)"``.
    """
    text = _collapse(message[:MESSAGE_CHARACTERS], _REPRS, "tensor(…)")
    text = _collapse(text, _DESCRIBED, "tensor …")
    text = _QUOTED.sub("'…'", text)
    text = _NUMBER.sub("#", text)
    return _SPACE.sub(" ", text).strip()[:300]


def failure_message(test: dict) -> str:
    """A failed check's output without the replay line (the instructor's command, the same for every check)."""
    replay = (test.get("extra_data") or {}).get("replay") or ""
    return "\n".join(line for line in str(test.get("output") or "").split("\n") if not replay or line != replay)


def _first_line(message: str) -> str:
    return next((line for line in message.split("\n") if line.strip()), "(no message)")


# -- reading the gradebook ---------------------------------------------------------------------------------

def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass
class Student:
    """One gradebook row, and the student's results.json where there is one."""

    id: str
    cells: dict[str, str]
    results: dict | None = None

    def value(self, column: str) -> float | None:
        return _number(self.cells.get(column, ""))

    @property
    def flags(self) -> list[str]:
        return [flag for flag in self.cells.get("flags", "").split("; ") if flag.strip()]

    def submitted(self, assignment: str) -> bool:
        """Did grading see a notebook of ``assignment``? (results.json's checks; without one, the flags)"""
        if self.results is not None:
            return any((test.get("extra_data") or {}).get("assignment") == assignment
                       for test in self.results.get("tests", []))
        return f"{assignment}: no submission" not in self.flags


@dataclass
class Item:
    """A graded item (or a written answer): its column, its points, and how the class did."""

    assignment: str
    name: str
    maximum: float
    written: bool = False
    scores: list[float] = field(default_factory=list)
    # check -> message template -> (student, message) of each failure
    failures: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)

    @property
    def column(self) -> str:
        return f"{self.assignment}/{self.name}"

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def pass_rate(self) -> float | None:
        """The share of students with every point of the item."""
        if not self.scores or self.maximum <= 0:
            return None
        return sum(score >= self.maximum - 1e-9 for score in self.scores) / len(self.scores)


@dataclass
class Class:
    students: list[Student]
    items: list[Item]
    pairs: list[similarity.Pair] | None = None      # None: no submissions given and no similarity.csv

    @property
    def assignments(self) -> list[str]:
        return list(dict.fromkeys(item.assignment for item in self.items))


def read_gradebook(path: Path) -> list[Student]:
    """The rows of gradebook.csv by column name (extra columns are kept, cells as ``csv_cell`` wrote them undone)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [Student(csv_text(row.get("student") or ""), {key: csv_text(value or "") for key, value in row.items()
                                                              if key is not None})
                for row in csv.DictReader(handle)]


def _read_results(gradebook: Path, student: str) -> dict | None:
    folder = similarity.folder_of(gradebook, student)
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8")) if folder else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _item(column: str, releases: dict[str, Release], students: list[Student]) -> Item:
    """A gradebook column of the form assignment/name: a graded item or a written answer, with its points
    (from the release; for an assignment not released there, from the checks in results.json)."""
    assignment, _, name = column.partition("/")
    release = releases.get(assignment)
    if release:
        points = release.item_points()
        written = {cell.grade_id: cell.points for cell in release.manual}
        return Item(assignment, name, points.get(name, written.get(name, 0.0)), written=name not in points)
    checks = [[test for test in student.results.get("tests", [])
               if (test.get("extra_data") or {}).get("assignment") == assignment
               and (test.get("extra_data") or {}).get("item") == name] for student in students if student.results]
    maximum = max((sum(_number(test.get("max_score")) or 0.0 for test in tests) for tests in checks), default=0.0)
    return Item(assignment, name, maximum, written=not any(checks))


def read_class(gradebook: Path, releases: dict[str, Release]) -> Class:
    """The gradebook's rows and their students' results.json, with each item's statistics and failures."""
    gradebook = Path(gradebook)
    students = read_gradebook(gradebook / "gradebook.csv")
    for student in students:
        student.results = _read_results(gradebook, student.id)
    columns = list(students[0].cells) if students else []
    items = [_item(column, releases, students) for column in columns if column not in FIXED and "/" in column]
    by_column = {item.column: item for item in items}
    for student in students:
        for item in items:
            score = student.value(item.column)
            if score is not None and student.submitted(item.assignment):
                item.scores.append(score)
        for test in (student.results or {}).get("tests", []):
            extra = test.get("extra_data") or {}
            item = by_column.get(f"{extra.get('assignment')}/{extra.get('item')}")
            if item is None or test.get("status") == "passed":
                continue
            check = str(test.get("name", "")).split(": ", 1)[-1]
            message = failure_message(test)
            item.failures.setdefault(check, {}).setdefault(message_template(_first_line(message)), []).append(
                (student.id, message))
    return Class(students, items)


# -- figures -----------------------------------------------------------------------------------------------

def histogram(values: list[float], maximum: float, title: str) -> str:
    """A histogram as a PNG data URL (matplotlib's Agg backend, no file)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.6, 2.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)         # drawn by Agg, without pyplot or its global backend
    axes = figure.subplots()
    top = max(maximum, max(values, default=0.0), 1.0)
    bins = max(5, math.ceil(top)) if top <= 40 else 20       # a bin per point while that stays readable
    axes.hist(values, bins=bins, range=(0, top), color="#4c78a8", edgecolor="white")
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("points")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# -- the page ----------------------------------------------------------------------------------------------

def _e(text) -> str:
    """Any text, student's or not, as inert HTML."""
    return html.escape(str(text), quote=True)


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _table(header: list[str] | None, rows: list[list[str]], classes: str = "") -> str:
    """A table of cells that are already HTML."""
    head = "<thead><tr>" + "".join(f"<th>{cell}</th>" for cell in header) + "</tr></thead>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{classes}">{head}<tbody>{body}</tbody></table>'


def _summary(data: Class) -> str:
    totals = [value for student in data.students if (value := student.value("total")) is not None]
    written = sum(item.maximum for item in data.items if item.written)
    automatic = sum(item.maximum for item in data.items if not item.written)
    figures = [histogram(totals, automatic + written, "total points")]
    if len(data.assignments) > 1:
        for assignment in data.assignments:
            columns = [item for item in data.items if item.assignment == assignment]
            values = [sum(student.value(item.column) or 0.0 for item in columns)
                      for student in data.students if student.submitted(assignment)]
            figures.append(histogram(values, sum(item.maximum for item in columns), assignment))
    rows = [["students", _e(len(data.students))],
            ["mean total", _points(statistics.fmean(totals) if totals else None)],
            ["median total", _points(statistics.median(totals) if totals else None)],
            ["points possible", f"{automatic:.4g} graded automatically + {written:.4g} written answers"]]
    images = "".join(f'<img src="{_e(figure)}" alt="histogram">' for figure in figures)
    return (f'<section id="class"><h2>The class</h2>{_table(None, rows, "summary")}'
            f'<div class="figures">{images}</div></section>')


def _example(student: str, message: str) -> str:
    lines = message.strip("\n").split("\n")
    shown = "\n".join(lines[:EXAMPLE_LINES])[:EXAMPLE_CHARACTERS]
    shown += "\n…" if len(lines) > EXAMPLE_LINES or len(shown) == EXAMPLE_CHARACTERS else ""
    return f'<details><summary>e.g. {_e(student)}</summary><pre>{_e(shown)}</pre></details>'


def _failing(*by_template: dict[str, list[tuple[str, str]]]) -> set[str]:
    """The students among failures grouped by template (of one check, or of several)."""
    return {student for templates in by_template for cases in templates.values() for student, _ in cases}


def _items(data: Class) -> str:
    graded = [item for item in data.items if not item.written]
    rows = [[_e(item.column), _points(item.maximum), _points(item.mean), _share(item.pass_rate),
             _e(len(item.scores)), _e(len(_failing(*item.failures.values())))] for item in graded]
    parts = ['<section id="items"><h2>Graded items</h2><p>Mean and pass rate (every point of the item) over the '
             'students who submitted the assignment.</p>',
             _table(["item", "maximum", "mean", "pass rate", "students", "with a failed check"], rows, "numbers")]
    for item in graded:
        if not item.failures:
            continue
        checks = sorted(item.failures.items(), key=lambda pair: -len(_failing(pair[1])))
        rows = []
        for check, templates in checks:
            ranked = sorted(templates.items(), key=lambda pair: (-len(_failing({"": pair[1]})), pair[0]))
            shown = "".join(f'<div class="template"><span class="count">{len(_failing({"": cases}))}×</span> '
                            f"<code>{_e(template)}</code>{_example(*cases[0])}</div>"
                            for template, cases in ranked[:TEMPLATES_SHOWN])
            if len(ranked) > TEMPLATES_SHOWN:
                shown += f'<div class="more">{len(ranked) - TEMPLATES_SHOWN} more message templates</div>'
            rows.append([_e(check), _e(len(_failing(templates))), shown])
        parts.append(f'<h3 id="{_e("item-" + item.column)}">{_e(item.column)}</h3>')
        parts.append(_table(["check", "students failing", "most common messages (students, template, example)"],
                            rows, "failures"))
    return "".join(parts) + "</section>"


def _flags(data: Class) -> str:
    flagged = [[_e(s.id), "<ul>" + "".join(f"<li>{_e(flag)}</li>" for flag in s.flags) + "</ul>"]
               for s in data.students if s.flags]
    errors = [[_e(s.id), f"<pre>{_e(chr(10).join(str(s.results.get('output', '')).split(chr(10))[:6]))}</pre>"]
              for s in data.students if s.results and s.results.get("internal_error")]
    missing = [_e(s.id) for s in data.students if s.results is None]
    parts = ['<section id="flags"><h2>Flagged students</h2>']
    parts.append(_table(["student", "flags"], flagged, "flags") if flagged else "<p>No student is flagged.</p>")
    parts.append("<h3>Internal errors</h3><p>The grader could not finish these gradings; their scores are not "
                 "final.</p>" + _table(["student", "what results.json says"], errors) if errors
                 else "<h3>Internal errors</h3><p>None.</p>")
    if missing:
        parts.append("<p>No readable results.json for: " + ", ".join(f"<code>{m}</code>" for m in missing) + "</p>")
    return "".join(parts) + "</section>"


def _similar(data: Class, threshold: float) -> str:
    parts = ['<section id="similarity"><h2>Similar solutions</h2>']
    if data.pairs is None:
        parts.append("<p>No submissions were given (<code>--submitted</code>) and there is no similarity.csv: "
                     "code was not compared.</p>")
        return "".join(parts) + "</section>"
    above = [pair for pair in data.pairs if similarity.stands_out(pair, threshold)]
    parts.append(f"<p>Pairs of students whose code of one solution cell shares at least {threshold:.0%} of what "
                 "either wrote beyond the release's template and the idioms many classmates share (copydetect's "
                 f"fingerprints, names and layout ignored), over {similarity.MIN_SHARED_LINES} lines or more: "
                 f"{len(above)}. A lead to read both notebooks, not a "
                 f"verdict. Every pair above {similarity.LISTED:.0%} is in similarity.csv.</p>")
    rows = [[_e(f"{pair.assignment}/{pair.item}"), _e(pair.student_a), _e(pair.student_b), _share(pair.similarity),
             f"{_share(pair.similarity_a)} / {_share(pair.similarity_b)}",
             f"{pair.shared_lines_a} / {pair.shared_lines_b}"] for pair in above[:PAIRS_SHOWN]]
    if rows:
        parts.append(_table(["item", "student a", "student b", "similarity", "of a's / of b's code",
                             "shared lines (a / b)"], rows, "pairs"))
    if len(above) > PAIRS_SHOWN:
        parts.append(f"<p>{len(above) - PAIRS_SHOWN} more pairs in similarity.csv.</p>")
    return "".join(parts) + "</section>"


def _students(data: Class) -> str:
    rows = [[_e(s.id), *(_points(s.value(column)) for column in ("automatic", "manual", "manual_pending", "total")),
             _e(len(s.flags))] for s in data.students]
    return ('<section id="students"><h2>Students</h2>'
            + _table(["student", "automatic", "manual", "pending", "total", "flags"], rows, "numbers") + "</section>")


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #ddd; padding: .25em .6em;
vertical-align: top; text-align: left; } th { background: #f3f3f3; }
table.numbers td:not(:first-child), table.pairs td:nth-child(n+4) { text-align: right; }
code, pre { font: 12px/1.35 ui-monospace, monospace; overflow-wrap: anywhere; white-space: pre-wrap; }
pre { background: #f7f7f7; padding: .4em; margin: .2em 0; max-width: 60em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } .figures img { border: 1px solid #eee; }
.template { margin-bottom: .4em; } .count { font-weight: bold; } .more { color: #666; }
table.failures td:first-child { max-width: 18em; } ul { margin: 0; padding-left: 1.2em; }
"""


def render(data: Class, threshold: float, source: str = "") -> str:
    """The page: every piece of text in it escaped."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_e(POLICY)}">'
            f"<title>Class report</title><style>{STYLE}</style></head><body>"
            f"<h1>Class report</h1><p>{_e(source)}</p>"
            + _summary(data) + _items(data) + _flags(data) + _similar(data, threshold) + _students(data)
            + "</body></html>\n")


def write_report(gradebook: Path, submitted: Path | None = None, release_dir: Path = COURSE.assignments,
                 threshold: float = similarity.DEFAULT_THRESHOLD) -> Path:
    """Write ``gradebook/report.html`` from gradebook.csv and the students' results.json; with ``submitted``
    (nbgrader's ``submitted/<student>/<assignment>/``), compare the students' code and write
    ``gradebook/similarity.csv`` first, else list the pairs of an existing similarity.csv. Returns the page's path.
    """
    from autograder.pipeline import load_releases

    gradebook = Path(gradebook)
    releases = load_releases(release_dir)
    data = read_class(gradebook, releases)
    if submitted is not None:
        notebooks = similarity.class_notebooks(Path(submitted), [s.id for s in data.students], releases)
        data.pairs = similarity.find_pairs(notebooks, releases)
        similarity.write_csv(data.pairs, gradebook / SIMILARITY)
    elif (gradebook / SIMILARITY).is_file():
        data.pairs = similarity.read_csv(gradebook / SIMILARITY)
    path = gradebook / REPORT
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(data, threshold, f"{len(data.students)} students, from {gradebook}"), encoding="utf-8")
    tmp.replace(path)
    return path
