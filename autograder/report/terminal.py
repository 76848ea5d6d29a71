"""The report ``python -m autograder grade`` prints: one block per item, wrapped to the terminal's width.

results.json keeps every message whole; this view is for reading in a terminal:

- the width is ``COLUMNS`` (or the terminal's), 100 when neither is known;
- each item has a line with its points; each of its checks has one line below (its title cut to fit), and a
  failed check's message is wrapped and indented under it;
- an item not attempted at all (every check raised ``NotImplementedError``) is one line;
- a line repeated within an item (a hint, a traceback's last frame) is shown the first time only;
- the per-check ``replay:`` lines are left out: they all name the one seed, which the notes below give.
"""

from __future__ import annotations

import shutil
import textwrap

from autograder.report.results import STATUS_MARK

DEFAULT_WIDTH = 100
NARROWEST = 60
MESSAGE_LINES = 40        # of one check's message, wrapped; results.json has the rest
NOT_ATTEMPTED = "raised NotImplementedError"


def width_of_terminal() -> int:
    """``COLUMNS`` if set, else the terminal's width, else 100 (output to a file or a pipe)."""
    return max(NARROWEST, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def table(data: dict, width: int | None = None) -> str:
    """The report of a results.json's ``data``, at most ``width`` columns wide."""
    width = max(NARROWEST, width or width_of_terminal())
    groups: dict[str, list[dict]] = {}
    for test in data["tests"]:
        groups.setdefault(_item_id(test), []).append(test)
    out: list[str] = []
    for item_id, tests in groups.items():
        out.extend(_item(item_id, tests, width))
    out.append("-" * min(width, 40))
    out.append(f"total {data['score']:g}/{data['max_score']:g}")
    if data["output"]:
        out.append("")
        for line in data["output"].splitlines():
            indent = " " * (len(line) - len(line.lstrip()))
            out += _wrap(line.strip(), width, indent, indent + "    ")
    return "\n".join(out)


def _item_id(test: dict) -> str:
    extra = test.get("extra_data") or {}
    if extra.get("item"):
        return f"{extra['assignment']}/{extra['item']}"
    return test["name"].split(": ", 1)[0]


def _item(item_id: str, tests: list[dict], width: int) -> list[str]:
    score = sum(test["score"] for test in tests)
    possible = sum(test["max_score"] for test in tests)
    failed = [test for test in tests if test["status"] != "passed"]
    head = f"{item_id}  {score:g}/{possible:g}"
    if failed and len(failed) == len(tests) and all(NOT_ATTEMPTED in _first_line(test) for test in tests):
        return [_cut(f"{head}  not attempted: every check raised NotImplementedError", width)]
    lines = [_cut(f"{head}  {'all checks pass' if not failed else f'{len(failed)} of {len(tests)} checks failed'}",
                  width)]
    shown: set[str] = set()
    for test in tests:
        title = test["name"].split(": ", 1)[1] if ": " in test["name"] else test["name"]
        mark = STATUS_MARK.get(test["status"], test["status"])
        lines.append(_cut(f"  {mark:<4} {test['score']:g}/{test['max_score']:g}  {title}", width))
        if test["status"] == "passed" or not test["output"]:
            continue
        message: list[str] = []
        for number, line in enumerate(test["output"].splitlines()):
            if line.startswith("replay: ") or not line.strip():
                continue
            if number and line in shown:        # said already for this item
                continue
            shown.add(line)
            indent = " " * (len(line) - len(line.lstrip()))
            message += _wrap(line.strip(), width, "         " + indent, "           " + indent)
        if len(message) > MESSAGE_LINES:
            message = message[:MESSAGE_LINES] + [f"         ... ({len(message) - MESSAGE_LINES} more lines in "
                                                 "results.json)"]
        lines += message
    return lines


def _first_line(test: dict) -> str:
    return next(iter(test["output"].splitlines()), "")


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[:width - 3] + "..."


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` wrapped to ``width``; a word longer than a line (a path, a long call) is broken."""
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first]
