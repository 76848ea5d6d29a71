"""Is a student's text inert wherever we render it as Markdown: feedback.md, the commit comment, job summaries?

Each writer is fed a hostile results.json; the Markdown it writes is rendered by a real CommonMark parser,
with raw HTML on, as GitHub renders it outside code.
"""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from markdown_it import MarkdownIt

from autograder.model import Entry, NotebookResult
from autograder.report import markdown
from autograder.report import results as report
from autograder.report.gradebook import StudentRow, github_class
from autograder.verbs.collect import Collected
from autograder.verbs.publish import comment

HOSTILE = "\n".join([
    "ValueError: no",
    "```",
    "### Autograder: 11/11 points, every hidden check passed",
    "[log in](https://evil.example/login) ![x](https://evil.example/t.png)",
    "<details><summary>click</summary>hidden</details>",
    '<a href="https://evil.example/login">log in</a> <img src="https://evil.example/t.png">',
    "ask &#64;instructor, \uff20instructor or @instructor",
    "````",
    "# Full marks",
    "replay: ```",
])
STUDENT = "eve](https://evil.example) <img src=x> &#64;instructor"


def render(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def headings(text: str) -> list[str]:
    """The heading elements of the rendered text, as "h2: their text"."""
    return [f"{tag}: {inner}" for tag, inner in re.findall(r"<(h[1-6])>(.*?)</h[1-6]>", render(text))]


def assert_inert(text: str) -> None:
    rendered = render(text)
    for tag in ("<a", "<img", "<details", "<summary"):
        assert tag not in rendered, f"{tag} in:\n{rendered}"
    pinged = re.search(r"@[^\W\d_]", unicodedata.normalize("NFKC", html.unescape(text)))
    assert pinged is None, f"a mention: {text[pinged.start() - 20:pinged.end() + 20]!r}"


@pytest.fixture
def hostile() -> dict:
    """results.json of a student whose exception message and notes are out to fake a grade."""
    result = NotebookResult("submitted/eve/01_corr2d/01_corr2d.ipynb", "01_corr2d", notes=[HOSTILE],
                            entries=[Entry("01_corr2d", "corr2d", "public checks", 1.0, 1.0),
                                     Entry("01_corr2d", "corr2d", "hidden cases", 0.0, 3.0, HOSTILE)])
    return report.results_json([result])


def test_feedback_md_shows_a_hostile_message_as_code(hostile):
    text = report.feedback_markdown(STUDENT, hostile)
    assert_inert(text)
    assert [heading.split(":")[0] for heading in headings(text)] == ["h1", "h2", "h3", "h2"]
    assert "11/11" not in " ".join(headings(text))
    assert "### Autograder: 11/11 points" in text          # still shown to the student, as code


def test_the_commit_comment_shows_a_hostile_message_as_code(hostile):
    entry = Collected(STUDENT, "o/r", "0123456789abcdef", "", ["01_corr2d"])
    text = comment(entry, hostile, report.feedback_markdown(STUDENT, hostile, for_student=True))
    assert_inert(text)
    assert headings(text)[0] == "h3: Autograder: 1/4 points for 0123456"
    assert [heading.split(":")[0] for heading in headings(text)] == ["h3", "h2", "h3", "h2"]
    assert "11/11" not in " ".join(headings(text)[1:])
    # Only the grader's own replay line is left out (by its field): text of the student's that looks like one stays,
    # as code.
    assert "replay: ```" in text and "### Autograder: 11/11 points" in text


def test_the_job_summary_shows_a_hostile_message_as_code(hostile, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    hostile["tests"][0]["name"] = "01_corr2d/corr2d: [x](https://evil.example) | <b>"
    report.github(hostile)
    assert_inert(summary.read_text())
    assert headings(summary.read_text()) == ["h2: Autograder"]
    assert render(summary.read_text()).count("<tr>") == 3                 # the header and two checks


def test_the_class_summary_keeps_student_ids_and_flags_in_their_cells(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    rows = [StudentRow(STUDENT, flags=[HOSTILE, "a | b"]), StudentRow("\uff20instructor\n# Full marks")]
    github_class(rows, 4.0)
    assert_inert(summary.read_text())
    assert headings(summary.read_text()) == ["h2: Gradebook"]
    cells = re.findall(r"<tr>\s*<td>(.*?)</td>", render(summary.read_text()), re.S)
    assert len(cells) == 2 and "Full marks" in cells[1]
    flags = re.findall(r"<td>([^<]*)</td>\s*</tr>", render(summary.read_text()))
    assert "a | b" in flags[0] and "Full marks" in flags[0]


@pytest.mark.parametrize("text", ["```", "a\n````\nb", "``` `````` ``", "\uff40\uff40\uff40 fullwidth backticks"])
def test_a_fence_holds_any_run_of_backticks(text):
    shown = unicodedata.normalize("NFKC", text)
    assert render(markdown.fence(text)) == f"<pre><code>{html.escape(shown, quote=False)}\n</code></pre>\n"


@pytest.mark.parametrize("spelling", ["@bob", "&#64;bob", "&amp;#64;bob", "&commat;bob", "\uff20bob", "\ufe6bbob"])
def test_every_spelling_of_a_mention_is_broken(spelling):
    assert markdown.normalise(f"ask {spelling}") == "ask @\u2060bob"


def test_an_at_sign_before_no_name_stays():
    assert markdown.normalise("A @ B, mail@") == "A @ B, mail@"


@pytest.mark.parametrize("text", ["# heading", "- item", "1. item", "> quote", "    code", "---", "<details>",
                                  "[x](https://e.example) ![y](https://e.example/t.png)", "*em* _em_ `code` ~~del~~",
                                  "a | b", "<a href='x'>y</a> &amp; \\*", "two\nlines\r\nthree"])
def test_inline_text_renders_as_itself_on_one_line(text):
    shown = " ".join(html.unescape(text).split())
    assert render(markdown.inline(text)) == f"<p>{html.escape(shown, quote=False).replace(chr(34), '&quot;')}</p>\n"
