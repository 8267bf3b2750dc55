"""The plain-text mode's metadata: the title (a heading-shaped line before the article,
preferring one that the page's first line, usually the HTML ``<title>``, contains), the authors of
a byline, and the date of a date line near the article start (``text_mode`` calls them once the
lines are decided; each marks the lines it takes with their reason code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from service.models import Metadata
from service.pipeline import clutter_patterns as cp
from service.pipeline.text_features import Line, is_prose, lower_tokens

# Title candidates: heading-shaped lines of this many words.
TITLE_MIN_WORDS: Final = 1
TITLE_MAX_WORDS: Final = 30
# Without the page title's confirmation, a single word before the article is more often a section
# name ("Wirtschaft") than a title.
FALLBACK_TITLE_MIN_WORDS: Final = 2
# How far before the article (in lines) the title and byline are looked for.
TITLE_LOOKBACK: Final = 25
BYLINE_WINDOW: Final = 12
# The share of a candidate's tokens found in the first line (the page <title>) to call them equal.
TITLE_OVERLAP: Final = 0.8
# A byline's name on its own line after "Published by" is at most this many words.
NAME_MAX_WORDS: Final = 5

_SITE_SUFFIX: Final = re.compile(r"\s+[|–—\-:·•»]\s+[^|–—\-:·•»]{1,60}$")


def _heading_shaped(line: Line) -> bool:
    return (
        TITLE_MIN_WORDS <= line.words <= TITLE_MAX_WORDS
        and line.label is None
        and not line.truncated
        and not line.text.endswith((".", ",", ";", ":"))
        and not line.bullet
    )


def find_title(lines: Sequence[Line], start: int, metadata: Metadata) -> None:
    """The title: a heading-shaped line before the article, preferring one the first line contains."""
    first = lines[0]
    first_tokens = set(lower_tokens(first.text))
    lo = max(1, start - TITLE_LOOKBACK)
    # When the classifier kept the article's heading (its first kept line, heading-shaped and not
    # prose), that heading is still a title candidate, but only with the first line's confirmation.
    head = lines[start] if start < len(lines) else None
    kept_head = head is not None and head.keep and _heading_shaped(head) and not is_prose(head)
    top = start + 1 if kept_head and start > 0 else start
    chosen: Line | None = None
    for line in reversed(lines[lo:top]):
        tokens = lower_tokens(line.text)
        if _heading_shaped(line) and tokens:
            overlap = sum(t in first_tokens for t in tokens) / len(tokens)
            if overlap >= TITLE_OVERLAP and len(tokens) >= min(len(first_tokens), 2):
                chosen = line
                break
    if chosen is None and _heading_shaped(first) and not first.keep:
        chosen = first
    if chosen is None:
        # The nearest heading-shaped line before the article, skipping bylines, dates and shares.
        for line in reversed(lines[lo:start]):
            if line.label is not None:
                continue
            if _heading_shaped(line) and line.words >= FALLBACK_TITLE_MIN_WORDS:
                chosen = line
            break
    # No title anywhere else (the first line is clutter, not a page title): the article's kept
    # heading is the best there is. (Also taking a kept FIRST line as the title cost 0.012 F1 on
    # mozilla-readability-text in cross-validation: there it is usually the article's own heading.)
    if chosen is None and kept_head and start > 0 and first.label is not None:
        chosen = head if head is not None and head.words >= FALLBACK_TITLE_MIN_WORDS else None
    if chosen is not None:
        metadata.title = chosen.text
        chosen.keep, chosen.reason = False, "title"
        if chosen is not first and not first.keep and set(lower_tokens(chosen.text)) <= first_tokens:
            first.reason = "title"
    elif first.label is None and not first.keep:
        metadata.title = _SITE_SUFFIX.sub("", first.text)
        first.reason = "title"


def find_authors(lines: Sequence[Line], start: int, end: int, metadata: Metadata) -> None:
    """Authors from the nearest byline around the article; lines repeating a name become author-box."""
    window = range(max(0, start - BYLINE_WINDOW), min(len(lines), end + BYLINE_WINDOW))
    for i in sorted(window, key=lambda j: 0 if j < start else j - end + 1):
        line = lines[i]
        if line.label != "byline":
            continue
        names = cp.byline_names(line.text)
        if names is None and i + 1 < len(lines):
            nxt = lines[i + 1]
            if cp.BYLINE_LABEL_ONLY.match(line.text) and nxt.words <= NAME_MAX_WORDS and not nxt.terminal:
                names = [nxt.text]
                nxt.keep, nxt.reason = False, "byline"
        if names:
            metadata.authors = names
            break
    if metadata.authors:
        wanted = {name.lower() for name in metadata.authors}
        for line in lines:
            if line.text.lower() in wanted and line.reason not in {"byline", "title"}:
                line.keep, line.reason = False, "author-box"


_MONTH_NUMBERS: Final[dict[str, int]] = {}
for _number, _names in enumerate(
    (
        "jan january januar janvier enero gennaio janeiro января",
        "feb february februar février fevrier febrero febbraio fevereiro февраля",
        "mar march märz maerz mars marzo março марта",
        "apr april avril abril aprile апреля",
        "may mai mayo maggio maio мая",
        "jun june juni juin junio giugno junho июня",
        "jul july juli juillet julio luglio julho июля",
        "aug august août aout agosto августа",
        "sep sept september septembre septiembre settembre setembro сентября",
        "oct okt october oktober octobre octubre ottobre outubro октября",
        "nov november novembre noviembre novembro ноября",
        "dec dez december dezember décembre decembre diciembre dicembre dezembro декабря",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTH_NUMBERS[_name] = _number

_ISO: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY: Final = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_NAMED: Final = re.compile(
    r"(\d{1,2})?\.?\s*(?:de\s+)?([^\W\d_]+)\.?\s*(\d{1,2})?(?:st|nd|rd|th)?,?\s*(?:de\s+)?(\d{4})"
)
# Dates outside this range are typos or not article dates.
MIN_YEAR: Final = 1990
MAX_YEAR: Final = 2100


def parse_date(text: str) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date line, for the common numeric and month-name forms."""
    year = month = day = 0
    if match := _ISO.search(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.search(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _NAMED.search(text):
        month = _MONTH_NUMBERS.get(match.group(2).lower(), 0)
        day = int(match.group(1) or match.group(3) or 0)
        year = int(match.group(4))
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def find_date(lines: Sequence[Line], start: int, metadata: Metadata) -> None:
    """The date of a date line just before (or at the top of) the article."""
    lo, hi = max(0, start - BYLINE_WINDOW), min(len(lines), start + 3)
    for line in reversed(lines[lo:hi]):
        if line.label == "date" and (date := parse_date(line.text)):
            metadata.date = date
            return
