"""The publication date of an HTML page: htmldate's fast search, then the free-text stage of its
extensive search, run last because it prunes the tree in place (``metadata`` gives the rest of
the page's metadata; ``pipeline.run`` calls ``find_publication_date`` once nothing else reads
the tree).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

import htmldate.core as htmldate_core
import htmldate.extractors as htmldate_extractors
import lxml.html
from dateutil.parser import parse as dateutil_parse
from htmldate import find_date
from htmldate.core import compare_reference
from htmldate.extractors import FREE_TEXT_EXPRESSIONS
from htmldate.settings import MAX_SEGMENT_LEN, MIN_SEGMENT_LEN
from htmldate.utils import Extractor as DateOptions
from htmldate.validators import check_extracted_reference, get_max_date, get_min_date

from service.pipeline.library_swaps import swapped
from service.pipeline.metadata import clean_field

# Dates: htmldate's fast search first (markup, meta, JSON-LD, URL, <time>); when that finds none,
# its extensive search (free-text date expressions near date-like markup) without its last resort,
# regexes over the page's whole source (``search_page``: 60 % of the fallback's time, and the
# source of copyright years and numbers in URLs), without dateparser, and a year-only answer
# ("YYYY-01-01": a copyright line's year) is dropped: it is not a publication date. Measured on
# the 851 date-annotated pages of the trafilatura set (truth meta "date", "" = none; a right
# answer is the exact date, or none where there is none), find_date time per page:
#   fast only                                   656 right, 155 other dates, 40 missing, 1.5 ms
#   fast, then extensive with search_page       654 right, 193 other dates,  4 missing, 3.5 ms
#   fast, then extensive without search_page    669 right, 166 other dates, 16 missing, 2.3 ms
# The last variant is what runs (``_fallback_date``: only its free-text stage, which found every
# one of its dates). dateparser costs ~1.3 s in a fresh process on the first string no locale
# matches (it builds every locale's patterns), for 2 dates of 851. "Last updated on May 02, 2024"
# in a footer (fixture html-docs-page) is kept (the fast search's patterns find it), a bare
# "Copyright 2024" is not.
EXTENSIVE_DATE_SEARCH = False
_YEAR_ONLY_DATE = re.compile(r"^\d{4}-01-01$")


def find_publication_date(
    tree: lxml.html.HtmlElement, date_url: str | None, date_params: dict[str, Any], fallback: bool
) -> str | None:
    """htmldate's fast search, then (``fallback``) its extensive one (see ``EXTENSIVE_DATE_SEARCH``;
    about half of the dates the fallback adds are right).

    Consumes ``tree``: htmldate prunes the tree it searches, and here it does so in place instead of
    on a deep copy (0.4 ms a page), so this runs last, once nothing else reads the tree; the
    fallback then reads the pruned tree, as htmldate's extensive search would (same answers on
    all 1,045 pages of both bench sets as with copies).
    """
    with swapped(htmldate_core, "deepcopy", _no_copy), swapped(htmldate_extractors, "dateutil_parse", _whole_date):
        found = find_date(tree, **{**date_params, "url": date_url})
        if not found and fallback:
            found = _fallback_date(tree, date_params)
    return clean_field(found)


def _no_copy(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    return tree


def _whole_date(string: str, **options: Any) -> datetime:
    """dateutil's parse for htmldate, refusing a date without a day: dateutil fills a missing day
    or month from today, so "2023-02" was 2023-02-07 on the 7th of any month. Refused, htmldate
    goes on to its own year-month reading (the 1st, its convention for a month).

    Raises:
        ValueError: ``string`` is no date, or lacks its day or month.
    """
    first: datetime = dateutil_parse(string, default=_DEFAULTS[0], **options)
    if dateutil_parse(string, default=_DEFAULTS[1], **options) != first:
        raise ValueError(f"no whole date: {string!r}")
    return first


# Two fill-ins for the parts of a date a string leaves out, differing in the month and the day.
_DEFAULTS = (datetime(2001, 1, 1), datetime(2001, 3, 3))


def _fallback_date(tree: lxml.html.HtmlElement, date_params: dict[str, Any]) -> str | None:
    """The last stage of htmldate's extensive search, for a page its fast search found no date
    on (see ``EXTENSIVE_DATE_SEARCH``): dates in the text of date-like markup, without dateparser;
    year-only guesses are no publication date.

    ``tree`` is the one the fast search just pruned in place (``find_publication_date``), which
    is what the extensive search reads too. The stages before this one in the extensive search
    repeat the fast search's with looser rules: on the 851 date-annotated pages of the trafilatura
    set they found nothing the fast search had not (every fallback date, 18 right and 11 wrong,
    came from this stage), so they are skipped: ~3.5 ms less on each page without a fast date.
    """
    options = _extensive_date_options(date_params["max_date"], date_params["original_date"])
    with swapped(htmldate_extractors, "_external_date", _no_external_date):
        reference = None
        for segment in FREE_TEXT_EXPRESSIONS(tree):
            segment = segment.strip()
            if MIN_SEGMENT_LEN < len(segment) < MAX_SEGMENT_LEN:
                reference = compare_reference(reference, segment, options)
        found = check_extracted_reference(reference, options)
    if not found or _YEAR_ONLY_DATE.match(found):
        return None
    return str(found)


@functools.lru_cache(maxsize=4)
def _extensive_date_options(max_date: str, original_date: bool) -> DateOptions:
    """htmldate's options for its extensive search (cached: htmldate caches on their identity)."""
    return DateOptions(True, get_max_date(max_date), get_min_date(None), original_date, "%Y-%m-%d")


def _no_external_date(_string: str) -> None:
    """Stands in for htmldate's dateparser call during the fallback search (see above)."""
    return
