"""Student text made inert for Markdown: it shows as written, and never becomes a link, image, tag or mention.

Every Markdown writer (feedback.md, the commit comment, GitHub's job summaries) puts student text in a
:func:`fence` when it may span lines, or through :func:`inline` when it must sit in a heading or table cell.
"""

from __future__ import annotations

import html
import re
import unicodedata

MENTION = re.compile(r"@(?=[\w-])")          # "@name" pings on GitHub; "@" + word joiner + "name" does not
BACKTICKS = re.compile(r"`+")
SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~:])")   # ':' too: GitHub links a bare https://...


def quiet(text: str) -> str:
    """``text`` with every '@' before a name broken by a word joiner (NFKC first: '＠' and '﹫' are '@')."""
    return MENTION.sub("@\u2060", unicodedata.normalize("NFKC", text))


def normalise(text: str) -> str:
    """Student text as it would read once rendered: HTML entities decoded (``&#64;`` is '@'), then quieted."""
    while (decoded := html.unescape(text)) != text:
        text = decoded
    return quiet(text)


def fence(text: str) -> str:
    """A fenced code block that ``text`` cannot close: its fence is longer than any run of backticks in it."""
    text = normalise(text)
    ticks = "`" * max(3, 1 + max((len(run) for run in BACKTICKS.findall(text)), default=0))
    return f"{ticks}\n{text}\n{ticks}"


def inline(text: str) -> str:
    """``text`` on one line with Markdown's and HTML's special characters escaped: plain text in a heading or cell."""
    return SPECIAL.sub(r"\\\1", " ".join(normalise(text).split()))
