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
4. metadata (``text_metadata``): the title, the authors of a byline, the date of a date line.

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
from service.pipeline import select, text_features, text_metadata, text_model
from service.pipeline.text_features import Line, count_words, is_prose, make_line

# --- region scoring constants: hand-set, then checked by small sweeps on 80 % of two dev text sets
# (a page-level split, before the site-grouped CV of scripts/train_text_model.py --cv); they are
# inputs of the model, not refitted per fold ---
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


_BULLET_MARK: Final = re.compile(r"^(?:[•·▪◦‣∙*\-–—])\s+")
# Characters XML (and so lxml) cannot hold: C0 controls other than tab/newline, lone surrogates, FFFE/FFFF.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str, options: Options, url: str | None) -> Article:
    """Clean one page's text: the article's lines as ``<p>``/``<head>``/``<list>``, the rest explained."""
    lines, start, end = analyse(text)
    article = clean_lines(lines, start, end, options, url)
    article.warnings += select.ignored_in_text_mode(options)
    return article


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
        prose = [is_prose(line) for line in lines]
        probs = model.predict(text_model.line_features(lines, start, end, prose), [line.text for line in lines])
        # The model decides alone, clutter labels included (they are among its features): a rule
        # dropping every labelled line whatever the model said did not gain in site-grouped CV
        # (scripts/train_text_model.py, threshold 0.5, with two trial features since dropped:
        # without the rule 0.8873 / 0.8997 / 0.9351, with it 0.8870 / 0.8985 / 0.9353).
        keep = model.keep(probs, [line.text for line in lines])
        if not any(keep):
            keep = rule_keep  # the model found no article at all: the rules' answer beats an empty one
        kept = [i for i, k in enumerate(keep) if k]
        if kept:
            start, end = kept[0], kept[-1] + 1
    _assign(lines, start, end, keep)
    text_metadata.find_title(lines, start, metadata)
    text_metadata.find_authors(lines, start, end, metadata)
    text_metadata.find_date(lines, start, metadata)
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


def _score(line: Line) -> float:
    """Density score: prose earns its words, everything else costs."""
    if line.label in BOUNDARY_LABELS:
        return -BOUNDARY_COST
    if line.label is not None:
        return -CLUTTER_COST
    if line.repeated and not is_prose(line):
        return -REPEATED_COST
    if line.truncated and not line.terminal:
        return -max(line.words, SHORT_LINE_COST)
    if is_prose(line):
        return line.words
    if line.words >= MEDIUM_MIN_WORDS and line.terminal and line.stop_ratio >= text_features.PROSE_MIN_STOP:
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
            line.reason = "navigation" if not is_prose(line) else "boilerplate"
        else:
            line.reason = section or "boilerplate"


def _comment_lines(lines: Sequence[Line], end: int) -> list[Line]:
    """The prose lines of a comment section after the article, for ``comments_body``."""
    return [line for line in lines[end:] if line.reason == "comments" and line.label is None and is_prose(line)]


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
            and is_prose(nxt)
            and not is_prose(line)
            and not line.terminal
            and count_words(line.text)[0] <= text_metadata.TITLE_MAX_WORDS
        )
        etree.SubElement(body, "head" if is_head else "p").text = line.text
