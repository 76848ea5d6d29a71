"""Does the terminal report fit a terminal, say each thing once, and leave results.json whole?"""

from __future__ import annotations

import copy

import pytest

from autograder.model import Entry, NotebookResult
from autograder.report import results as report
from autograder.report import terminal

HINT = "'helper' is defined only in the 4th cell from the top (`def helper(X):`, a cell you added)"
REPLAY = "replay: python -m autograder grade sub/01_corr2d.ipynb --seed 42"
LONG = ("corr2d(tensor float32 (5, 7), tensor float32 (2, 3)): values differ from the reference at 20 of 35 "
        "positions; max abs error 4.43 at index (0, 1), which is where a kernel flipped on one axis first differs "
        "from the cross-correlation the text asks for")


def data(entries: list[Entry]) -> dict:
    notebook = NotebookResult("sub/01_corr2d.ipynb", "01_corr2d", isolation="namespaces; rlimits")
    notebook.entries = entries
    return report.results_json([notebook])


def not_attempted(item: str, titles: list[str]) -> list[Entry]:
    return [Entry("01_corr2d", item, title, 0.0, 0.5, f"{item}(X (3, 3)) raised NotImplementedError\n"
                                                      f"  <{item}>, line 15, in {item}\n{REPLAY}") for title in titles]


def mixed() -> list[Entry]:
    return [Entry("01_corr2d", "corr2d", "public checks (notebook)", 1.0, 1.0),
            Entry("01_corr2d", "corr2d", "Random float32 shapes agree with the reference " * 3, 0.0, 0.5,
                  f"{LONG}\n{REPLAY}"),
            Entry("01_corr2d", "learn_kernel", "Ten steps of gradient descent", 0.0, 0.5,
                  f"learn_kernel(X) raised NameError: name 'helper' is not defined\n{HINT}\n{REPLAY}"),
            Entry("01_corr2d", "learn_kernel", "The edge kernel is recovered", 0.0, 0.5,
                  f"learn_kernel(X, steps=200) raised NameError: name 'helper' is not defined\n{HINT}\n{REPLAY}"),
            *not_attempted("Conv2D", ["public checks (notebook)", "shapes", "forward"])]


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_no_line_is_wider_than_the_terminal_and_each_check_title_is_one_line(width):
    text = terminal.table(data(mixed()), width)
    assert max(map(len, text.splitlines())) <= width
    assert sum("Random float32 shapes" in line for line in text.splitlines()) == 1
    assert "max abs error 4.43" in " ".join(text.split()), "a long message is wrapped, not cut"


def test_the_width_is_columns_and_100_when_unknown(monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    assert terminal.width_of_terminal() == 72
    monkeypatch.delenv("COLUMNS")
    assert terminal.width_of_terminal() == 100     # pytest's output is no terminal


def test_an_item_not_attempted_is_one_line_with_its_points():
    lines = terminal.table(data(mixed()), 100).splitlines()
    conv = [line for line in lines if "Conv2D" in line]
    assert conv == ["01_corr2d/Conv2D  0/1.5  not attempted: every check raised NotImplementedError"]
    assert not any("NotImplementedError" in line for line in lines if line not in conv)


def test_a_hint_is_shown_once_per_item_and_replay_lines_not_at_all():
    text = terminal.table(data(mixed()), 100)
    assert " ".join(text.split()).count("'helper' is defined only in the 4th cell") == 1
    assert text.count("name 'helper' is not defined") == 2, "each check's own first line stays"
    assert "replay:" not in text


def test_results_json_keeps_every_message_whole():
    graded = data(mixed())
    before = copy.deepcopy(graded)
    terminal.table(graded, 60)
    assert graded == before
    assert [t["output"].count(REPLAY) for t in graded["tests"] if t["status"] == "failed"] == [1] * 6
    assert sum(HINT in t["output"] for t in graded["tests"]) == 2


def test_a_message_longer_than_the_report_keeps_says_where_the_rest_is():
    many = "\n".join(f"line {number} of a long report" for number in range(100))
    text = terminal.table(data([Entry("01_corr2d", "corr2d", "long", 0.0, 1.0, many)]), 100)
    assert "line 39 of a long report" in text and "line 40 of" not in text
    assert "60 more lines in results.json" in text
