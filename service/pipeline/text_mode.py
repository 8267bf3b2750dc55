"""Plain-text mode: clean the text a naive extractor (or a browser copy) gave of a web page.

Input is one block per line, the article together with the page's clutter. This module owns
the whole text-mode cleaning, in four steps:

1. every non-empty line gets features and, if it matches the multilingual vocabulary of
   ``clutter_patterns``, a clutter label (``text_features``);
2. each line gets a density score (long, function-word rich prose scores its word count; short
   lines, clutter and teasers cost) and the rule region is the contiguous run of lines with
   the best total (maximum-sum subarray, like BTE/CETR over lines instead of tags);
3. the learned line classifier (``text_model``: two small gradient-boosted tree ensembles over the
   features of a line and its neighbours, the rule score and region included, then over the first
   stage's probabilities around the line) keeps the lines it gives at least its keep threshold (fitted with it).
   Without a model file, or when the model keeps nothing, the rules decide: unlabelled lines of
   the region stay, everything else goes;
4. metadata: the title (a heading-shaped line before the article, preferring one that the page's
   first line, usually the HTML ``<title>``, contains), authors from a byline, the date from a
   date line near the article start.

Reason codes in ``Article.removed``:
    title            the title line (it goes to metadata, not text)
    byline           "By Jane Doe", "Published by" + name, "Von ...", "Por ...", "Автор: ..."
    author-box       a line repeating the byline's name (the author box)
    date             a date line (used for metadata.date when near the article start)
    relative-date    a teaser's age: "2 hours ago", "vor 3 Stunden", "hace 2 días", "2小时前"
    share-buttons    share/social lines: "Share", "Tweet", "Teilen", "Facebook"
    related-links    the heading of a teaser list: "Recent Posts", "Mehr zum Thema", "Читайте также"
    teaser           a line of a teaser list (after a related-links heading)
    read-more        "Read more", "Weiterlesen", "Leer más"
    image-credit     "Image source: X", "Foto: X", "Photo: X", "(c) Getty Images"
    newsletter       newsletter / subscribe box lines
    cookie-banner    cookie and consent banner lines
    footer           copyright, imprint, privacy, terms lines
    comments         the comment section (kept as ``comments_body`` when ``options.comments``)
    tags             "Tags: ...", "Posted in: ...", "Kategorien: ..."
    pagination       "Next post", "« Older", "Page 2 of 5"
    navigation       menu lines, and short lines before the article
    boilerplate      anything else the classifier dropped, and box controls ("OK", "Accept")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from lxml import etree

from service.models import Article, Metadata, Options, Removed
from service.pipeline import clutter_patterns as cp
from service.pipeline import text_model
from service.pipeline.text_features import Line, count_words, make_line

# --- region scoring constants: hand-set, then checked by small sweeps on 80 % of two dev text sets
# (a page-level split, before the site-grouped CV of scripts/train_text_model.py --cv); they are
# inputs of the model, not refitted per fold ---
# A line is prose when it has at least this many words ...
PROSE_MIN_WORDS: Final = 10
# ... and at least this share of function words (menus and teaser titles have few). Swept over
# 0.08/0.12/0.16 on the train split (ids with sha1 % 5 != 0): 0.08 best on both sets, by a little.
PROSE_MIN_STOP: Final = 0.08
# Lines this long are prose whatever their function words (lists of names/numbers aside, rare).
PROSE_ANY_WORDS: Final = 30
# ... but even those need some function words: long link lists, markup and code have next to none
# (swept 0.0/0.05 on the train split: 0.05 gained +0.005 F1 on trafilatura-text).
PROSE_ANY_STOP: Final = 0.05
# CJK lines need this many times PROSE_MIN_WORDS (folded words) to count as prose without a final stop.
CJK_PROSE_FACTOR: Final = 2
# A short line (heading, menu item, caption) costs this much inside the region (swept 1.5/3/5:
# 5 is +0.003 on trafilatura-text but -0.01 on mozilla-readability-text; 3 is the compromise).
SHORT_LINE_COST: Final = 3.0
# A line labelled clutter costs more: crossing a share bar or byline is cheap, not free.
CLUTTER_COST: Final = 8.0
# Teaser-list and comment headings end the article: crossing one must cost more than a paragraph.
BOUNDARY_COST: Final = 60.0
BOUNDARY_LABELS: Final = frozenset({"related-links", "comments"})
# A short line that occurs more than once on the page is a menu or teaser entry, twice as suspicious.
REPEATED_COST: Final = 6.0
# A medium line (a short sentence) counts this fraction of its words.
MEDIUM_LINE_WEIGHT: Final = 0.5
MEDIUM_MIN_WORDS: Final = 5

# --- metadata constants ---
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
_BULLET_MARK: Final = re.compile(r"^(?:[•·▪◦‣∙*\-–—])\s+")
_TOKEN: Final = re.compile(r"\w+", re.UNICODE)
# Characters XML (and so lxml) cannot hold: C0 controls other than tab/newline, lone surrogates, FFFE/FFFF.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str, options: Options, url: str | None) -> Article:
    """Clean one page's text: the article's lines as ``<p>``/``<head>``/``<list>``, the rest explained."""
    lines, start, end = analyse(text)
    return clean_lines(lines, start, end, options, url)


def clean_lines(lines: list[Line], start: int, end: int, options: Options, url: str | None) -> Article:
    """``clean_text`` after ``analyse`` (the trainer analyses a page once, then decides many times).

    The lines are changed (kept, reasons): pass copies to decide again.
    """
    metadata = Metadata(url=url)
    body = etree.Element("body")
    article = Article(metadata=metadata, body=body)
    if not lines:
        return article
    rule_keep = [start <= i < end and line.label is None for i, line in enumerate(lines)]
    keep = rule_keep
    model = text_model.load_model()
    if model is not None:
        prose = [_is_prose(line) for line in lines]
        probs = model.predict(text_model.line_features(lines, start, end, prose), [line.text for line in lines])
        # The model decides alone, clutter labels included (they are among its features): a rule
        # dropping every labelled line whatever the model said did not gain in site-grouped CV
        # (scripts/train_text_model.py, threshold 0.5, with two trial features since dropped:
        # without the rule 0.8873 / 0.8997 / 0.9351, with it 0.8870 / 0.8985 / 0.9353).
        keep = [bool(p >= model.keep_threshold) for p in probs]
        if not any(keep):
            keep = rule_keep  # the model found no article at all: the rules' answer beats an empty one
        kept = [i for i, k in enumerate(keep) if k]
        if kept:
            start, end = kept[0], kept[-1] + 1
    _assign(lines, start, end, keep)
    _find_title(lines, start, metadata)
    _find_authors(lines, start, end, metadata)
    _find_date(lines, start, metadata)
    comments = _comment_lines(lines, end)
    _build_body(body, [line for line in lines if line.keep])
    if options.comments and comments:
        article.comments_body = etree.Element("body")
        for line in comments:
            etree.SubElement(article.comments_body, "p").text = line.text
    article.removed = [Removed(text=line.text, reason=line.reason or "boilerplate") for line in lines if not line.keep]
    return article


def analyse(text: str) -> tuple[list[Line], int, int]:
    """The page's lines with features, clutter labels and rule scores, and the rule region [start, end)."""
    lines = _split(text)
    if not lines:
        return lines, 0, 0
    for line in lines:
        line.score = _score(line)
    # (A rule labelling a line "teaser" when it ends in an ellipsis or comes right before a
    # relative date ("2 hours ago") was deleted: without it the site-grouped CV gained on all three
    # sets, 0.8865/0.9090/0.9288 -> 0.8892/0.9111/0.9309; the model sees both signals as features.)
    start, end = _best_region(lines)
    return lines, start, end


def _split(text: str) -> list[Line]:
    """Non-empty lines, numbered, with their blank-line separated block numbers."""
    lines: list[Line] = []
    seen: dict[str, Line] = {}
    block = 0
    for raw in _NOT_XML.sub("", text).splitlines():
        stripped = raw.strip()
        if not stripped:
            block += 1
            continue
        if (earlier := seen.get(stripped)) is not None:
            # A repeated line (menus often come twice) has the same features: copy, do not recompute.
            line = replace(earlier, index=len(lines), block=block)
            earlier.repeated = line.repeated = True
        else:
            line = make_line(len(lines), stripped, block)
        seen[stripped] = line
        lines.append(line)
    return lines


def _is_prose(line: Line) -> bool:
    if line.words >= PROSE_ANY_WORDS and (line.stop_ratio >= PROSE_ANY_STOP or line.cjk):
        return True
    if line.cjk and line.words >= PROSE_MIN_WORDS * CJK_PROSE_FACTOR:
        return True  # Chinese/Japanese paragraphs often lack a final stop in copied text
    # Without a sentence end, a line of this length is a title or teaser heading, not a paragraph.
    return line.words >= PROSE_MIN_WORDS and line.stop_ratio >= PROSE_MIN_STOP and line.terminal


def _score(line: Line) -> float:
    """Density score: prose earns its words, everything else costs."""
    if line.label in BOUNDARY_LABELS:
        return -BOUNDARY_COST
    if line.label is not None:
        return -CLUTTER_COST
    if line.repeated and not _is_prose(line):
        return -REPEATED_COST
    if line.truncated and not line.terminal:
        return -max(line.words, SHORT_LINE_COST)
    if _is_prose(line):
        return line.words
    if line.words >= MEDIUM_MIN_WORDS and line.terminal and line.stop_ratio >= PROSE_MIN_STOP:
        return line.words * MEDIUM_LINE_WEIGHT
    return -SHORT_LINE_COST


def _best_region(lines: Sequence[Line]) -> tuple[int, int]:
    """The contiguous run of lines [start, end) with the highest total score (Kadane, O(n))."""
    best, best_start, best_end = float("-inf"), 0, 0
    total, start = 0.0, 0
    for i, line in enumerate(lines):
        if total <= 0:
            total, start = 0.0, i
        total += line.score
        if total > best:
            best, best_start, best_end = total, start, i + 1
    if best <= 0:
        return 0, len(lines)  # no prose anywhere: keep what is not labelled clutter
    return best_start, best_end


def _assign(lines: Sequence[Line], start: int, end: int, keep: Sequence[bool]) -> None:
    """Keep the chosen lines; give every other line its reason (the article span is [start, end))."""
    section: str | None = None  # the reason that carries over after a boundary heading
    for i, line in enumerate(lines):
        if keep[i]:
            line.keep, line.reason = True, None
            continue
        if start <= i < end and line.label is not None:
            line.reason = line.label
            continue
        if line.label in BOUNDARY_LABELS:
            section = "teaser" if line.label == "related-links" else "comments"
        elif line.label == "footer":
            section = "footer"
        if section == "comments" and line.label in {"newsletter", None}:
            line.reason = "comments"  # commenter names, their texts and the reply form
        elif line.label is not None:
            line.reason = line.label
        elif i < start:
            line.reason = "navigation" if not _is_prose(line) else "boilerplate"
        else:
            line.reason = section or "boilerplate"


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _heading_shaped(line: Line) -> bool:
    return (
        TITLE_MIN_WORDS <= line.words <= TITLE_MAX_WORDS
        and line.label is None
        and not line.truncated
        and not line.text.endswith((".", ",", ";", ":"))
        and not line.bullet
    )


def _find_title(lines: Sequence[Line], start: int, metadata: Metadata) -> None:
    """The title: a heading-shaped line before the article, preferring one the first line contains."""
    first = lines[0]
    first_tokens = set(_tokens(first.text))
    lo = max(1, start - TITLE_LOOKBACK)
    # When the classifier kept the article's heading (its first kept line, heading-shaped and not
    # prose), that heading is still a title candidate, but only with the first line's confirmation.
    head = lines[start] if start < len(lines) else None
    kept_head = head is not None and head.keep and _heading_shaped(head) and not _is_prose(head)
    top = start + 1 if kept_head and start > 0 else start
    chosen: Line | None = None
    for line in reversed(lines[lo:top]):
        tokens = _tokens(line.text)
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
        if chosen is not first and not first.keep and set(_tokens(chosen.text)) <= first_tokens:
            first.reason = "title"
    elif first.label is None and not first.keep:
        metadata.title = _SITE_SUFFIX.sub("", first.text)
        first.reason = "title"


def _find_authors(lines: Sequence[Line], start: int, end: int, metadata: Metadata) -> None:
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


def _find_date(lines: Sequence[Line], start: int, metadata: Metadata) -> None:
    """The date of a date line just before (or at the top of) the article."""
    lo, hi = max(0, start - BYLINE_WINDOW), min(len(lines), start + 3)
    for line in reversed(lines[lo:hi]):
        if line.label == "date" and (date := parse_date(line.text)):
            metadata.date = date
            return


def _comment_lines(lines: Sequence[Line], end: int) -> list[Line]:
    """The prose lines of a comment section after the article, for ``comments_body``."""
    return [line for line in lines[end:] if line.reason == "comments" and line.label is None and _is_prose(line)]


def _build_body(body: etree._Element, kept: Sequence[Line]) -> None:
    """Kept lines as ``<p>``, bullet runs as ``<list><item>``, short lines before prose as ``<head>``."""
    current_list: etree._Element | None = None
    for i, line in enumerate(kept):
        if line.bullet:
            if current_list is None:
                current_list = etree.SubElement(body, "list")
            # The marker goes: the serializer draws its own ("- " in text and Markdown).
            etree.SubElement(current_list, "item").text = _BULLET_MARK.sub("", line.text, count=1)
            continue
        current_list = None
        nxt = kept[i + 1] if i + 1 < len(kept) else None
        is_head = (
            nxt is not None
            and _is_prose(nxt)
            and not _is_prose(line)
            and not line.terminal
            and count_words(line.text)[0] <= TITLE_MAX_WORDS
        )
        etree.SubElement(body, "head" if is_head else "p").text = line.text
