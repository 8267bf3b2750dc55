"""The one place trafilatura's extraction is called: tree in, our ``Article`` out.

trafilatura returns ``None`` for every kind of failure and names its fields its own way; here
its ``Document`` is mapped field by field into ``Metadata``, and "nothing found" becomes an
empty body with the warning ``no-main-content`` (never a ``None`` crossing a stage boundary).
A fresh ``Extractor`` is built for every call and deduplication is off, so no state is carried
from one page to the next (trafilatura#840, #925: not thread-safe; we run one page per process).

trafilatura's default (non-fast) cascade already runs readability on the page and throws its
answer away when it keeps its own. ``extract_candidates`` keeps that answer (converted to the same
XML vocabulary) as a second candidate for ``recover``: the comparison costs no second
readability pass.

Before extraction, blocks a reader never sees (``hidden``, hidden paragraphs) leave the tree and
are recorded as ``hidden`` removals. Dates come from htmldate's fast search, then its extensive
search without year-only guesses (a "Copyright 2024" footer is no publication date).
"""

from __future__ import annotations

import logging
import re
from copy import deepcopy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import htmldate.extractors as htmldate_extractors
import lxml.html
import trafilatura.external as trafilatura_external
from htmldate import find_date
from lxml import etree
from lxml.etree import XPath
from trafilatura import bare_extraction
from trafilatura.baseline import baseline
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Extractor, set_date_params

from service.models import Article, Metadata, Options, Removed

# trafilatura logs every discarded page at WARNING; the service reports that as a warning code.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

# Dates: htmldate's fast search first (markup, meta, JSON-LD, URL, <time>), its extensive search
# (free-text date expressions, then regexes over the page's source) only when that finds none,
# without dateparser, and a year-only answer of the extensive search ("YYYY-01-01": a copyright
# line's year, the page's lone year) is dropped: it is not a publication date. Measured with
# find_date on the 851 date-annotated pages of the trafilatura set (truth meta "date", "" = none):
#   extensive always          632 right (630 exact + 2 correct nulls), 121 dates where none
#   fast only                 655 right (601 + 54), 69 dates where none, ~3x less time
#   fast, then extensive      656 right (629 + 27), 96 dates where none
#   same, without dateparser  654 right (627 + 27), 96 dates where none, ~+1.2 ms/page over fast
# dateparser costs ~1.3 s in a fresh process on the first string no locale matches (it builds
# every locale's patterns), for 2 dates of 851. The fallback keeps "Last updated on May 02,
# 2024" in a footer (fixture html-docs-page) and drops a bare "Copyright 2024".
EXTENSIVE_DATE_SEARCH = False
_YEAR_ONLY_DATE = re.compile(r"^\d{4}-01-01$")

# favor=precision does not use trafilatura's fast path (fast=True: no readability/jusText
# comparison): measured in the same runs, F1 fell from 0.931 to 0.922 on the trafilatura set and
# from 0.945 to 0.919 on mozilla (recall 0.914 -> 0.864), for 1.76 -> 1.40 x trafilatura's time.

# Blocks a reader never sees: the ``hidden`` attribute (HTML: "not relevant"), and paragraphs
# whose inline style hides them. trafilatura's own display:none rule sits behind a guard that
# reverts it when it prunes much (as on short pages). Hidden *containers* (tabs, galleries,
# paywalled full texts, modals) are left to trafilatura: dropping every display:none /
# visibility:hidden element changed 5 pages of the trafilatura set (train +0.0007, held-out
# -0.0010: slideshow sections and tab panels are content there); this narrower rule changes no
# page there and fixes mozilla's hidden-nodes page (F1 0.48 -> 1.0, shingle F1 +0.006).
_HIDDEN = XPath(
    "//*[@hidden]"
    " | //p[@style][contains(translate(@style, ' ', ''), 'display:none')"
    " or contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)


def drop_hidden(tree: lxml.html.HtmlElement) -> list[Removed]:
    """Remove the hidden blocks of ``tree`` (in place), returning them as ``hidden`` removals."""
    removed: list[Removed] = []
    for element in _HIDDEN(tree):
        if element.tag in {"html", "head", "body"} or element.getparent() is None:
            continue
        text = " ".join(element.text_content().split())
        element.drop_tree()  # keeps the tail text, which is visible
        if text:
            removed.append(Removed(text=text, reason="hidden"))
    return removed


# A baseline rescue shorter than this is noise (a cookie line, a lone heading), not an article.
MIN_BASELINE_CHARS = 80


@dataclass
class Candidates:
    """trafilatura's answer and, when it ran and was not chosen, readability's."""

    article: Article
    readability_body: etree._Element | None = None


# The readability summaries trafilatura computed during the current call, first one first (a
# recall retry may run a second comparison on a pruned tree: only the first is on the full page).
_readability_runs: list[lxml.html.HtmlElement] = []
_original_try_readability = trafilatura_external.try_readability


def _recording_try_readability(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    summary = _original_try_readability(tree)
    _readability_runs.append(summary)
    return summary


# Module attribute patched once at import: compare_extraction looks the name up at call time.
trafilatura_external.try_readability = _recording_try_readability  # type: ignore[assignment]


def extract_article(tree: lxml.html.HtmlElement, url: str | None, options: Options) -> Article:
    """Run trafilatura on ``tree`` (left untouched: trafilatura works on a copy)."""
    return extract_candidates(tree, url, options).article


def extract_candidates(
    tree: lxml.html.HtmlElement, url: str | None, options: Options, with_readability: bool = True
) -> Candidates:
    """trafilatura's article plus (``with_readability``) readability's body when trafilatura
    computed and rejected it."""
    extractor = Extractor(
        # Any format but "python": bare_extraction then skips rendering the body as text, which
        # we do ourselves after cleaning (one xmltotxt pass less per page). The format is read
        # nowhere else in bare_extraction.
        output_format="txt",
        precision=options.favor == "precision",
        recall=options.favor == "recall",
        comments=options.comments,
        # Emphasis markup is only needed to render Markdown or HTML. Without it trafilatura is
        # ~1.8 ms/page faster (mozilla set, 24.5 -> 22.7 ms) and its choice of text changes on
        # ~40 % of pages; same-run F1 with / without: trafilatura set 0.9390 / 0.9404 (train
        # 0.9382 / 0.9399, held-out 0.9425 / 0.9426), mozilla 0.9755 / 0.9754. So ``text`` can
        # differ slightly when Markdown or HTML is requested too.
        formatting=needs_formatting(options),
        links=options.links,
        images=options.images,
        tables=options.tables,
        dedup=False,
        url=url,
        with_metadata=True,
        date_params=set_date_params(EXTENSIVE_DATE_SEARCH),
    )
    warnings: list[str] = []
    _readability_runs.clear()
    hidden = drop_hidden(tree)
    document = bare_extraction(tree, options=extractor)
    if document is None or isinstance(document, dict):
        metadata = map_metadata(extract_metadata(deepcopy(tree), url, extractor.date_params), url)
        metadata.date = metadata.date or _fallback_date(tree, url or metadata.url, extractor.date_params)
        body = _baseline_body(tree)
        warnings.append("no-main-content" if body is None else "fallback-extraction")
        article = Article(
            metadata=metadata,
            body=body if body is not None else etree.Element("body"),
            warnings=warnings,
            removed=hidden,
        )
        return Candidates(article)
    comments_body = document.commentsbody if options.comments else None
    metadata = map_metadata(document, url)
    metadata.date = metadata.date or _fallback_date(tree, url or metadata.url, extractor.date_params)
    metadata.authors = restore_author_spelling(metadata.authors, tree) or _meta_authors(tree)
    article = Article(metadata=metadata, body=document.body, comments_body=comments_body, removed=hidden)
    candidate = _readability_candidate(document.body, extractor) if with_readability else None
    _readability_runs.clear()
    return Candidates(article, candidate)


def needs_formatting(options: Options) -> bool:
    """Whether the body must keep emphasis and other inline formatting (Markdown, HTML)."""
    return "markdown" in options.formats or "html" in options.formats


def _readability_candidate(chosen: etree._Element, extractor: Extractor) -> etree._Element | None:
    """readability's summary in trafilatura's vocabulary, or None (not run, or already chosen)."""
    if not _readability_runs:
        return None
    summary = _readability_runs[0]
    _readability_runs.clear()
    # trafilatura converts the chosen summary in place: the body then is (or holds) that tree.
    if summary is chosen or summary.getroottree().getroot() is chosen.getroottree().getroot():
        return None
    if len(summary) == 0 and not (summary.text or "").strip():
        return None
    body, _text = trafilatura_external.sanitize_tree(summary, extractor)
    body.tag = "body"
    return body


def map_metadata(document: Any, url: str | None) -> Metadata:
    """trafilatura's Document -> our Metadata, field by field."""
    page_url = url or _clean(getattr(document, "url", None))
    hostname = _clean(getattr(document, "hostname", None))
    if not hostname and page_url:
        hostname = urlsplit(page_url).hostname
    return Metadata(
        title=_clean(document.title),
        authors=split_authors(document.author),
        date=_clean(document.date),
        sitename=_clean(document.sitename),
        hostname=hostname,
        url=page_url,
        language=_clean(getattr(document, "language", None)),
        description=_clean(document.description),
        categories=[c for c in (document.categories or []) if c],
        tags=[t for t in (document.tags or []) if t],
        image=_clean(document.image),
    )


def restore_author_spelling(authors: list[str], tree: lxml.html.HtmlElement) -> list[str]:
    """trafilatura title-cases author names ("admin" -> "Admin", "danah boyd" -> "Danah Boyd"):
    give back the page's own spelling when a meta author or author-marked element has it."""
    if not authors:
        return authors
    spellings: dict[str, str] = {}
    for raw in _AUTHOR_SOURCES(tree):
        for part in _AUTHOR_SEPARATORS.split(str(raw)):
            part = _BY_PREFIX.sub("", " ".join(part.split()))
            if part:
                spellings.setdefault(part.casefold(), part)
    return [spellings.get(name.casefold(), name) for name in authors]


def _meta_authors(tree: lxml.html.HtmlElement) -> list[str]:
    """``<meta name="author">`` when trafilatura found no author (it rejects e.g. CJK names)."""
    for content in tree.xpath('//meta[@name="author"]/@content'):
        names = [" ".join(n.split()) for n in _AUTHOR_SEPARATORS.split(str(content))]
        names = [n for n in names if 0 < len(n) <= MAX_META_AUTHOR_CHARS]
        if names:
            return list(dict.fromkeys(names))
    return []


# A meta author longer than this is a description or a site slogan, not a name.
MAX_META_AUTHOR_CHARS = 60

# Separators between names, or between a name and a date ("by gravelgreta » Sun Feb 11").
_AUTHOR_SEPARATORS = re.compile(r"\s*[;,»|·•]\s*|\s+(?:and|und|y|et)\s+")
_BY_PREFIX = re.compile(r"^(?:by|von|por|par)\s+", re.IGNORECASE)


# Where a page spells its authors: meta tags and elements marked as author (rel, class, itemprop).
_AUTHOR_SOURCES = XPath(
    '//meta[@name="author" or @property="article:author" or @name="dc.creator"]/@content'
    '|//*[@rel="author" or @itemprop="author" or contains(@class, "author")]//text()'
)


def split_authors(raw: str | None) -> list[str]:
    """trafilatura joins authors with '; '."""
    if not raw:
        return []
    # trafilatura sometimes keeps what follows the name in a byline ("Gravelgreta » Sun Feb").
    names = (_NAME_TAIL.split(part)[0].strip() for part in raw.split(";"))
    return list(dict.fromkeys(name for name in names if name))


_NAME_TAIL = re.compile(r"\s*[»|·•]")


def _fallback_date(tree: lxml.html.HtmlElement, url: str | None, date_params: dict[str, Any]) -> str | None:
    """htmldate's extensive search, for a page the fast search found no date on; year-only
    guesses are no publication date (see ``EXTENSIVE_DATE_SEARCH``)."""
    external_parser = htmldate_extractors._external_date
    htmldate_extractors._external_date = _no_external_date  # type: ignore[assignment]  # one page per process
    try:
        found = find_date(tree, **{**date_params, "extensive_search": True, "url": url})
    finally:
        htmldate_extractors._external_date = external_parser
    if not found or _YEAR_ONLY_DATE.match(found):
        return None
    return str(found)


def _no_external_date(_string: str) -> None:
    """Stands in for htmldate's dateparser call during the fallback search (see above)."""
    return


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _baseline_body(tree: lxml.html.HtmlElement) -> etree._Element | None:
    body, text, _length = baseline(tree)
    if len(text.strip()) < MIN_BASELINE_CHARS:
        return None
    return body
